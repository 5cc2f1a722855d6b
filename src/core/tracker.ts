// Follows every TCP socket of one target process across polls. Pure: it is fed (snapshot, nowMs,
// between-poll evidence) and never reads a clock, a file or a terminal, so every behaviour here is
// unit-tested with synthetic sequences.
//
// Two parts, and this file joins them: the reconciler (reconciler.ts, with live-index.ts and
// between-polls.ts) turns snapshots and evidence into connection events; the watch state
// (watch-state.ts) is fed those events and nothing else, and holds the counters, peers, history and
// findings. A replay (ReplayTracker) feeds the watch state the events a recording holds, so its
// numbers come from the same code as the live watch's.
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
// - Findings are evaluated after every poll (at its `poll` event, which also carries what the poll
//   changed that no other event says: exchange counts, likely and unattributed brief connections);
//   FindingLog turns them into episodes (`finding` events) that the summary lists for the whole
//   watch. Those an exit ends say so (`cause: exit`).
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
import type { Endpoint, ProcessInfo, Snapshot } from '../model';
import type {
  DescribeFinding,
  Finding,
  LastingFinding,
  LiveCountSample,
  PeerStats,
  StatsScope,
  Tracker,
  TrackedConnection,
  TrackerEvent,
  TrackerEventBatches,
  TrackerStats,
  UnattributedBrief,
} from './tracker-types';
import type { OwnershipHints, SocketLifecycleEvent } from './lifecycle-types';
import type { LiveRecord } from './live-record';
import { Reconciler } from './reconciler';
import { WatchState, type ConnectionFacts } from './watch-state';
import { PollBatches } from './poll-batches';
import { RecordedLive } from './recorded-live';

export { firstOfEachKey } from './socket-identity';
export { PENDING_EVIDENCE_MS, RECENTLY_CLOSED_MAX, RECENTLY_CLOSED_MS } from './between-polls';
export { UNATTRIBUTED_MAX_REMOTES } from './watch-state';

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

export function createTracker(options: TrackerOptions = {}): Tracker {
  return new LiveTracker(options);
}

/** What the watch is of now: its processes and live sockets (the reconciler's, or a recording's). */
interface WatchedNow {
  readonly process: ProcessInfo | undefined;
  readonly exited: boolean;
  readonly processes: readonly ProcessInfo[];
  live(): TrackedConnection[];
  liveEndpoints(): Iterable<Endpoint>;
}

/** The read side of a tracker: the watch state's numbers, and what is watched now. */
abstract class StateTracker {
  protected readonly state: WatchState;

  constructor(
    options: TrackerOptions,
    protected readonly now: WatchedNow,
  ) {
    this.state = new WatchState(options.historySize ?? DEFAULT_HISTORY_SIZE, options.describeFinding ?? ((f) => f.kind));
  }

  /** Feeds events to the watch state; a poll event's findings follow it. */
  protected feed(events: readonly TrackerEvent[], out: TrackerEvent[] = []): TrackerEvent[] {
    for (const e of events) {
      out.push(e);
      const findings = this.state.apply(e);
      for (let i = 0; i < findings.length; i++) out.push(findings[i]!);
    }
    return out;
  }

  get process(): ProcessInfo | undefined {
    return this.now.process;
  }
  get exited(): boolean {
    return this.now.exited;
  }
  get processes(): readonly ProcessInfo[] {
    return this.now.processes;
  }
  live(): readonly TrackedConnection[] {
    return this.now.live();
  }
  liveEndpoints(): Iterable<Endpoint> {
    return this.now.liveEndpoints();
  }
  talksTo(remotes: readonly Endpoint[]): Set<string> {
    return this.state.talksTo(remotes);
  }
  resetBaseline(nowMs: number): void {
    this.state.resetBaseline(nowMs);
  }
  stats(nowMs: number, scope: StatsScope = 'watch'): TrackerStats {
    return this.state.stats(nowMs, scope);
  }
  peers(nowMs: number, limit?: number): PeerStats[] {
    return this.state.peers(nowMs, limit);
  }
  history(): readonly LiveCountSample[] {
    return this.state.history();
  }
  findings(nowMs: number): Finding[] {
    return this.state.findings(nowMs);
  }
  findingHistory(): readonly LastingFinding[] {
    return this.state.findingHistory();
  }
  unattributedBrief(limit?: number): UnattributedBrief[] {
    return this.state.unattributedBrief(limit);
  }
}

/** The tracker of a live watch: polls reconciled into events, the events fed to the watch state. */
class LiveTracker extends StateTracker implements Tracker {
  private readonly reconciler: Reconciler;
  /** counts poll() and processGone(): batches of an earlier one cannot be taken after them */
  private changes = 0;

  constructor(options: TrackerOptions) {
    const stateSize = options.stateHistorySize ?? DEFAULT_STATE_HISTORY_SIZE;
    if (!Number.isInteger(stateSize) || stateSize < 1) {
      throw new RangeError(`stateHistorySize must be a positive integer, got ${stateSize}`);
    }
    const reconciler = new Reconciler({ stateHistorySize: stateSize, adopt: options.adoptNewProcess ?? true, ...(options.watchStart === undefined ? {} : { watchStart: options.watchStart }) });
    super(options, reconciler);
    this.reconciler = reconciler;
  }

  poll(snapshot: Snapshot, nowMs: number, lifecycle: readonly SocketLifecycleEvent[] = [], hints?: OwnershipHints): TrackerEvent[] {
    const all: TrackerEvent[] = [];
    const batches = this.pollBatches(snapshot, nowMs, lifecycle, hints);
    for (let b = batches.next(Infinity); b !== undefined; b = batches.next(Infinity)) for (let i = 0; i < b.length; i++) all.push(b[i]!);
    return all;
  }

  pollBatches(snapshot: Snapshot, nowMs: number, lifecycle: readonly SocketLifecycleEvent[] = [], hints?: OwnershipHints): TrackerEventBatches {
    const change = ++this.changes;
    const o = this.reconciler.poll(snapshot, nowMs, lifecycle, hints);
    const head = this.feed(o.head);
    if (o.restartAt !== undefined) this.state.restart(o.restartAt);
    // The watch state takes the opens as facts now; their events are built as they are taken.
    for (let i = 0; i < o.opened.length; i++) this.state.apply({ type: 'open', atMs: o.atMs, conn: openFacts(o.opened[i]!) });
    const tail = this.feed(o.tail);
    return new PollBatches({ head, opened: o.opened, atMs: o.atMs, tail }, () => this.changes === change);
  }

  processGone(nowMs: number, lifecycle: readonly SocketLifecycleEvent[] = [], hints?: OwnershipHints): TrackerEvent[] {
    this.changes++;
    return this.feed(this.reconciler.gone(nowMs, lifecycle, hints));
  }
}

/** An opened record as the watch state takes it (a small object that dies young, not an event copy). */
function openFacts(rec: LiveRecord): ConnectionFacts {
  const f: ConnectionFacts = { id: rec.id, connection: rec.connection, firstSeenMs: rec.firstSeenMs, preexisting: rec.preexisting };
  const n = rec.exchanges?.count;
  if (n !== undefined) f.exchanges = n;
  return f;
}

/**
 * The tracker of a replay: the events a recording holds are fed to the same watch state a live
 * watch feeds (no snapshot is rebuilt), the live connections kept from them (recorded-live.ts).
 * Its findings are drawn afresh by the watch state: the recording's own finding events are not fed.
 */
export class ReplayTracker extends StateTracker implements Tracker {
  private readonly recorded: RecordedLive;

  constructor(process: ProcessInfo, processes?: readonly ProcessInfo[], options: Pick<TrackerOptions, 'describeFinding' | 'historySize'> = {}) {
    const recorded = new RecordedLive(process, processes);
    super(options, recorded);
    this.recorded = recorded;
  }

  /**
   * The events of one recorded poll, in recorded order; returns them as fed, each poll event
   * followed by the findings its evaluation made. A poll event marked `first` restarts the
   * counters before the step's events (they belong to the process it starts).
   */
  replay(step: readonly TrackerEvent[]): TrackerEvent[] {
    for (const e of step) if (e.type === 'poll' && e.first === true) this.state.restart(e.atMs);
    const out: TrackerEvent[] = [];
    for (const e of step) {
      if (e.type === 'finding') continue;
      this.recorded.apply(e);
      this.feed([e], out);
    }
    return out;
  }

  poll(): TrackerEvent[] {
    throw new Error('a replay tracker is fed recorded events (replay), not polls');
  }

  pollBatches(): TrackerEventBatches {
    throw new Error('a replay tracker is fed recorded events (replay), not polls');
  }

  processGone(): TrackerEvent[] {
    throw new Error('a replay tracker is fed recorded events (replay), not polls');
  }
}
