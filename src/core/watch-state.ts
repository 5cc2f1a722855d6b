// What a watch knows, built from connection events alone: the counters (the watch's and the TUI's
// baseline), the peer rows, the live-count history and the findings. The reconciler (reconciler.ts)
// turns polls into events; a replay feeds the events a recording holds. Both arrive at the same
// state because nothing here looks at a snapshot: `open`, `close`, `state` and `poll` events are
// the whole input (see TrackerEvent in tracker-types.ts).
//
// - Listening sockets get events but are not connections: they stay out of every count here but
//   `listening`.
// - A poll event is a live-count sample and a findings evaluation; what a poll changed that no
//   other event says (exchange counts of live connections, likely-brief and unattributed brief
//   connections) rides on it.
// - restart(atMs) starts the counters afresh (the watch's first poll, or the first of a process
//   that took over the PID); the history and the finding episodes run on.
import type { Connection, Endpoint } from '../model';
import type { DescribeFinding, Finding, LastingFinding, LiveCountSample, PollEvent, StatsScope, TrackedConnection, TrackerEvent, TrackerStats, UnattributedBrief } from './tracker-types';
import type { PeerStats } from './peer-stats';
import { PeerBook } from './peer-stats';
import { CounterSet } from './counters';
import { FindingLog } from './finding-log';
import { RingBuffer } from './ring-buffer';
import { WindowCounter, perMinute } from './rate';
import { formatEndpoint } from './endpoint';
import { BoundedCounts, remoteKey } from './lifecycle-match';
import {
  CHURN_SAMPLE_LIMIT,
  carriesReuse,
  churnSampleOf,
  churningPeers,
  closesInChurnWindow,
  computeFindings,
  type ClosedSample,
  type CloseWaitCandidate,
  type FindingsInput,
  type ReuseCandidate,
} from './findings';

/** remote endpoints counted apart for unattributed brief connections (the rest are summed as other) */
export const UNATTRIBUTED_MAX_REMOTES = 1_000;

/** What the watch state takes from a connection of an event: facts, never a live record. */
export interface ConnectionFacts {
  id: string;
  connection: Pick<Connection, 'protocol' | 'local' | 'remote' | 'state' | 'direction' | 'pid'>;
  firstSeenMs: number;
  preexisting: boolean;
  exchanges?: number;
}

/** The events the watch state is fed: TrackerEvents, whose connections may be bare facts. */
export type StateEvent =
  | { type: 'open'; atMs: number; conn: ConnectionFacts }
  | Exclude<TrackerEvent, { type: 'open' }>;

/** A live connection as the watch state keeps it: small, one shape, no copy of the source's data. */
class LiveFact {
  readonly connection: Connection;
  stateSinceMs: number;
  exchanges: number | undefined;
  constructor(
    readonly id: string,
    c: ConnectionFacts['connection'],
    readonly firstSeenMs: number,
    readonly preexisting: boolean,
    exchanges: number | undefined,
    readonly listener: boolean,
  ) {
    // endpoints are never changed once made (model.ts): shared, not copied
    this.connection = { protocol: c.protocol, local: c.local, remote: c.remote, state: c.state, inode: 0 };
    if (c.direction !== undefined) this.connection.direction = c.direction;
    this.stateSinceMs = firstSeenMs;
    this.exchanges = exchanges;
  }
}

export class WatchState {
  // Counters: the watch's (summary) and the display baseline's (TUI `r`).
  private readonly watch = new CounterSet();
  private readonly view = new CounterSet();
  private readonly peerBook = new PeerBook();
  private readonly samples: RingBuffer<LiveCountSample>;
  /** live connections and listeners, in open order */
  private readonly live = new Map<string, LiveFact>();
  private listenerCount = 0;
  /** the counts the poll events reported (a recording through a lens lacks some opens and closes) */
  private reported: { live: number; listening: number } | undefined;
  private started = false;
  private firstPollMs = 0;
  private latestMs = -Infinity;
  // What the findings rest on: the whole watch, never reset by `r`.
  private readonly recentCloses = new WindowCounter();
  private readonly closedSamples = new RingBuffer<ClosedSample>(CHURN_SAMPLE_LIMIT);
  private reusedClosed = 0;
  private bestClosed: ReuseCandidate | undefined;
  private lastInput: FindingsInput | undefined;
  private readonly findingLog = new FindingLog();
  private readonly unattributed = new BoundedCounts(UNATTRIBUTED_MAX_REMOTES);

  constructor(
    historySize: number,
    private readonly describeFinding: DescribeFinding,
  ) {
    this.samples = new RingBuffer<LiveCountSample>(historySize);
  }

  /** The counters start here (the first poll of the watch, or of a process that took over the PID). */
  restart(atMs: number): void {
    const live = this.liveCount();
    this.started = true;
    this.firstPollMs = atMs;
    this.latestMs = Math.max(this.latestMs, atMs);
    this.watch.reset(atMs, live);
    this.view.reset(atMs, live);
    this.recentCloses.clear();
    this.closedSamples.clear();
    this.reusedClosed = 0;
    this.bestClosed = undefined;
    this.peerBook.clear();
  }

  /** Takes one event; a poll event returns the finding events its evaluation made. */
  apply(e: StateEvent): TrackerEvent[] {
    switch (e.type) {
      case 'open':
        this.opened(e.conn, e.atMs);
        return [];
      case 'state': {
        const f = this.live.get(e.conn.id);
        if (f !== undefined) {
          f.connection.state = e.to;
          f.stateSinceMs = e.atMs;
        }
        return [];
      }
      case 'close':
        if (e.brief === true) this.briefClosed(e.conn, e.lifetimeMs);
        else this.closed(e.conn, e.atMs, e.lifetimeMs, e.cause === 'exit');
        return [];
      case 'poll':
        return this.polled(e);
      case 'finding':
      case 'exit':
        return [];
    }
  }

  private opened(c: ConnectionFacts, atMs: number): void {
    const listener = c.connection.state === 'LISTEN';
    this.live.set(c.id, new LiveFact(c.id, c.connection, c.firstSeenMs, c.preexisting, c.exchanges, listener));
    if (listener) {
      this.listenerCount++;
      return;
    }
    if (c.preexisting) return;
    this.peerBook.opened(c.connection, atMs);
    this.watch.opens(atMs, 1);
    this.view.opens(atMs, 1);
  }

  /**
   * A connection that closed; `withExit`: it closed because its process went away. Exit closes are
   * real lifetimes, but a process exiting with ten connections is not ten connections churned.
   */
  private closed(c: TrackedConnection, at: number, lifetimeMs: number, withExit: boolean): void {
    const f = this.live.get(c.id);
    // a close of a connection never opened here (a damaged recording lost its open) is not counted
    if (f === undefined) return;
    this.live.delete(c.id);
    if (f.listener) {
      this.listenerCount--;
      return;
    }
    const known = c.preexisting ? undefined : lifetimeMs;
    const exchanges = c.exchanges;
    this.peerBook.closed(c.connection, at, known, exchanges);
    this.watch.closes(c.preexisting, known);
    this.view.closes(c.preexisting, known);
    const sample = churnSampleOf({ preexisting: c.preexisting, withExit, state: c.connection.state, atMs: at, lifetimeMs, exchanges });
    if (sample !== undefined) this.churnSample({ ...sample, peer: this.peerBook.keyOf(c.connection) });
    if (exchanges !== undefined) this.reuseSample(c, exchanges, at);
  }

  /** A connection of the target that opened and closed between two polls (its only event). */
  private briefClosed(c: TrackedConnection, lifetimeMs: number): void {
    // the end, as the recording has it too: a brief connection's times are its start and lifetime
    const endMs = c.firstSeenMs + lifetimeMs;
    const exchanges = c.exchanges;
    this.peerBook.opened(c.connection, c.firstSeenMs);
    this.peerBook.closed(c.connection, endMs, lifetimeMs, exchanges);
    for (const set of [this.watch, this.view]) {
      set.opens(endMs, 1);
      set.closes(false, lifetimeMs);
      set.brief++;
    }
    const sample = churnSampleOf({ preexisting: false, withExit: false, state: c.connection.state, atMs: endMs, lifetimeMs, exchanges });
    if (sample !== undefined) this.churnSample({ ...sample, brief: true, peer: this.peerBook.keyOf(c.connection) });
    if (exchanges !== undefined) this.reuseSample(c, exchanges, endMs);
  }

  private polled(e: PollEvent): TrackerEvent[] {
    const now = Math.max(e.atMs, this.latestMs);
    this.latestMs = now;
    for (const u of e.exchanges ?? []) {
      const f = this.live.get(u.id);
      if (f !== undefined) f.exchanges = u.exchanges;
    }
    for (const b of e.likelyBrief ?? []) {
      this.watch.likelyBrief++;
      this.view.likelyBrief++;
      if (b.closeWait === true) continue;
      const s: ClosedSample = { atMs: b.atMs, lifetimeMs: b.lifetimeMs, brief: true, likely: true, peer: this.peerBook.keyOf({ local: b.local, remote: b.remote, direction: 'out' }) };
      if (b.exchanges !== undefined) s.exchanges = b.exchanges;
      this.churnSample(s);
    }
    for (const remote of e.unattributed ?? []) this.unattributed.add(remote);
    if (e.live !== undefined && e.listening !== undefined) this.reported = { live: e.live, listening: e.listening };
    const live = this.liveCount();
    this.watch.live(live);
    this.view.live(live);
    this.samples.push({ atMs: now, count: live });
    this.lastInput = this.findingsInput(now);
    return this.findingLog
      .update(this.computeAt(now), now, e.atExit === true ? 'exit' : undefined)
      .map((c) => {
        const out: TrackerEvent = { type: 'finding', atMs: now, change: c.change, finding: c.finding };
        if (c.finding.cause !== undefined) out.cause = c.finding.cause;
        return out;
      });
  }

  /** What the findings need of the live connections, as of this poll. */
  private findingsInput(now: number): FindingsInput {
    const closeWait: CloseWaitCandidate[] = [];
    let bestLive: ReuseCandidate | undefined;
    let reusedLive = 0;
    for (const f of this.live.values()) {
      if (f.listener) continue;
      if (f.connection.state === 'CLOSE_WAIT') closeWait.push({ id: f.id, sinceMs: f.stateSinceMs });
      const exchanges = f.exchanges;
      if (!carriesReuse(exchanges) || exchanges === undefined) continue;
      reusedLive++;
      if (bestLive === undefined || exchanges > bestLive.exchanges) {
        bestLive = { id: f.id, connection: f.connection, exchanges, firstSeenMs: f.firstSeenMs, preexisting: f.preexisting, peer: this.peerBook.keyOf(f.connection) };
      }
    }
    return {
      nowMs: now,
      closeWait,
      history: this.samples.toArray(),
      recentCloses: this.closedSamples.toArray(),
      closesInWindow: 0,
      closesPerMinute: 0,
      bestLive,
      bestClosed: this.bestClosed,
      reused: reusedLive + this.reusedClosed,
    };
  }

  private churnSample(s: ClosedSample): void {
    this.recentCloses.add(s.atMs, 1);
    this.closedSamples.push(s);
  }

  private reuseSample(c: TrackedConnection, exchanges: number, closedAtMs: number): void {
    if (!carriesReuse(exchanges)) return;
    this.reusedClosed++;
    if (this.bestClosed === undefined || exchanges > this.bestClosed.exchanges) {
      const peer = this.peerBook.keyOf(c.connection);
      this.bestClosed = { id: c.id, connection: c.connection, exchanges, firstSeenMs: c.firstSeenMs, closedAtMs, preexisting: c.preexisting, peer };
    }
  }

  private computeAt(nowMs: number): Finding[] {
    if (this.lastInput === undefined) return [];
    const closesInWindow = this.recentCloses.sum(nowMs);
    const drawn = computeFindings({
      ...this.lastInput,
      nowMs,
      closesInWindow,
      closesPerMinute: perMinute(closesInWindow, nowMs - this.watch.sinceMs),
    });
    return drawn.map(({ facts, subject }) => {
      const { kind, ...rest } = facts;
      return { kind, message: this.describeFinding(facts, subject), ...rest };
    });
  }

  private liveCount(): number {
    return this.reported?.live ?? this.live.size - this.listenerCount;
  }

  resetBaseline(nowMs: number): void {
    this.view.reset(Math.max(nowMs, this.latestMs), this.liveCount());
  }

  stats(nowMs: number, scope: StatsScope = 'watch'): TrackerStats {
    const set = scope === 'baseline' ? this.view : this.watch;
    const started = this.started;
    let perRemote: Map<string, number> | undefined;
    const live = this.live;
    return {
      live: this.liveCount(),
      listening: this.reported?.listening ?? this.listenerCount,
      peak: set.peak,
      opened: set.opened,
      closed: set.closed,
      closedPreexisting: set.closedPreexisting,
      brief: set.brief,
      likelyBrief: set.likelyBrief,
      opensPerMinute: started ? perMinute(set.recentOpens.sum(nowMs), nowMs - set.sinceMs) : 0,
      lifetimeMs: set.lifetimes.summary(),
      get perRemote(): Map<string, number> {
        return (perRemote ??= sortedByCount(remoteCounts(live)));
      },
      durationMs: started ? Math.max(0, nowMs - this.firstPollMs) : 0,
      sinceMs: set.sinceMs,
    };
  }

  peers(nowMs: number, limit?: number): PeerStats[] {
    const live: LiveFact[] = [];
    for (const f of this.live.values()) if (!f.listener) live.push(f);
    const now = Math.max(nowMs, this.latestMs);
    // the watch's churn rule over the same closes, peer by peer: a row never contradicts the findings
    const churning = new Set(churningPeers(closesInChurnWindow(this.closedSamples.toArray(), now)).map((p) => p.peer));
    return this.peerBook.rows(live, now, this.watch.sinceMs, limit, churning);
  }

  /** Which of these remote endpoints the target talks to (an outbound connection, live or closed). */
  talksTo(remotes: readonly Endpoint[]): Set<string> {
    const out = new Set<string>();
    if (remotes.length === 0) return out;
    const wanted = new Set(remotes.map(remoteKey));
    for (const r of wanted) if (this.peerBook.knows(`out|${r}`)) out.add(r);
    if (out.size === wanted.size) return out;
    // live connections not yet in a peer group (preexisting ones): strings only where a port matches
    const ports = new Set(remotes.map((r) => r.port));
    for (const f of this.live.values()) {
      const c = f.connection;
      if (f.listener || c.direction === 'in' || !ports.has(c.remote.port)) continue;
      const key = remoteKey(c.remote);
      if (wanted.has(key)) out.add(key);
    }
    return out;
  }

  history(): readonly LiveCountSample[] {
    return this.samples.toArray();
  }

  findings(nowMs: number): Finding[] {
    if (!this.started || this.lastInput === undefined) return [];
    return this.computeAt(Math.max(nowMs, this.lastInput.nowMs));
  }

  findingHistory(): readonly LastingFinding[] {
    return this.findingLog.all();
  }

  unattributedBrief(limit = 10): UnattributedBrief[] {
    const top = this.unattributed.top(limit).map((t) => ({ remote: t.key, count: t.count }));
    if (this.unattributed.other > 0 && top.length < limit + 1) top.push({ remote: 'other', count: this.unattributed.other });
    return top;
  }
}

function remoteCounts(live: ReadonlyMap<string, LiveFact>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of live.values()) {
    if (f.listener) continue;
    const remote = formatEndpoint(f.connection.remote);
    counts.set(remote, (counts.get(remote) ?? 0) + 1);
  }
  return counts;
}

function sortedByCount(m: Map<string, number>): Map<string, number> {
  return new Map([...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}
