// Follows every TCP socket of one target process across polls. Pure: it is fed (snapshot, nowMs,
// between-poll evidence) and never reads a clock, a file or a terminal, so every behaviour here is
// unit-tested with synthetic sequences.
//
// Semantics worth knowing (see also docs/architecture.md, "Identity and time"):
// - Everything the target holds is tracked, in any state; a state filter (--state, the TUI's `f`)
//   is a lens applied by the views (lens.ts), never here. ESTABLISHED → CLOSE_WAIT is a `state`
//   event; a connection lives from the first poll that sees it until its socket is gone from the
//   process (its fd closed, or the process gone).
// - Identity is connectionKey() (inode + 4-tuple). When the source gives socket cookies and the
//   cookie under one key changes, the old socket closed and a new one took its inode and tuple: a
//   close and an open. Duplicates of a key within one snapshot (a socket dup'ed into two fds) are
//   one connection; the first listed wins.
// - Event times are when the evidence was observed: `snapshot.observedAtMs` (the source's read of
//   the target's fd table), else the nowMs passed in. lifetimeMs = closed - first seen, so a late
//   poll only widens the bounds. Between-poll evidence narrows them: an `ended` event matching a
//   connection gives its exact close time, a `started` event of the target's PID its exact start.
// - Listening sockets are tracked (they get events, and their ports attribute inbound brief
//   connections to the target) but are not connections: they stay out of live, peak, opened,
//   closed, lifetimes, per-remote counts, the history and every finding.
// - Connections present at the first poll of a process are `preexisting` (their age is unknown).
//   They DO get an `open` event, marked preexisting, so a recording holds the full set; they are
//   NOT counted in `opened`, nor in opens per minute, and their lifetimes (lower bounds only) stay
//   out of the lifetime percentiles and the churn finding. `closed` counts every close
//   (`closedPreexisting` says how many of them were preexisting).
// - Brief connections (opened and closed between two polls) exist only as `ended` events; see
//   briefClose() for when they are the target's. They count in opened, closed, the lifetimes and
//   churn, and get one `close` event marked brief.
// - Findings are evaluated after every poll; FindingLog turns them into episodes (`finding`
//   events) that the summary lists for the whole watch.
// - A process is its PID plus start time. When a snapshot's start time differs from the tracked
//   one (both known), the old process has exited: its connections close (with the between-poll
//   evidence of that poll, as at any exit), `exit` (pid_reused, with the old process) follows.
//   What comes next depends on TrackerOptions.adoptNewProcess: without it (every watch but one
//   that follows a --name) the newcomer is never watched: the tracker has exited, its counters
//   stay the original's, and later snapshots of the newcomer are ignored. With it the tracker
//   starts afresh for the new process: counters are reset, duration restarts, and the
//   connections found are preexisting; the history of live counts and the finding episodes run on.
// - An exit is as exact as a poll: processGone() takes the evidence gathered up to the exit, so
//   the connections open at the last poll close at the kernel's time with its final counters
//   where it reported them, and connections that opened and closed after the last poll count.
// - A group (snapshots with `processes`: --name, --children, -p a,b): each process is its PID
//   and start time. One that leaves gets its own `exit` (its connections close with it, not as
//   churn) and the others are still watched; one that joins holds preexisting connections only
//   if it started before the watch (TrackerOptions.watchStart; a worker born during the watch
//   holds none). Counters never restart in a group, also when it comes back after processGone().
// - Peers (peer-stats.ts): connections grouped by remote endpoint (out) or local endpoint (in).
// - After processGone() (or when start times are unknown) further polls are ignored until a
//   snapshot shows a different process.
// - Time never runs backwards inside the tracker: a time earlier than the latest poll is taken as
//   the latest poll's time (a wall clock stepped back must not make negative lifetimes).
import { connectionKey } from '../model';
import type { Connection, Endpoint, ProcessInfo, Snapshot, TcpInternals } from '../model';
import { LiveRecord, copyConnection } from './live-record';
import type {
  DescribeFinding,
  ExitReason,
  Finding,
  LastingFinding,
  LiveCountSample,
  StatsScope,
  Tracker,
  TrackedConnection,
  TrackerEvent,
  TrackerEventBatches,
  TrackerStats,
  UnattributedBrief,
} from './tracker-types';
import type { OwnershipHints, SocketEnded, SocketLifecycleEvent, SocketStarted } from './lifecycle-types';
import { RingBuffer } from './ring-buffer';
import { advanceExchangeState, firstExchangeState, type ExchangeSample, type ExchangeState, type MutableExchangeState } from './exchanges';
import { WindowCounter, perMinute } from './rate';
import { formatEndpoint } from './endpoint';
import { CounterSet } from './counters';
import { FindingLog } from './finding-log';
import { PeerBook, type PeerStats } from './peer-stats';
import { BoundedCounts, ListenerIndex, RecentSockets, TupleIndex, remoteKey, tupleKey } from './lifecycle-match';
import {
  CHURN_SAMPLE_LIMIT,
  carriesReuse,
  churningPeers,
  closesInChurnWindow,
  computeFindings,
  type ClosedSample,
  type CloseWaitCandidate,
  type FindingsInput,
  type ReuseCandidate,
} from './findings';

export interface TrackerOptions {
  /**
   * When the watch began, as an ISO time on the process start-time scale (ProcessInfo.startTime,
   * see process-info.ts watchStartTime()). A process that started at or after it holds nothing
   * preexisting: its connections at its first poll opened while watched. Absent: every process
   * found at the first poll is taken as older than the watch.
   */
  watchStart?: string;
  /** live-count samples kept for history() and the growth finding (one per poll); default 600 */
  historySize?: number;
  /** state changes kept per connection, the current state included; default 16 */
  stateHistorySize?: number;
  /**
   * The sentence of a finding (its `message`): views give findingMessage
   * (src/views/output/finding-message.ts). Core holds no sentences: without one, it is the kind.
   */
  describeFinding?: DescribeFinding;
  /**
   * A process that takes over a watched PID (or a group member's PID) is watched from then on.
   * Default true; a watch that follows a PID (not a --name) passes false: the newcomer is not the
   * target, the watch of that PID ends with `exit` (pid_reused) and the original's data.
   */
  adoptNewProcess?: boolean;
}

export const DEFAULT_HISTORY_SIZE = 600;
export const DEFAULT_STATE_HISTORY_SIZE = 16;
/** how long a closed socket's cookie and tuple are remembered, so a late destroy notification is not a brief connection */
export const RECENTLY_CLOSED_MS = 120_000;
/** at most this many remembered */
export const RECENTLY_CLOSED_MAX = 20_000;
/** evidence that matches no socket yet (a `started` for a connection the next poll will see) waits this long */
export const PENDING_EVIDENCE_MS = 10_000;
/** remote endpoints counted apart for unattributed brief connections (the rest are summed as other) */
export const UNATTRIBUTED_MAX_REMOTES = 1_000;

// The exchange estimator's entry points, in one place (its internals live in exchanges.ts).
function exchangesStart(tcp: ExchangeSample): ExchangeState {
  return firstExchangeState(tcp);
}
/**
 * A brief connection's exchanges, from its end: the whole tcp_info (destroy notification) or the
 * totals (eBPF), its whole life as one long poll, as the estimator counts a connection first seen
 * with history. Undefined without data-segment counts.
 */
function briefExchanges(e: SocketEnded): number | undefined {
  const t = e.totals;
  if (e.tcp !== undefined && (e.tcp.segmentsSent !== undefined || t === undefined)) return exchangesStart(e.tcp).count;
  if (t === undefined) return undefined;
  return exchangesStart({ bytesSent: t.bytesSent, segmentsSent: t.segmentsSent, segmentsReceived: t.segmentsReceived, retransmits: 0, lastSendMs: 0, lastReceiveMs: 0 }).count;
}
/** A record's counter, advanced in place (see LiveRecord). */
function exchangesNext(state: MutableExchangeState, tcp: TcpInternals): void {
  advanceExchangeState(state, tcp);
}

export function createTracker(options: TrackerOptions = {}): Tracker {
  return new LifetimeTracker(options);
}

class LifetimeTracker implements Tracker {
  private readonly stateHistorySize: number;
  private readonly watchStart: string | undefined;
  /** group mode (snapshots with `processes`): the processes watched now, by PID */
  private members = new Map<number, ProcessInfo>();
  private readonly peerBook = new PeerBook();
  private readonly samples: RingBuffer<LiveCountSample>;
  /** every live record (listeners included), in first-seen order */
  private readonly records = new Set<LiveRecord>();
  /** the records by socket inode, for sources that give one */
  private readonly liveByInode = new Map<number, LiveRecord>();
  /** by connectionKey(), the records of sockets whose inode is unknown (0) */
  private readonly liveByKey = new Map<string, LiveRecord>();
  /** by tuple and by cookie, for matching between-poll evidence */
  private readonly liveByTuple = new TupleIndex<LiveRecord>();
  private liveByCookie = new Map<string, LiveRecord>();
  private listenerCount = 0;
  private pollGen = 0;
  private nextId = 1;
  private currentProcess: ProcessInfo | undefined;
  private hasExited = false;
  /** the next poll is the first of a process: what it finds is preexisting */
  private firstPollPending = true;
  private firstPollMs = 0;
  private latestMs = -Infinity;

  // Counters: the watch's (summary) and the display baseline's (TUI `r`).
  private readonly watch = new CounterSet();
  private readonly view = new CounterSet();
  // What the findings rest on: the whole watch, never reset by `r`.
  private readonly recentCloses = new WindowCounter();
  private readonly closedSamples = new RingBuffer<ClosedSample>(CHURN_SAMPLE_LIMIT);
  private reusedClosed = 0;
  private bestClosed: ReuseCandidate | undefined;
  private lastInput: FindingsInput | undefined;
  private readonly findingLog = new FindingLog();

  // Between-poll evidence.
  private readonly recentlyClosed = new RecentSockets(RECENTLY_CLOSED_MS, RECENTLY_CLOSED_MAX);
  private pendingStarted = new Map<string, SocketStarted>();
  private pendingEnded: SocketEnded[] = [];
  private readonly unattributed = new BoundedCounts(UNATTRIBUTED_MAX_REMOTES);

  private readonly describeFinding: DescribeFinding;
  /** the ownership hints of the poll being applied (pollBatches, processGone) */
  private hints: OwnershipHints | undefined;
  private readonly peerKey = (c: Connection): string => this.peerBook.keyOf(c);
  private readonly adopt: boolean;
  /** group mode without adoption: PIDs a member held and a newcomer took over (never members again) */
  private readonly refusedPids = new Set<number>();

  constructor(options: TrackerOptions) {
    this.describeFinding = options.describeFinding ?? ((f) => f.kind);
    this.adopt = options.adoptNewProcess ?? true;
    this.samples = new RingBuffer<LiveCountSample>(options.historySize ?? DEFAULT_HISTORY_SIZE);
    const stateSize = options.stateHistorySize ?? DEFAULT_STATE_HISTORY_SIZE;
    if (!Number.isInteger(stateSize) || stateSize < 1) {
      throw new RangeError(`stateHistorySize must be a positive integer, got ${stateSize}`);
    }
    this.stateHistorySize = stateSize;
    this.watchStart = options.watchStart;
  }

  /** A process found at its first poll holds preexisting connections unless it started during the watch. */
  private olderThanWatch(p: ProcessInfo, firstOfWatch: boolean): boolean {
    if (this.watchStart === undefined || p.startTime === undefined) return firstOfWatch;
    return p.startTime < this.watchStart;
  }

  get process(): ProcessInfo | undefined {
    return this.currentProcess;
  }

  /** the latest snapshot had `processes` */
  private groupMode = false;

  get exited(): boolean {
    return this.hasExited;
  }

  /** counts poll() and processGone(): batches of an earlier one cannot be taken after them */
  private changes = 0;

  poll(snapshot: Snapshot, nowMs: number, lifecycle: readonly SocketLifecycleEvent[] = [], hints?: OwnershipHints): TrackerEvent[] {
    const all: TrackerEvent[] = [];
    const batches = this.pollBatches(snapshot, nowMs, lifecycle, hints);
    for (let b = batches.next(Infinity); b !== undefined; b = batches.next(Infinity)) append(all, b);
    return all;
  }

  pollBatches(snapshot: Snapshot, nowMs: number, lifecycle: readonly SocketLifecycleEvent[] = [], hints?: OwnershipHints): TrackerEventBatches {
    const change = ++this.changes;
    this.hints = hints;
    try {
      return new PollBatches(this.apply(snapshot, nowMs, lifecycle), () => this.changes === change);
    } finally {
      this.hints = undefined;
    }
  }

  talksTo(remotes: readonly Endpoint[]): Set<string> {
    const out = new Set<string>();
    if (remotes.length === 0) return out;
    const wanted = new Set(remotes.map(remoteKey));
    for (const r of wanted) if (this.peerBook.knows(`out|${r}`)) out.add(r);
    if (out.size === wanted.size) return out;
    // live connections not yet in a peer group (preexisting ones): strings only where a port matches
    const ports = new Set(remotes.map((r) => r.port));
    for (const rec of this.records) {
      const c = rec.connection;
      if (rec.listener || c.direction === 'in' || !ports.has(c.remote.port)) continue;
      const key = remoteKey(c.remote);
      if (wanted.has(key)) out.add(key);
    }
    return out;
  }

  private apply(snapshot: Snapshot, nowMs: number, lifecycle: readonly SocketLifecycleEvent[]): PollOutcome {
    this.groupMode = snapshot.processes !== undefined;
    if (this.groupMode) return this.pollGroup(snapshot, nowMs, lifecycle);
    const events: TrackerEvent[] = [];
    const newProcess = this.currentProcess === undefined || !sameProcess(this.currentProcess, snapshot.process);
    if (this.hasExited && !newProcess) return { head: events, opened: [], atMs: 0, tail: [] };
    const previousMs = this.latestMs;
    const now = this.clampTime(snapshot.observedAtMs ?? nowMs);

    if (this.currentProcess !== undefined && newProcess) {
      if (!this.hasExited) {
        // The closes come first (with this poll's evidence: it is the old process's), and exit
        // still names the old process.
        append(events, this.endProcesses(now, previousMs, lifecycle, [this.currentProcess], 'pid_reused'));
        this.hasExited = true;
        lifecycle = [];
      }
      // The newcomer is not the target: the watch of this PID is over.
      if (!this.adopt) return { head: events, opened: [], atMs: now, tail: [] };
      this.firstPollPending = true;
    }
    const firstOfProcess = this.firstPollPending;
    if (this.firstPollPending) {
      this.firstPollPending = false;
      this.hasExited = false;
      this.firstPollMs = now;
      this.resetAll(now);
    }
    this.currentProcess = { ...snapshot.process };
    // Without start times to compare, what a process holds at its first poll is taken as older.
    const preexisting = firstOfProcess && this.olderThanWatch(snapshot.process, true);
    this.members = new Map([[snapshot.process.pid, this.currentProcess]]);
    return this.pollConnections(snapshot, now, previousMs, lifecycle, events, {
      dropEvidence: firstOfProcess,
      preexisting: () => preexisting,
      left: new Set(),
      exits: [],
    });
  }

  /**
   * A target of several processes: each is its PID and start time; one that leaves `processes`
   * gets an `exit` naming it (its connections close with it) while the others are still watched.
   * Counters run on across joins and leaves (a restart of a worker is not a new watch).
   */
  private pollGroup(snapshot: Snapshot, nowMs: number, lifecycle: readonly SocketLifecycleEvent[]): PollOutcome {
    const procs = snapshot.processes ?? [];
    const previousMs = this.latestMs;
    const now = this.clampTime(snapshot.observedAtMs ?? nowMs);
    const firstOfWatch = this.currentProcess === undefined;
    if (firstOfWatch) {
      this.firstPollPending = false;
      this.firstPollMs = now;
      this.resetAll(now);
    }
    // Without adoption a group that has exited stays over (its PIDs now hold other processes).
    if (this.hasExited && !this.adopt && !firstOfWatch) return { head: [], opened: [], atMs: now, tail: [] };
    this.hasExited = false;
    const next = new Map<number, ProcessInfo>();
    for (const p of procs) next.set(p.pid, { ...p });
    if (!this.adopt) {
      // A newcomer under a member's PID is not a member (see TrackerOptions.adoptNewProcess).
      for (const [pid, p] of next) {
        const known = this.members.get(pid);
        if ((known !== undefined && !sameProcess(known, p)) || (known === undefined && this.refusedPids.has(pid))) {
          this.refusedPids.add(pid);
          next.delete(pid);
        }
      }
    }
    const left = new Set<number>();
    const exits: TrackerEvent[] = [];
    for (const [pid, p] of this.members) {
      const current = next.get(pid);
      if (current !== undefined && sameProcess(p, current)) continue;
      left.add(pid);
      const reused = current !== undefined || procs.some((q) => q.pid === pid);
      exits.push({ type: 'exit', atMs: now, reason: reused ? 'pid_reused' : 'exited', process: { ...p } });
    }
    const older = new Set<number>();
    for (const [pid, p] of next) {
      const known = this.members.get(pid);
      if (known !== undefined && sameProcess(known, p)) continue;
      if (this.olderThanWatch(p, firstOfWatch)) older.add(pid);
    }
    this.members = next;
    const firstMember = next.values().next();
    if (firstMember.done !== true) this.currentProcess = { ...firstMember.value };
    else if (procs[0] !== undefined && this.currentProcess === undefined) this.currentProcess = { ...procs[0] };
    // Every member gone, the rest refused: the watch is over (the refused never come in).
    if (next.size === 0 && this.refusedPids.size > 0) this.hasExited = true;
    const refused = this.refusedPids;
    const held = (c: Connection): boolean => c.pid === undefined || !refused.has(c.pid) || (c.pids ?? []).some((p) => !refused.has(p));
    const own = refused.size === 0 ? snapshot : { ...snapshot, connections: snapshot.connections.filter(held) };
    return this.pollConnections(own, now, previousMs, lifecycle, [], {
      dropEvidence: firstOfWatch,
      // A connection new to the tracker is preexisting when its holder is new and older than the watch.
      preexisting: (c) => (c.pid === undefined ? firstOfWatch : older.has(c.pid) || (c.pids ?? []).some((p) => older.has(p))),
      left,
      exits,
    });
  }

  private pollConnections(
    snapshot: Snapshot,
    now: number,
    previousMs: number,
    lifecycle: readonly SocketLifecycleEvent[],
    events: TrackerEvent[],
    how: { dropEvidence: boolean; preexisting: (c: Connection) => boolean; left: ReadonlySet<number>; exits: TrackerEvent[] },
  ): PollOutcome {
    // Match this poll's connections to live records by inode (a number: no key strings to build
    // for the thousands that did not change), falling back to the full key where a source has no
    // inode. A record matched twice keeps the first; a tuple or cookie change is a new connection.
    const gen = ++this.pollGen;
    // (Index loops here and below: a first poll runs these loops once over every connection,
    // before they are optimized, and an iterator there allocates a result per step.)
    const conns = snapshot.connections;
    const unmatched: Connection[] = [];
    let matchedAny = false;
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i]!;
      const rec = this.recordOf(c);
      if (rec !== undefined && sameTuple(rec.connection, c) && !cookieChanged(rec.connection, c)) {
        if (rec.matchedGen !== gen) {
          rec.matchedGen = gen;
          rec.next = c;
          matchedAny = true;
        }
        continue;
      }
      unmatched.push(c);
    }
    let fresh = firstOfEachKey(unmatched);

    // Evidence from between the polls. At the first poll of a process it is about sockets that
    // ended before we watched: dropped.
    // the processes whose evidence this is: those watched now and those that left at this poll
    const pids = new Set(this.members.keys());
    for (const pid of how.left) pids.add(pid);
    const evidence = how.dropEvidence ? new Evidence([], this.pendingEnded, pids) : new Evidence(lifecycle, this.pendingEnded, pids);
    this.pendingEnded = [];
    for (const s of evidence.started) this.pendingStarted.set(s.cookie ?? tupleKey(s.local, s.remote), s);

    // In first-seen order: closes now, state changes after them. The same walk gathers what the
    // findings need (CLOSE_WAIT, reuse) and the listening ports.
    const closeEvents: TrackerEvent[] = [];
    const stateEvents: TrackerEvent[] = [];
    const scan = new LiveScan(this.peerKey);
    // (Deleting the visited record from the Set while iterating it is safe; nothing is added.)
    for (const rec of this.records) {
      const c = rec.next;
      if (rec.matchedGen !== gen || c === undefined) {
        const ended = evidence.hasEnded ? evidence.takeEnded(rec.cookie, rec.tuple) : undefined;
        // An end after this poll's observation is a socket destroyed after its fd closed (it
        // lingered, orphaned): the poll's time is then the better bound.
        const exact = ended !== undefined && ended.atMs <= now ? Math.max(ended.atMs, rec.lastSeenMs) : undefined;
        // The kernel's last word on its counters: the traffic after the last poll counts too.
        if (ended !== undefined) this.finalCounters(rec, ended);
        // A socket of a process that left closed with it: not churn.
        const withProcess = exact === undefined && rec.connection.pid !== undefined && how.left.has(rec.connection.pid);
        closeEvents.push(this.close(rec, exact ?? now, withProcess ? 'exit' : 'poll', exact !== undefined));
        this.forget(rec);
        continue;
      }
      rec.next = undefined;
      const from = rec.connection.state;
      rec.observe(c);
      rec.lastSeenMs = now;
      if (c.tcp !== undefined) {
        if (rec.exchanges === undefined) rec.exchanges = exchangesStart(c.tcp);
        else exchangesNext(rec.exchanges, c.tcp);
        this.indexCookie(rec);
      }
      if (c.state !== from) {
        rec.changeState(from, c.state, now, this.stateHistorySize);
        stateEvents.push({ type: 'state', atMs: now, conn: rec.snapshot(), from, to: c.state });
      }
      scan.add(rec);
    }

    // Another entry of a socket matched above (its cookie changed): a duplicate, the first listed
    // wins; not a new connection.
    if (matchedAny) {
      fresh = fresh.filter((c) => {
        const matched = this.recordOf(c);
        return !(matched !== undefined && matched.matchedGen === gen && sameTuple(matched.connection, c));
      });
    }

    let opens = 0;
    // their open events are built as they are taken (PollBatches)
    const opened: LiveRecord[] = [];
    for (let i = 0; i < fresh.length; i++) {
      const c = fresh[i]!;
      const preexisting = how.preexisting(c);
      const started = preexisting || this.pendingStarted.size === 0 ? undefined : this.takeStarted(c.tcp?.cookie, tupleKey(c.local, c.remote), now);
      const rec = new LiveRecord(`c${this.nextId++}`, copyConnection(c), started?.atMs ?? now, now, preexisting, started !== undefined, gen);
      this.records.add(rec);
      if (c.inode > 0) this.liveByInode.set(c.inode, rec);
      else this.liveByKey.set(connectionKey(c), rec);
      this.liveByTuple.addIfAbsent(rec);
      this.indexCookie(rec);
      if (rec.listener) this.listenerCount++;
      else if (!preexisting) {
        opens++;
        this.peerBook.opened(rec.connection, now);
      }
      opened.push(rec);
      scan.add(rec);
    }

    // What remains of the evidence: ends of sockets no poll saw (brief), or not yet closed.
    const briefEvents = this.settleEvidence(evidence, scan.listeners, pids, previousMs, now);

    // Closes in time order: brief ones and exact ends happened before this poll's observation.
    const closes = [...briefEvents, ...closeEvents].sort((a, b) => a.atMs - b.atMs);
    for (const list of [closes, how.exits, stateEvents]) append(events, list);
    this.watch.opens(now, opens);
    this.view.opens(now, opens);
    this.afterChange(now);
    this.lastInput = this.findingsInput(now, scan);
    return { head: events, opened, atMs: now, tail: this.evaluateFindings(now) };
  }

  processGone(nowMs: number, lifecycle: readonly SocketLifecycleEvent[] = [], hints?: OwnershipHints): TrackerEvent[] {
    this.changes++;
    if (this.currentProcess === undefined || this.hasExited) return [];
    this.hints = hints;
    try {
      return this.gone(nowMs, lifecycle, this.currentProcess);
    } finally {
      this.hints = undefined;
    }
  }

  private gone(nowMs: number, lifecycle: readonly SocketLifecycleEvent[], current: ProcessInfo): TrackerEvent[] {
    const previousMs = this.latestMs;
    const now = this.clampTime(nowMs);
    const gone = this.groupMode ? [...this.members.values()] : [current];
    const events = this.endProcesses(now, previousMs, lifecycle, gone, 'exited');
    this.hasExited = true;
    // A group carries on when its processes come back (serve --name); a single process is over.
    if (!this.groupMode) this.firstPollPending = true;
    this.members = new Map();
    return events;
  }

  /**
   * The end of every live connection with the processes `gone`, and their `exit` events. The
   * evidence gathered up to the exit is theirs: the end of a live connection gives its exact close
   * time and final counters, an end no poll saw (by the rules of settleEvidence) is a brief
   * connection, so a process that did all its work since the last poll is counted in full.
   */
  private endProcesses(now: number, previousMs: number, lifecycle: readonly SocketLifecycleEvent[], gone: readonly ProcessInfo[], reason: ExitReason): TrackerEvent[] {
    const pids = new Set(this.members.keys());
    for (const p of gone) pids.add(p.pid);
    const evidence = new Evidence(lifecycle, this.pendingEnded, pids);
    this.pendingEnded = [];
    for (const s of evidence.started) this.pendingStarted.set(s.cookie ?? tupleKey(s.local, s.remote), s);
    const closes: TrackerEvent[] = [];
    const listeners = new ListenerIndex();
    for (const rec of this.records) {
      if (rec.listener) listeners.add(rec.connection.local);
      const ended = evidence.hasEnded ? evidence.takeEnded(rec.cookie, rec.tuple) : undefined;
      const exact = ended !== undefined && ended.atMs <= now ? Math.max(ended.atMs, rec.lastSeenMs) : undefined;
      if (ended !== undefined) this.finalCounters(rec, ended);
      closes.push(this.close(rec, exact ?? now, 'exit', exact !== undefined));
    }
    this.clearLive();
    // settled once nothing is live: an end of the target's socket is then a brief connection, not a race
    const brief = this.settleEvidence(evidence, listeners, pids, previousMs, now);
    const events = [...brief, ...closes].sort((a, b) => a.atMs - b.atMs);
    this.afterChange(now);
    this.lastInput = this.findingsInput(now, new LiveScan(this.peerKey));
    append(events, this.evaluateFindings(now));
    for (const p of gone) events.push({ type: 'exit', atMs: now, reason, process: { ...p } });
    return events;
  }

  resetBaseline(nowMs: number): void {
    this.view.reset(Math.max(nowMs, this.latestMs), this.liveCount());
  }

  *liveEndpoints(): Iterable<Endpoint> {
    for (const rec of this.records) {
      yield rec.connection.local;
      yield rec.connection.remote;
    }
  }

  live(): readonly TrackedConnection[] {
    const out: TrackedConnection[] = [];
    for (const rec of this.records) out.push(rec.snapshot());
    return out;
  }

  stats(nowMs: number, scope: StatsScope = 'watch'): TrackerStats {
    const set = scope === 'baseline' ? this.view : this.watch;
    const started = this.currentProcess !== undefined;
    let perRemote: Map<string, number> | undefined;
    const records = this.records;
    return {
      live: this.liveCount(),
      listening: this.listenerCount,
      peak: set.peak,
      opened: set.opened,
      closed: set.closed,
      closedPreexisting: set.closedPreexisting,
      brief: set.brief,
      likelyBrief: set.likelyBrief,
      opensPerMinute: started ? perMinute(set.recentOpens.sum(nowMs), nowMs - set.sinceMs) : 0,
      lifetimeMs: set.lifetimes.summary(),
      get perRemote(): Map<string, number> {
        return (perRemote ??= sortedByCount(remoteCounts(records)));
      },
      durationMs: started ? Math.max(0, nowMs - this.firstPollMs) : 0,
      sinceMs: set.sinceMs,
    };
  }

  peers(nowMs: number, limit?: number): PeerStats[] {
    const live: TrackedConnection[] = [];
    for (const rec of this.records) if (!rec.listener) live.push(rec.snapshot());
    const now = Math.max(nowMs, this.latestMs);
    // the watch's churn rule over the same closes, peer by peer: a row never contradicts the findings
    const churning = new Set(churningPeers(closesInChurnWindow(this.closedSamples.toArray(), now)).map((p) => p.peer));
    return this.peerBook.rows(live, now, this.watch.sinceMs, limit, churning);
  }

  get processes(): readonly ProcessInfo[] {
    return [...this.members.values()];
  }

  history(): readonly LiveCountSample[] {
    return this.samples.toArray();
  }

  findings(nowMs: number): Finding[] {
    if (this.currentProcess === undefined || this.lastInput === undefined) return [];
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

  private evaluateFindings(now: number): TrackerEvent[] {
    return this.findingLog.update(this.computeAt(now), now).map((c) => ({ type: 'finding', atMs: now, change: c.change, finding: c.finding }));
  }

  private findingsInput(now: number, scan: LiveScan): FindingsInput {
    return {
      nowMs: now,
      closeWait: scan.closeWait,
      history: this.samples.toArray(),
      recentCloses: this.closedSamples.toArray(),
      closesInWindow: 0,
      closesPerMinute: 0,
      bestLive: scan.bestLive,
      bestClosed: this.bestClosed,
      reused: scan.reusedLive + this.reusedClosed,
    };
  }

  private clampTime(nowMs: number): number {
    const now = Math.max(nowMs, this.latestMs);
    this.latestMs = now;
    return now;
  }

  private liveCount(): number {
    return this.records.size - this.listenerCount;
  }

  /**
   * Counters from a destroy notification (the whole tcp_info) or eBPF (totals only), newer than the
   * last poll's: the traffic after the last poll counts too. Older ones (a stale message) are ignored.
   */
  private finalCounters(rec: LiveRecord, ended: SocketEnded): void {
    const last = rec.connection.tcp;
    if (last === undefined) return; // a source without tcp internals: nothing to bring up to date
    const t: TcpInternals | undefined = ended.tcp ?? (ended.totals === undefined ? undefined : { ...last, ...ended.totals });
    if (t === undefined || (t.segmentsSent ?? 0) < (last.segmentsSent ?? 0) || (t.segmentsReceived ?? 0) < (last.segmentsReceived ?? 0)) return;
    if (rec.exchanges !== undefined) exchangesNext(rec.exchanges, t);
    rec.connection = { ...rec.connection, tcp: { ...last, ...t, cookie: last.cookie } };
  }

  /**
   * `how`: seen gone by a poll, or closed because the process went away; `exact`: at the time the
   * kernel ended it (between-poll evidence). Exit closes are real lifetimes, but a process exiting
   * with ten connections is not ten connections churned, so they stay out of the churn window.
   */
  private close(rec: LiveRecord, at: number, how: 'poll' | 'exit', exact: boolean): TrackerEvent {
    const lifetimeMs = at - rec.firstSeenMs;
    this.rememberClosed(rec, at);
    const event: TrackerEvent = { type: 'close', atMs: at, conn: rec.snapshot(), lifetimeMs, closeTime: exact ? 'exact' : 'poll' };
    const bound = rec.preexisting ? 'lower' : rec.openExact ? (exact ? 'exact' : 'upper') : exact ? 'lower' : undefined;
    if (bound !== undefined) event.lifetimeBound = bound;
    if (rec.listener) return event;
    const known = rec.preexisting ? undefined : lifetimeMs;
    this.peerBook.closed(rec.connection, at, known, rec.exchanges?.count);
    this.watch.closes(rec.preexisting, known);
    this.view.closes(rec.preexisting, known);
    const exchanges = rec.exchanges?.count;
    if (!rec.preexisting && how !== 'exit' && rec.connection.state !== 'CLOSE_WAIT') {
      const peer = this.peerBook.keyOf(rec.connection);
      this.churnSample(exchanges === undefined ? { atMs: at, lifetimeMs, peer } : { atMs: at, lifetimeMs, exchanges, peer });
    }
    if (exchanges !== undefined) this.reuseSample(rec, exchanges, at);
    return event;
  }

  private churnSample(s: ClosedSample): void {
    this.recentCloses.add(s.atMs, 1);
    this.closedSamples.push(s);
  }

  private reuseSample(rec: Pick<LiveRecord, 'id' | 'connection' | 'firstSeenMs' | 'preexisting'>, exchanges: number, closedAtMs: number): void {
    if (!carriesReuse(exchanges)) return;
    this.reusedClosed++;
    if (this.bestClosed === undefined || exchanges > this.bestClosed.exchanges) {
      const peer = this.peerBook.keyOf(rec.connection);
      this.bestClosed = { id: rec.id, connection: rec.connection, exchanges, firstSeenMs: rec.firstSeenMs, closedAtMs, preexisting: rec.preexisting, peer };
    }
  }

  private rememberClosed(rec: LiveRecord, at: number): void {
    this.recentlyClosed.add(rec.tuple, rec.cookie, at);
  }

  /** a live socket of the target: by cookie, or by tuple unless both cookies are known and differ */
  private isLive(local: Endpoint, remote: Endpoint, cookie: string | undefined): boolean {
    if (cookie !== undefined && this.liveByCookie.has(cookie)) return true;
    const rec = this.liveByTuple.get(local, remote);
    return rec !== undefined && (rec.cookie === undefined || cookie === undefined || rec.cookie === cookie);
  }

  private indexCookie(rec: LiveRecord): void {
    const cookie = rec.connection.tcp?.cookie;
    if (cookie === undefined || cookie === rec.cookie) return;
    if (rec.cookie !== undefined && this.liveByCookie.get(rec.cookie) === rec) this.liveByCookie.delete(rec.cookie);
    rec.cookie = cookie;
    this.liveByCookie.set(cookie, rec);
  }

  /** the live record a connection of a snapshot would be, by inode or (without one) by key */
  private recordOf(c: Connection): LiveRecord | undefined {
    return c.inode > 0 ? this.liveByInode.get(c.inode) : this.liveByKey.get(connectionKey(c));
  }

  private forget(rec: LiveRecord): void {
    this.records.delete(rec);
    const inode = rec.connection.inode;
    if (inode > 0) {
      if (this.liveByInode.get(inode) === rec) this.liveByInode.delete(inode);
    } else {
      const key = rec.key;
      if (this.liveByKey.get(key) === rec) this.liveByKey.delete(key);
    }
    this.liveByTuple.delete(rec);
    if (rec.cookie !== undefined && this.liveByCookie.get(rec.cookie) === rec) this.liveByCookie.delete(rec.cookie);
    if (rec.listener) this.listenerCount--;
  }

  private clearLive(): void {
    this.records.clear();
    this.liveByKey.clear();
    this.liveByInode.clear();
    this.liveByTuple.clear();
    this.liveByCookie.clear();
    this.listenerCount = 0;
  }

  private takeStarted(cookie: string | undefined, tuple: string, now: number): SocketStarted | undefined {
    if (this.pendingStarted.size === 0) return undefined;
    for (const key of cookie === undefined ? [tuple] : [cookie, tuple]) {
      const s = this.pendingStarted.get(key);
      if (s === undefined) continue;
      this.pendingStarted.delete(key);
      if (s.atMs <= now) return s;
    }
    return undefined;
  }

  /**
   * Ends that matched no socket closing in this poll:
   * - the socket is still alive in this snapshot (its end raced the poll): kept for the next poll;
   * - a socket a poll already saw close (a late destroy notification): dropped;
   * - the target's, by PID (eBPF) or by an inbound connection to a port it listens on: a brief
   *   connection, one `close` event;
   * - another process's (another PID, or the peer end of the target's own connections): dropped;
   * - anything else: counted apart per remote endpoint, owner unknown.
   */
  private settleEvidence(evidence: Evidence, listeners: ListenerIndex, pids: ReadonlySet<number>, previousMs: number, now: number): TrackerEvent[] {
    const out: TrackerEvent[] = [];
    for (const e of evidence.unusedEnded()) {
      const tuple = tupleKey(e.local, e.remote);
      if (this.isLive(e.local, e.remote, e.cookie)) {
        if (e.atMs > now - PENDING_EVIDENCE_MS) this.pendingEnded.push(e);
        continue;
      }
      if (this.recentlyClosed.has(tuple, e.cookie)) continue;
      if (e.state === 'LISTEN') continue;
      if (e.pid !== undefined) {
        if (pids.has(e.pid)) out.push(this.briefClose(e, tuple, previousMs, now, listeners));
        continue;
      }
      if (listeners.accepts(e.local)) {
        out.push(this.briefClose(e, tuple, previousMs, now, listeners));
        continue;
      }
      // The other end of a connection the target accepted, or of one it made: the peer's socket.
      if (listeners.accepts(e.remote)) continue;
      const swapped = tupleKey(e.remote, e.local);
      if (this.liveByTuple.has(e.remote, e.local) || this.recentlyClosed.hasTuple(swapped)) continue;
      if (this.hints !== undefined && this.hints.likelyRemotes.has(remoteKey(e.remote))) {
        this.likelyBrief(e, previousMs, now);
        continue;
      }
      this.unattributed.add(formatEndpoint(e.remote));
    }
    for (const [key, s] of this.pendingStarted) if (s.atMs <= now - PENDING_EVIDENCE_MS) this.pendingStarted.delete(key);
    this.recentlyClosed.expire(now);
    out.sort((a, b) => a.atMs - b.atMs);
    return out;
  }

  /** A connection of the target that opened and closed between two polls. */
  private briefClose(e: SocketEnded, tuple: string, previousMs: number, now: number, listeners: ListenerIndex): TrackerEvent {
    const started = e.startedAtMs ?? this.takeStarted(e.cookie, tuple, e.atMs)?.atMs;
    // Without its start, it began no earlier than the previous poll, which did not see it (one
    // exception: an inbound connection that waited in the accept queue across that poll).
    const endMs = Math.min(e.atMs, now);
    const startMs = started ?? Math.min(endMs, Number.isFinite(previousMs) ? previousMs : endMs);
    const lifetimeMs = Math.max(0, endMs - startMs);
    const state = e.state ?? 'CLOSE';
    const connection: Connection = { protocol: e.protocol, local: { ...e.local }, remote: { ...e.remote }, state, inode: 0 };
    if (e.tcp !== undefined) connection.tcp = { ...e.tcp };
    const conn: TrackedConnection = {
      id: `c${this.nextId++}`,
      key: `brief|${e.cookie ?? tuple}`,
      connection,
      firstSeenMs: startMs,
      lastSeenMs: endMs,
      preexisting: false,
      states: [{ state, atMs: endMs }],
    };
    if (started !== undefined) conn.openExact = true;
    const exchanges = briefExchanges(e);
    if (exchanges !== undefined) conn.exchanges = exchanges;
    if (listeners.accepts(e.local)) connection.direction = 'in';
    else connection.direction = 'out';
    this.peerBook.opened(connection, startMs);
    this.peerBook.closed(connection, endMs, lifetimeMs, exchanges);
    for (const set of [this.watch, this.view]) {
      set.opens(endMs, 1);
      set.closes(false, lifetimeMs);
      set.brief++;
    }
    if (state !== 'CLOSE_WAIT') {
      const peer = this.peerBook.keyOf(connection);
      this.churnSample(exchanges === undefined ? { atMs: endMs, lifetimeMs, brief: true, peer } : { atMs: endMs, lifetimeMs, exchanges, brief: true, peer });
    }
    if (exchanges !== undefined) this.reuseSample(conn, exchanges, endMs);
    this.recentlyClosed.add(tuple, e.cookie, endMs);
    // The event is placed no earlier than the previous poll, so a recording's times never go back.
    const atMs = Number.isFinite(previousMs) ? Math.max(endMs, previousMs) : endMs;
    return { type: 'close', atMs, conn, lifetimeMs, closeTime: 'exact', lifetimeBound: started === undefined ? 'upper' : 'exact', brief: true };
  }

  /**
   * A brief connection likely the target's (OwnershipHints): counted apart, never in opened, closed,
   * brief, the lifetimes or the peer rows' counts; it does enter the churn samples, marked, so a
   * finding that rests on it says so (likelyInWindow). No event: the stream holds proven ones only.
   */
  private likelyBrief(e: SocketEnded, previousMs: number, now: number): void {
    const endMs = Math.min(e.atMs, now);
    const startMs = e.startedAtMs ?? Math.min(endMs, Number.isFinite(previousMs) ? previousMs : endMs);
    this.watch.likelyBrief++;
    this.view.likelyBrief++;
    this.recentlyClosed.add(tupleKey(e.local, e.remote), e.cookie, endMs);
    if (e.state === 'CLOSE_WAIT') return;
    const exchanges = briefExchanges(e);
    const peer = this.peerBook.keyOf({ local: e.local, remote: e.remote, direction: 'out' });
    const s: ClosedSample = { atMs: endMs, lifetimeMs: Math.max(0, endMs - startMs), brief: true, likely: true, peer };
    if (exchanges !== undefined) s.exchanges = exchanges;
    this.churnSample(s);
  }

  private afterChange(now: number): void {
    const live = this.liveCount();
    this.watch.live(live);
    this.view.live(live);
    this.samples.push({ atMs: now, count: live });
  }

  private resetAll(now: number): void {
    const live = this.liveCount();
    this.watch.reset(now, live);
    this.view.reset(now, live);
    this.recentCloses.clear();
    this.closedSamples.clear();
    this.reusedClosed = 0;
    this.bestClosed = undefined;
    this.pendingStarted.clear();
    this.pendingEnded = [];
    this.recentlyClosed.clear();
    this.peerBook.clear();
  }
}

/** This poll's between-poll evidence, indexed for matching; each `ended` is used at most once. */
class Evidence {
  readonly started: SocketStarted[] = [];
  private readonly ended: SocketEnded[] = [];
  private readonly used = new Set<SocketEnded>();
  private readonly byCookie = new Map<string, SocketEnded>();
  private readonly byTuple = new Map<string, SocketEnded>();

  constructor(events: readonly SocketLifecycleEvent[], carried: readonly SocketEnded[], pids: ReadonlySet<number>) {
    for (const e of [...carried, ...events]) {
      if (e.kind === 'started') {
        // Only the target's own starts say anything about its connections' ages.
        if (e.pid !== undefined && pids.has(e.pid)) this.started.push(e);
        continue;
      }
      this.ended.push(e);
      if (e.cookie !== undefined) this.byCookie.set(e.cookie, e);
      this.byTuple.set(tupleKey(e.local, e.remote), e);
    }
  }

  /** the end of this socket: by cookie when both sides have one, else by tuple */
  takeEnded(cookie: string | undefined, tuple: string): SocketEnded | undefined {
    if (this.ended.length === 0) return undefined;
    let e = cookie === undefined ? undefined : this.byCookie.get(cookie);
    if (e === undefined) {
      const t = this.byTuple.get(tuple);
      // a tuple match with another cookie is another socket that had the same endpoints
      if (t !== undefined && (cookie === undefined || t.cookie === undefined || t.cookie === cookie)) e = t;
    }
    if (e === undefined || this.used.has(e)) return undefined;
    this.used.add(e);
    return e;
  }

  get hasEnded(): boolean {
    return this.ended.length > 0;
  }

  unusedEnded(): SocketEnded[] {
    return this.ended.filter((e) => !this.used.has(e));
  }
}

/** What one walk over the live records gathers for the findings and the attribution rule. */
class LiveScan {
  /** the peer group of a connection (PeerBook.keyOf) */
  constructor(private readonly peerOf: (c: Connection) => string) {}
  readonly closeWait: CloseWaitCandidate[] = [];
  readonly listeners = new ListenerIndex();
  bestLive: ReuseCandidate | undefined;
  reusedLive = 0;

  add(rec: LiveRecord): void {
    if (rec.listener) {
      this.listeners.add(rec.connection.local);
      return;
    }
    if (rec.connection.state === 'CLOSE_WAIT') {
      // The newest state entry is the current one (histories drop their oldest entries only).
      this.closeWait.push({ id: rec.id, sinceMs: rec.stateSinceMs });
    }
    const exchanges = rec.exchanges?.count;
    if (!carriesReuse(exchanges) || exchanges === undefined) return;
    this.reusedLive++;
    if (this.bestLive === undefined || exchanges > this.bestLive.exchanges) {
      this.bestLive = { id: rec.id, connection: rec.connection, exchanges, firstSeenMs: rec.firstSeenMs, preexisting: rec.preexisting, peer: this.peerOf(rec.connection) };
    }
  }
}

/**
 * What a poll did: the events before the opens (closes, exits, state changes), the records opened
 * (their open events at atMs, in this order), and the events after them (findings).
 */
interface PollOutcome {
  head: TrackerEvent[];
  opened: LiveRecord[];
  atMs: number;
  tail: TrackerEvent[];
}

class PollBatches implements TrackerEventBatches {
  private outcome: PollOutcome | undefined;
  private headGiven = false;
  private nextOpen = 0;

  constructor(
    outcome: PollOutcome,
    private readonly current: () => boolean,
  ) {
    this.outcome = outcome;
  }

  next(maxOpens: number): TrackerEvent[] | undefined {
    const o = this.outcome;
    if (o === undefined) return undefined;
    // an open event shows its record as the poll left it: a later poll has changed it since
    if (!this.current()) throw new Error('tracker events taken after a later poll');
    const out: TrackerEvent[] = [];
    if (!this.headGiven) {
      append(out, o.head);
      this.headGiven = true;
    }
    const end = Math.min(o.opened.length, this.nextOpen + Math.max(1, maxOpens));
    for (; this.nextOpen < end; this.nextOpen++) out.push({ type: 'open', atMs: o.atMs, conn: o.opened[this.nextOpen]!.snapshot(true) });
    if (this.nextOpen >= o.opened.length) {
      append(out, o.tail);
      this.outcome = undefined;
    }
    return out;
  }
}

/** appended one by one: a spread passes every element as an argument (a first poll has one per connection) */
function append<T>(dst: T[], src: readonly T[]): void {
  for (let i = 0; i < src.length; i++) dst.push(src[i]!);
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

function remoteCounts(records: ReadonlySet<LiveRecord>): Map<string, number> {
  const counts = new Map<string, number>();
  records.forEach((rec) => {
    if (rec.listener) return;
    const remote = formatEndpoint(rec.connection.remote);
    counts.set(remote, (counts.get(remote) ?? 0) + 1);
  });
  return counts;
}

/**
 * One connection per connectionKey(), the first listed, in order. Keys are built only when two
 * entries share an inode, or one has none: a first poll of a big target has thousands of entries,
 * all of distinct inodes.
 */
export function firstOfEachKey(conns: Connection[]): Connection[] {
  if (conns.length < 2) return conns;
  const inodes = new Float64Array(conns.length);
  for (let i = 0; i < conns.length; i++) {
    const inode = conns[i]!.inode;
    if (!(inode > 0)) return firstOfEachKeyByString(conns);
    inodes[i] = inode;
  }
  inodes.sort();
  for (let i = 1; i < inodes.length; i++) if (inodes[i] === inodes[i - 1]) return firstOfEachKeyByString(conns);
  return conns;
}

function firstOfEachKeyByString(conns: readonly Connection[]): Connection[] {
  const byKey = new Map<string, Connection>();
  for (const c of conns) {
    const key = connectionKey(c);
    if (!byKey.has(key)) byKey.set(key, c);
  }
  return [...byKey.values()];
}

function sortedByCount(m: Map<string, number>): Map<string, number> {
  return new Map([...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}
