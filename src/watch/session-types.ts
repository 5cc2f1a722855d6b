// The contract between the poll loop (src/watch/) and the views that follow it (TUI, line output).
import type { SourceName, StateFilter } from '../model';
import type { Tracker, TrackerEvent } from '../core/tracker-types';
import type { LifecycleStatus } from '../core/lifecycle-types';
import type { LagStats } from './poll-cadence';

export type UpdateListener = (events: readonly TrackerEvent[], nowMs: number) => void;

/**
 * Something about the watch itself, said once: the polls started falling behind the interval; a
 * poll failed for a transient reason (out of file descriptors: the watch retries every interval);
 * the polls succeed again after `failed` such failures.
 */
export type SessionNotice =
  | { kind: 'lagging'; atMs: number; lag: LagStats }
  | { kind: 'poll_failed'; atMs: number; reason: string; intervalMs: number }
  | { kind: 'poll_resumed'; atMs: number; failed: number };
export type NoticeListener = (notice: SessionNotice) => void;

export interface WatchSession {
  readonly pid: number;
  readonly tracker: Tracker;
  readonly sourceName: SourceName;
  /** the interval actually used */
  readonly intervalMs: number;
  /**
   * The lens the watch was started with (--state): what line output and recordings show, and the
   * TUI's first view. It never changes what is polled: every poll asks for all states.
   */
  readonly states: StateFilter;
  /** the facility that gives connections shorter than one poll, or 'none' and why */
  readonly briefConnections: LifecycleStatus;
  /** how the polls keep up with the interval */
  lag(): LagStats;
  /** wall-clock ms (the session's clock: views must not call Date.now themselves) */
  now(): number;
  /** when the session started watching */
  readonly startedMs: number;
  /**
   * Called after every poll (also with no events) and after the target exits, with the events in
   * order. A poll with many opens (a first poll: one per connection) calls it several times, a
   * batch of events each time (see Tracker.pollBatches): a listener takes each batch as it comes.
   */
  onUpdate(listener: UpdateListener): () => void;
  onNotice(listener: NoticeListener): () => void;
  /** stop polling; resolves once the final events have been delivered */
  stop(): Promise<void>;
}
