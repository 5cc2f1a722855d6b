// The contract between a session (the poll loop in src/watch/, a replay) and the views that follow
// it (TUI, line output, metrics). It lives with the views, its consumers: a view never imports from
// src/watch, which imports views (event lines, the TUI), so the two never form a cycle.
import type { SourceName, StateFilter } from '../model';
import type { Tracker, TrackerEvent } from '../core/tracker-types';
import type { LifecycleStatus } from '../core/lifecycle-types';

/** How well the polls keep up with the interval (measured by src/watch/poll-cadence.ts). */
export interface LagStats {
  /** the interval in use */
  intervalMs: number;
  /** polls started, the first included */
  polls: number;
  /** gaps longer than LATE_FACTOR × the interval */
  late: number;
  /** of the gaps between poll starts; null before the second poll (±1 %) */
  medianGapMs: number | null;
  p95GapMs: number | null;
  maxGapMs: number | null;
  /** the recent polls are late (see LAG_WINDOW) */
  lagging: boolean;
}

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

/** What a replay's own keys ask of it (views/tui/keys.ts REPLAY_KEYS maps the keys). */
export type ReplayAction =
  | { type: 'playback' }
  | { type: 'step'; by: 1 | -1 }
  | { type: 'speed'; by: 1 | -1 }
  | { type: 'jump'; by: 1 | -1 };

/** A replay as the full-screen view drives it: its banner line, and its keys as actions. */
export interface ReplayControl {
  banner(): string;
  /** does it; returns the status line to show */
  act(a: ReplayAction): string;
}
