// What the tracker exposes to views and the CLI. The tracker itself is pure: it is fed
// (snapshot, nowMs, lifecycle evidence) and never reads a clock, a file or a terminal.
import type { Connection, Endpoint, ProcessInfo, Snapshot, TcpState } from '../model';
import type { OwnershipHints, SocketLifecycleEvent } from './lifecycle-types';

export interface StateChange {
  state: TcpState;
  atMs: number;
}

export interface TrackedConnection {
  /** short, unique within one tracker run ("c1", "c2", …) */
  id: string;
  /** connectionKey() of the connection (brief ones: "brief|" + cookie or tuple) */
  key: string;
  /** the latest observation */
  connection: Connection;
  /** when its life began as far as known: the poll that first saw it, or the exact start (openExact) */
  firstSeenMs: number;
  lastSeenMs: number;
  /** present at the first poll: the true age is unknown, first seen is a lower bound */
  preexisting: boolean;
  /** firstSeenMs is the exact start, from between-poll evidence (eBPF saw the connect/accept) */
  openExact?: boolean;
  /** state history, oldest first, bounded (a flapping connection must not grow it for ever) */
  states: StateChange[];
  /** request/response exchanges carried; present only when the source gives tcp internals */
  exchanges?: number;
}

export type ExitReason = 'exited' | 'pid_reused';

/**
 * How a close's lifetime relates to the truth. Absent: both ends seen by polls, so it is within one
 * poll interval either way.
 * - `lower`: the start is a lower bound (preexisting, or first seen by a poll and closed at a known
 *   instant), the connection lived at least this long;
 * - `upper`: the connection lived at most this long (exact start, close seen by a poll; or a brief
 *   connection whose start is bounded by the previous poll);
 * - `exact`: both ends from between-poll evidence.
 */
export type LifetimeBound = 'lower' | 'upper' | 'exact';

export type FindingChange = 'raised' | 'updated' | 'cleared';

/**
 * Why something ended other than by its own course: `exit`, the target process left (a connection
 * it held closed with it; a finding stopped holding at the evaluation the exit made).
 */
export type EndCause = 'exit';

/** A live connection's exchange count, where it changed since the last report. */
export interface ExchangeUpdate {
  id: string;
  exchanges: number;
}

/**
 * A brief connection likely the target's (OwnershipHints; tracker.ts settleEvidence): never a
 * `close`, counted apart; it enters the churn samples (marked) unless it ended in CLOSE_WAIT.
 */
export interface LikelyBrief {
  /** when it ended */
  atMs: number;
  lifetimeMs: number;
  local: Endpoint;
  remote: Endpoint;
  exchanges?: number;
  /** it ended in CLOSE_WAIT (a leak's, not churn) */
  closeWait?: true;
}

/**
 * What a poll (or the exit) left for the watch state beyond the connection events: the time of a
 * live-count sample and a findings evaluation, and what changed that no other event carries.
 */
export interface PollEvent {
  type: 'poll';
  atMs: number;
  /** the counters start at this poll: the watch's first, or the first of a process that took over the PID */
  first?: true;
  /** the evaluation made as the target exited (the findings it clears end with the exit) */
  atExit?: true;
  /**
   * live connections and listening sockets after this poll, when either changed since the last poll
   * event: a recording made through a --state lens lacks the events of what it did not show
   */
  live?: number;
  listening?: number;
  /** live connections whose exchange count changed at this poll */
  exchanges?: ExchangeUpdate[];
  /** brief connections likely the target's, ended since the previous poll */
  likelyBrief?: LikelyBrief[];
  /** brief connections no rule attributed to the target, one remote endpoint ("addr:port") each */
  unattributed?: string[];
}

/** Events carry a copy of the connection as it was when the event happened. */
export type TrackerEvent =
  | { type: 'open'; atMs: number; conn: TrackedConnection }
  | {
      type: 'close';
      atMs: number;
      conn: TrackedConnection;
      lifetimeMs: number;
      /** `exact`: atMs is when the kernel ended the socket; `poll`: the poll that found it gone */
      closeTime: 'poll' | 'exact';
      lifetimeBound?: LifetimeBound;
      /** a connection no poll saw: known only from between-poll evidence; this is its only event */
      brief?: true;
      /** `exit`: it closed with its process (the exit, or a group member leaving): not churn */
      cause?: EndCause;
      /**
       * The state the kernel reported just before the socket ended (its end came as between-poll
       * evidence); absent when unknown. conn.connection.state is the last state a poll saw (for a
       * brief connection, this one): a close line shows the socket closed, not stuck in it.
       */
      finalState?: TcpState;
    }
  | { type: 'state'; atMs: number; conn: TrackedConnection; from: TcpState; to: TcpState }
  | { type: 'finding'; atMs: number; change: FindingChange; finding: LastingFinding; cause?: EndCause }
  | { type: 'exit'; atMs: number; reason: ExitReason; process: ProcessInfo }
  | PollEvent;

export interface LifetimeStats {
  p50: number;
  p95: number;
  max: number;
}

/** Which counters `stats` reports: the whole watch (what `summary` says) or since the TUI's `r`. */
export type StatsScope = 'watch' | 'baseline';

export interface TrackerStats {
  /** live connections now (listening sockets not counted) */
  live: number;
  /** the target's listening sockets now */
  listening: number;
  peak: number;
  opened: number;
  closed: number;
  /** of `closed`: connections present at the first poll (their lifetimes are unknown) */
  closedPreexisting: number;
  /** of `opened` (and `closed`): brief connections, known only from between-poll evidence */
  brief: number;
  /**
   * brief connections likely the target's but not proven (no owner in the evidence; its remote is
   * one the target talks to and nobody else in the namespace does): never in opened/closed/brief
   */
  likelyBrief: number;
  /** opens over the last 60 s of tracked time (scaled when less than 60 s has been watched) */
  opensPerMinute: number;
  /** of closed connections that opened while watched; null until one has closed */
  lifetimeMs: LifetimeStats | null;
  /**
   * live connections per remote endpoint "address:port" (IPv6 as [addr]:port), most first. Built
   * when first read (a string per connection: the summary's line never reads it), from the live
   * connections then: read it before the next poll.
   */
  readonly perRemote: Map<string, number>;
  /** nowMs - first poll (the whole watch, also for the baseline scope) */
  durationMs: number;
  /** when these counters start: the first poll, or the latest baseline */
  sinceMs: number;
}

export interface LiveCountSample {
  atMs: number;
  count: number;
}

export type FindingKind = 'reuse' | 'churn' | 'close_wait' | 'growth';

/**
 * A finding as core draws it: numbers only. The words are the views' (findingMessage in
 * src/views/output/finding-message.ts), given to the tracker as TrackerOptions.describeFinding.
 */
export interface FindingFacts {
  kind: FindingKind;
  /**
   * What kind of evidence it rests on (e.g. churn: "polled", "brief", "polled+brief"); a change
   * of basis is an `updated` finding event.
   */
  basis: string;
  /** kind-specific numbers (e.g. exchanges, perMinute, medianLifetimeMs, count) */
  [detail: string]: unknown;
}

/** What a finding is about beyond its numbers: the connection a reuse finding names. */
export interface FindingSubject {
  connection: Connection;
  /** it was open when the watch began: its lifetime is a lower bound */
  preexisting: boolean;
}

/** A finding's facts and, for views, its sentence (the `message` of the JSON output). */
export interface Finding extends FindingFacts {
  message: string;
}

/** The words for a finding. */
export type DescribeFinding = (facts: FindingFacts, subject: FindingSubject | undefined) => string;

/** A finding as remembered for the whole watch: from when it held, and until when. */
export interface LastingFinding {
  finding: Finding;
  sinceMs: number;
  /** null while it still holds */
  untilMs: number | null;
  /** `exit`: it stopped holding because the target exited, not because the problem went away */
  cause?: EndCause;
}

export type PeerDirection = 'in' | 'out';

/** One row of peers(): connections grouped by peer (see peer-stats.ts). */
export interface PeerStats {
  /** outbound: the remote endpoint; inbound: the local endpoint connections arrived on; or `other` */
  peer: string;
  direction: PeerDirection;
  live: number;
  /** opened while watched (preexisting connections are live or closed, never opened) */
  opened: number;
  closed: number;
  opensPerMinute: number;
  /** median lifetime of recent closes of connections opened while watched; null until one closed */
  lifetimeMs: { p50: number } | null;
  /** mean exchanges of the group's connections (closed and live) where known; null when unknown */
  exchangesPerConnection: number | null;
  /** the findings whose rule holds for this group alone (the watch's predicates, findings.ts) */
  findings: FindingKind[];
}

/** Brief connections no rule attributed to the target, per remote endpoint. */
export interface UnattributedBrief {
  remote: string;
  count: number;
}

/** A poll's events, in poll()'s order, taken batch by batch. */
export interface TrackerEventBatches {
  /**
   * The next events, with at most `maxOpens` open events among them; the first call always gives
   * an array (empty when the poll changed nothing), then undefined once every event was given.
   * Take them all before the tracker's next poll (a later poll makes this throw).
   */
  next(maxOpens: number): TrackerEvent[] | undefined;
}

export interface Tracker {
  /**
   * Feed one poll, and the between-poll evidence the source gathered since the previous one.
   * Returns the events it caused, in order: brief closes, closes, state changes, opens, findings,
   * exit. Event times are `snapshot.observedAtMs` when the source gives it, else nowMs.
   */
  poll(snapshot: Snapshot, nowMs: number, lifecycle?: readonly SocketLifecycleEvent[], hints?: OwnershipHints): TrackerEvent[];
  /**
   * poll(), its events handed out in batches (see TrackerEventBatches): the open events, one per
   * connection at a first poll, are built as they are taken, so a caller that writes each batch
   * before taking the next never holds them all (held all at once, a big target's outlived the
   * young generation). The tracker's state is the same as after poll().
   */
  pollBatches(snapshot: Snapshot, nowMs: number, lifecycle?: readonly SocketLifecycleEvent[], hints?: OwnershipHints): TrackerEventBatches;
  /**
   * The target is gone: closes every live connection and emits `exit`. `lifecycle`: the evidence
   * gathered up to the exit (drained after it was seen), taken in first: the ends of live
   * connections give their exact close times and final counters (else closedAt = nowMs), and the
   * target's connections that opened and closed after the last poll are counted (brief).
   */
  processGone(nowMs: number, lifecycle?: readonly SocketLifecycleEvent[], hints?: OwnershipHints): TrackerEvent[];
  /**
   * Which of these remote endpoints the target talks to (an outbound connection to it, live or
   * closed, seen while watched), as remoteKey() strings: the first half of the likelyBrief rule.
   */
  talksTo(remotes: readonly Endpoint[]): Set<string>;
  /** Move the display baseline (TUI `r`): stats(now, 'baseline') counts from here. Nothing else changes. */
  resetBaseline(nowMs: number): void;
  /** the process of the latest snapshot (undefined before the first poll) */
  readonly process: ProcessInfo | undefined;
  readonly exited: boolean;
  /** live connections and listening sockets, in first-seen order */
  live(): readonly TrackedConnection[];
  /** Both endpoints of every live connection, read in place (no copies, unlike live()). */
  liveEndpoints(): Iterable<Endpoint>;
  stats(nowMs: number, scope?: StatsScope): TrackerStats;
  /** the processes watched now (one for a single PID; empty once every one has exited) */
  readonly processes: readonly ProcessInfo[];
  /** connections grouped by peer (remote endpoint out, local endpoint in), busiest first; see peer-stats.ts */
  peers(nowMs: number, limit?: number): PeerStats[];
  /** bounded ring of (time, live count), oldest first */
  history(): readonly LiveCountSample[];
  /** the findings that hold as of the latest poll, their numbers brought to nowMs */
  findings(nowMs: number): Finding[];
  /** every finding raised during the watch, oldest first; those that still hold have untilMs null */
  findingHistory(): readonly LastingFinding[];
  /** brief connections seen in the namespace that no rule attributed to the target, busiest first */
  unattributedBrief(limit?: number): UnattributedBrief[];
}
