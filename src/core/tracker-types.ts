// What the tracker exposes to views and the CLI. The tracker itself is pure: it is fed
// (snapshot, nowMs) and never reads a clock, a file or a terminal.
import type { Connection, ProcessInfo, TcpState } from '../model';

export interface StateChange {
  state: TcpState;
  atMs: number;
}

export interface TrackedConnection {
  /** short, unique within one tracker run ("c1", "c2", …) */
  id: string;
  /** connectionKey() of the connection */
  key: string;
  /** the latest observation */
  connection: Connection;
  firstSeenMs: number;
  lastSeenMs: number;
  /** present at the first poll: the true age is unknown, first seen is a lower bound */
  preexisting: boolean;
  /** state history, oldest first, bounded (a flapping connection must not grow it for ever) */
  states: StateChange[];
  /** request/response exchanges carried; present only when the source gives tcp internals */
  exchanges?: number;
}

export type ExitReason = 'exited' | 'pid_reused';

/** Events carry a copy of the connection as it was when the event happened. */
export type TrackerEvent =
  | { type: 'open'; atMs: number; conn: TrackedConnection }
  | { type: 'close'; atMs: number; conn: TrackedConnection; lifetimeMs: number }
  | { type: 'state'; atMs: number; conn: TrackedConnection; from: TcpState; to: TcpState }
  | { type: 'exit'; atMs: number; reason: ExitReason; process: ProcessInfo };

export interface LifetimeStats {
  p50: number;
  p95: number;
  max: number;
}

export interface TrackerStats {
  live: number;
  peak: number;
  opened: number;
  closed: number;
  /** opens over the last 60 s of tracked time (scaled when less than 60 s has been watched) */
  opensPerMinute: number;
  /** of closed connections; null until one has closed */
  lifetimeMs: LifetimeStats | null;
  /** live connections per remote endpoint "address:port" (IPv6 as [addr]:port) */
  perRemote: Map<string, number>;
  /** nowMs - first poll */
  durationMs: number;
}

export interface LiveCountSample {
  atMs: number;
  count: number;
}

export type FindingKind = 'reuse' | 'churn' | 'close_wait' | 'growth';

export interface Finding {
  kind: FindingKind;
  message: string;
  /** kind-specific numbers (e.g. exchanges, perMinute, medianLifetimeMs, count) */
  [detail: string]: unknown;
}

export interface Tracker {
  /** Feed one poll. Returns the events it caused, in order: closes, state changes, opens, exit. */
  poll(snapshot: import('../model').Snapshot, nowMs: number): TrackerEvent[];
  /** The target is gone: closes every live connection (closedAt = nowMs) and emits `exit`. */
  processGone(nowMs: number): TrackerEvent[];
  /** Zero the counters and statistics (TUI `r`); live connections stay, not re-opened. */
  resetCounters(nowMs: number): void;
  /** the process of the latest snapshot (undefined before the first poll) */
  readonly process: ProcessInfo | undefined;
  readonly exited: boolean;
  /** live connections, in first-seen order */
  live(): readonly TrackedConnection[];
  stats(nowMs: number): TrackerStats;
  /** bounded ring of (time, live count), oldest first */
  history(): readonly LiveCountSample[];
  /** `live`: the caller's copy from live(), when it already has one (saves a copy of every connection) */
  findings(nowMs: number, live?: readonly TrackedConnection[]): Finding[];
}
