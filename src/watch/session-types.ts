// The contract between the poll loop (src/watch/) and the views that follow it (TUI, line output).
import type { SourceName, StateFilter } from '../model';
import type { Tracker, TrackerEvent } from '../core/tracker-types';

export type UpdateListener = (events: readonly TrackerEvent[], nowMs: number) => void;

export interface WatchSession {
  readonly pid: number;
  readonly tracker: Tracker;
  readonly sourceName: SourceName;
  readonly intervalMs: number;
  /** the state filter polled now; `setStates` applies from the next poll */
  readonly states: StateFilter;
  setStates(states: StateFilter): void;
  readonly paused: boolean;
  /** while paused no poll runs; the tracker keeps its data */
  setPaused(paused: boolean): void;
  /** wall-clock ms (the session's clock: views must not call Date.now themselves) */
  now(): number;
  /** when the session started watching */
  readonly startedMs: number;
  /** called after every poll (also with no events) and after the target exits */
  onUpdate(listener: UpdateListener): () => void;
  /** stop polling; resolves once the final events have been delivered */
  stop(): Promise<void>;
}
