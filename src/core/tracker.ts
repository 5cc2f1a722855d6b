// Follows each connection of one target process across polls. Pure: it is fed (snapshot, nowMs)
// and never reads a clock, a file or a terminal, so every behaviour here is unit-tested with
// synthetic snapshot sequences.
//
// Semantics worth knowing (see also ARCHITECTURE.md, "Identity and time"):
// - Identity is connectionKey() (inode + 4-tuple). When the source gives socket cookies and the
//   cookie under one key changes, the old socket closed and a new one took its inode and tuple: a
//   close and an open. Duplicates of a key within one snapshot (a socket dup'ed into two fds) are
//   one connection; the first listed wins.
// - A connection opens at the first poll that sees it and closes at the first poll that misses
//   it; lifetimeMs = closedAtMs - firstSeenMs, from the poll times actually passed in, so a late
//   poll only widens the bounds.
// - Connections present at the first poll of a process are `preexisting` (their age is unknown).
//   They DO get an `open` event, marked preexisting, so a recording holds the full set; they are
//   NOT counted in `opened`, nor in opens per minute, and their lifetimes (lower bounds only) stay
//   out of the lifetime percentiles and the churn finding. `closed` counts every close.
// - A process is its PID plus start time. When a snapshot's start time differs from the tracked
//   one (both known), the old process has exited: its connections close, `exit` (pid_reused, with
//   the old process) follows, and the tracker starts afresh for the new process: counters and
//   statistics are reset as by resetCounters, duration restarts, and the connections found are
//   preexisting (we did not see them open). Within one poll the events are then: closes of the
//   old process, exit, opens of the new one. The history of live counts runs on across the change.
// - After processGone() (or when start times are unknown) further polls are ignored until a
//   snapshot shows a different process.
// - Time never runs backwards inside the tracker: a nowMs earlier than the latest poll is taken as
//   the latest poll's time (a wall clock stepped back must not make negative lifetimes).
import { connectionKey } from '../model';
import type { Connection, ProcessInfo, Snapshot } from '../model';
import type {
  LiveCountSample,
  Finding,
  Tracker,
  TrackedConnection,
  TrackerEvent,
  TrackerStats,
} from './tracker-types';
import { RingBuffer } from './ring-buffer';
import { firstExchangeState, nextExchangeState, type ExchangeState } from './exchanges';
import { LifetimeHistogram } from './lifetime-histogram';
import { WindowCounter, perMinute } from './rate';
import { formatEndpoint } from './endpoint';
import {
  CHURN_SAMPLE_LIMIT,
  REUSE_MIN_EXCHANGES,
  computeFindings,
  type ClosedSample,
  type ReuseCandidate,
} from './findings';

export interface TrackerOptions {
  /** live-count samples kept for history() and the growth finding (one per poll); default 600 */
  historySize?: number;
  /** state changes kept per connection, the current state included; default 16 */
  stateHistorySize?: number;
}

export const DEFAULT_HISTORY_SIZE = 600;
export const DEFAULT_STATE_HISTORY_SIZE = 16;

/** A tracked connection as kept inside: the exchange counter keeps its bytes-seen state. */
interface LiveRecord extends Omit<TrackedConnection, 'exchanges'> {
  exchanges: ExchangeState | undefined;
  /** the poll generation that last matched this record, and what it matched */
  matchedGen: number;
  next: Connection | undefined;
}

export function createTracker(options: TrackerOptions = {}): Tracker {
  return new LifetimeTracker(options);
}

class LifetimeTracker implements Tracker {
  private readonly stateHistorySize: number;
  private readonly samples: RingBuffer<LiveCountSample>;
  private liveByKey = new Map<string, LiveRecord>();
  /** the same records by socket inode, for sources that give one (inode 0 means unknown) */
  private liveByInode = new Map<number, LiveRecord>();
  private pollGen = 0;
  private nextId = 1;
  private currentProcess: ProcessInfo | undefined;
  private hasExited = false;
  /** the next poll is the first of a process: what it finds is preexisting */
  private firstPollPending = true;
  private firstPollMs = 0;
  private latestMs = -Infinity;

  // Counters and statistics: zeroed by resetCounters and when a new process takes over.
  private countersSinceMs = 0;
  private peak = 0;
  private opened = 0;
  private closed = 0;
  private readonly lifetimes = new LifetimeHistogram();
  private readonly recentOpens = new WindowCounter();
  private readonly recentCloses = new WindowCounter();
  private readonly closedSamples = new RingBuffer<ClosedSample>(CHURN_SAMPLE_LIMIT);
  private reusedClosed = 0;
  private bestClosed: ReuseCandidate | undefined;

  constructor(options: TrackerOptions) {
    this.samples = new RingBuffer<LiveCountSample>(options.historySize ?? DEFAULT_HISTORY_SIZE);
    const stateSize = options.stateHistorySize ?? DEFAULT_STATE_HISTORY_SIZE;
    if (!Number.isInteger(stateSize) || stateSize < 1) {
      throw new RangeError(`stateHistorySize must be a positive integer, got ${stateSize}`);
    }
    this.stateHistorySize = stateSize;
  }

  get process(): ProcessInfo | undefined {
    return this.currentProcess;
  }

  get exited(): boolean {
    return this.hasExited;
  }

  poll(snapshot: Snapshot, nowMs: number): TrackerEvent[] {
    const events: TrackerEvent[] = [];
    const newProcess = this.currentProcess === undefined || !sameProcess(this.currentProcess, snapshot.process);
    if (this.hasExited && !newProcess) return events;
    const now = this.clampTime(nowMs);

    if (this.currentProcess !== undefined && newProcess) {
      if (!this.hasExited) {
        // The closes come first, and exit still names the old process.
        for (const rec of this.liveByKey.values()) events.push(this.close(rec, now, true));
        this.liveByKey.clear();
        this.liveByInode.clear();
        events.push({ type: 'exit', atMs: now, reason: 'pid_reused', process: { ...this.currentProcess } });
      }
      this.firstPollPending = true;
    }
    const preexisting = this.firstPollPending;
    if (this.firstPollPending) {
      this.firstPollPending = false;
      this.hasExited = false;
      this.firstPollMs = now;
      this.zeroCounters(now);
    }
    this.currentProcess = { ...snapshot.process };

    // Match this poll's connections to live records by inode (a number: no key strings to build
    // for the thousands that did not change), falling back to the full key where a source has no
    // inode. A record matched twice keeps the first; a tuple or cookie change is a new connection.
    const gen = ++this.pollGen;
    const fresh = new Map<string, Connection>();
    for (const c of snapshot.connections) {
      const rec = c.inode > 0 ? this.liveByInode.get(c.inode) : this.liveByKey.get(connectionKey(c));
      if (rec !== undefined && sameTuple(rec.connection, c) && !cookieChanged(rec.connection, c)) {
        if (rec.matchedGen !== gen) {
          rec.matchedGen = gen;
          rec.next = c;
        }
        continue;
      }
      const key = connectionKey(c);
      if (!fresh.has(key)) fresh.set(key, c);
    }

    // In first-seen order: closes now, state changes after them.
    const stateEvents: TrackerEvent[] = [];
    for (const rec of [...this.liveByKey.values()]) {
      const c = rec.next;
      if (rec.matchedGen !== gen || c === undefined) {
        events.push(this.close(rec, now));
        this.forget(rec);
        continue;
      }
      rec.next = undefined;
      fresh.delete(rec.key);
      const from = rec.connection.state;
      rec.connection = cloneConnection(c, rec.connection);
      rec.lastSeenMs = now;
      if (c.tcp !== undefined) {
        rec.exchanges =
          rec.exchanges === undefined
            ? firstExchangeState(c.tcp)
            : nextExchangeState(rec.exchanges, c.tcp);
      }
      if (c.state !== from) {
        rec.states.push({ state: c.state, atMs: now });
        if (rec.states.length > this.stateHistorySize) rec.states.splice(0, rec.states.length - this.stateHistorySize);
        stateEvents.push({ type: 'state', atMs: now, conn: snapshotOf(rec), from, to: c.state });
      }
    }
    events.push(...stateEvents);

    let opens = 0;
    for (const [key, c] of fresh) {
      const rec: LiveRecord = {
        id: `c${this.nextId++}`,
        key,
        connection: cloneConnection(c),
        firstSeenMs: now,
        lastSeenMs: now,
        preexisting,
        states: [{ state: c.state, atMs: now }],
        exchanges: c.tcp === undefined ? undefined : firstExchangeState(c.tcp),
        matchedGen: gen,
        next: undefined,
      };
      this.liveByKey.set(key, rec);
      if (c.inode > 0) this.liveByInode.set(c.inode, rec);
      if (!preexisting) opens++;
      events.push({ type: 'open', atMs: now, conn: snapshotOf(rec) });
    }

    this.opened += opens;
    this.recentOpens.add(now, opens);
    this.afterChange(now);
    return events;
  }

  processGone(nowMs: number): TrackerEvent[] {
    if (this.currentProcess === undefined || this.hasExited) return [];
    const now = this.clampTime(nowMs);
    const events: TrackerEvent[] = [];
    for (const rec of this.liveByKey.values()) events.push(this.close(rec, now, true));
    this.liveByKey.clear();
    this.liveByInode.clear();
    this.hasExited = true;
    this.firstPollPending = true;
    events.push({ type: 'exit', atMs: now, reason: 'exited', process: { ...this.currentProcess } });
    this.afterChange(now);
    return events;
  }

  resetCounters(nowMs: number): void {
    this.zeroCounters(Math.max(nowMs, this.latestMs));
  }

  live(): readonly TrackedConnection[] {
    return [...this.liveByKey.values()].map(snapshotOf);
  }

  stats(nowMs: number): TrackerStats {
    const perRemote = new Map<string, number>();
    for (const rec of this.liveByKey.values()) {
      const remote = formatEndpoint(rec.connection.remote);
      perRemote.set(remote, (perRemote.get(remote) ?? 0) + 1);
    }
    const started = this.currentProcess !== undefined;
    return {
      live: this.liveByKey.size,
      peak: this.peak,
      opened: this.opened,
      closed: this.closed,
      opensPerMinute: started ? perMinute(this.recentOpens.sum(nowMs), nowMs - this.countersSinceMs) : 0,
      lifetimeMs: this.lifetimes.summary(),
      perRemote: sortedByCount(perRemote),
      durationMs: started ? Math.max(0, nowMs - this.firstPollMs) : 0,
    };
  }

  history(): readonly LiveCountSample[] {
    return this.samples.toArray();
  }

  findings(nowMs: number, live?: readonly TrackedConnection[]): Finding[] {
    if (this.currentProcess === undefined) return [];
    const closesInWindow = this.recentCloses.sum(nowMs);
    return computeFindings({
      nowMs,
      live: live ?? this.live(),
      history: this.history(),
      recentCloses: this.closedSamples.toArray(),
      closesInWindow,
      closesPerMinute: perMinute(closesInWindow, nowMs - this.countersSinceMs),
      bestClosed: this.bestClosed,
      reusedClosed: this.reusedClosed,
    });
  }

  private clampTime(nowMs: number): number {
    const now = Math.max(nowMs, this.latestMs);
    this.latestMs = now;
    return now;
  }

  /**
   * `byExit`: closed because the process went away. Such lifetimes are real, but a process exiting
   * with ten connections is not ten connections churned, so they stay out of the churn window.
   */
  private close(rec: LiveRecord, now: number, byExit = false): TrackerEvent {
    const lifetimeMs = now - rec.firstSeenMs;
    this.closed++;
    const exchanges = rec.exchanges?.count;
    if (!rec.preexisting) this.lifetimes.add(lifetimeMs);
    if (!rec.preexisting && !byExit) {
      this.recentCloses.add(now, 1);
      this.closedSamples.push(exchanges === undefined ? { atMs: now, lifetimeMs } : { atMs: now, lifetimeMs, exchanges });
    }
    if (exchanges !== undefined && exchanges >= REUSE_MIN_EXCHANGES) {
      this.reusedClosed++;
      if (this.bestClosed === undefined || exchanges > this.bestClosed.exchanges) {
        this.bestClosed = {
          id: rec.id,
          local: formatEndpoint(rec.connection.local),
          remote: formatEndpoint(rec.connection.remote),
          exchanges,
          lifetimeMs,
          preexisting: rec.preexisting,
        };
      }
    }
    return { type: 'close', atMs: now, conn: snapshotOf(rec), lifetimeMs };
  }

  private forget(rec: LiveRecord): void {
    this.liveByKey.delete(rec.key);
    if (rec.connection.inode > 0 && this.liveByInode.get(rec.connection.inode) === rec) this.liveByInode.delete(rec.connection.inode);
  }

  private afterChange(now: number): void {
    const live = this.liveByKey.size;
    if (live > this.peak) this.peak = live;
    this.samples.push({ atMs: now, count: live });
  }

  private zeroCounters(now: number): void {
    this.countersSinceMs = now;
    this.peak = this.liveByKey.size;
    this.opened = 0;
    this.closed = 0;
    this.lifetimes.clear();
    this.recentOpens.clear();
    this.recentCloses.clear();
    this.closedSamples.clear();
    this.reusedClosed = 0;
    this.bestClosed = undefined;
  }
}

function sameProcess(a: ProcessInfo, b: ProcessInfo): boolean {
  if (a.pid !== b.pid) return false;
  // An unknown start time (a source that cannot read it, or a failed read) is not a change.
  if (a.startTime === undefined || b.startTime === undefined) return true;
  return a.startTime === b.startTime;
}

function sameTuple(a: Connection, b: Connection): boolean {
  return (
    a.local.port === b.local.port &&
    a.remote.port === b.remote.port &&
    a.local.address === b.local.address &&
    a.remote.address === b.remote.address
  );
}

function cookieChanged(prev: Connection, next: Connection): boolean {
  const a = prev.tcp?.cookie;
  const b = next.tcp?.cookie;
  return a !== undefined && b !== undefined && a !== b;
}

/**
 * The tracker keeps its own copy so that a caller reusing snapshot objects cannot change history.
 * A live connection's endpoints never change (a new tuple is a new connection), so the previous
 * copy's endpoint objects are shared: two fewer allocations per connection per poll.
 */
function cloneConnection(c: Connection, prev?: Connection): Connection {
  const copy: Connection = { ...c, local: prev?.local ?? { ...c.local }, remote: prev?.remote ?? { ...c.remote } };
  if (c.timer !== undefined) copy.timer = { ...c.timer };
  if (c.tcp !== undefined) copy.tcp = { ...c.tcp };
  return copy;
}

/**
 * A copy for events and live(): later polls replace a record's fields and never mutate the
 * Connection objects they point to, so sharing `connection` is safe.
 */
function snapshotOf(rec: LiveRecord): TrackedConnection {
  const t: TrackedConnection = {
    id: rec.id,
    key: rec.key,
    connection: rec.connection,
    firstSeenMs: rec.firstSeenMs,
    lastSeenMs: rec.lastSeenMs,
    preexisting: rec.preexisting,
    states: rec.states.map((s) => ({ ...s })),
  };
  if (rec.exchanges !== undefined) t.exchanges = rec.exchanges.count;
  return t;
}

function sortedByCount(m: Map<string, number>): Map<string, number> {
  return new Map([...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}
