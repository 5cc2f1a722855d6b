// Drives a replay tracker (src/core/tracker.ts ReplayTracker) through a recording: at each step
// it feeds the recorded events of one poll to the same watch state a live watch feeds. Findings,
// statistics and peer rows therefore come from the same code as in a live watch; the connections,
// their ids, times, exchange counts and brief closes are the recording's (recorded-steps.ts).
import type { SourceName } from '../model';
import { ReplayTracker } from '../core/tracker';
import { findingMessage } from '../views/output/finding-message';
import type { Tracker, TrackerEvent } from '../core/tracker-types';
import type { Recording } from './recording';
import { recordedSteps, trackerEventsOf, type RecordedStep, type RecordedSteps } from './recorded-steps';

const KNOWN_SOURCES: readonly SourceName[] = ['procfs', 'netlink', 'systeminformation'];

export function sourceNameOf(rec: Recording): SourceName {
  return KNOWN_SOURCES.find((s) => s === rec.start.source) ?? 'procfs';
}

export class Replayer {
  readonly plan: RecordedSteps;
  private trackerNow!: ReplayTracker;
  /** index of the last step applied; -1 before the first */
  private pos = -1;

  constructor(readonly recording: Recording) {
    this.plan = recordedSteps(recording);
    this.reset();
  }

  get tracker(): Tracker {
    return this.trackerNow;
  }

  get steps(): readonly RecordedStep[] {
    return this.plan.steps;
  }

  get position(): number {
    return this.pos;
  }

  get done(): boolean {
    return this.pos >= this.plan.steps.length - 1;
  }

  /** the time of the last step applied (the start before the first) */
  get nowMs(): number {
    return this.plan.steps[Math.max(0, this.pos)]!.atMs;
  }

  /** A fresh tracker, before the first step. */
  reset(): void {
    const start = this.recording.start;
    this.trackerNow = new ReplayTracker(start.process, start.processes, { describeFinding: findingMessage });
    this.pos = -1;
  }

  /** Applies the next step; returns its events and the findings drawn from them (empty at the end). */
  next(): TrackerEvent[] {
    if (this.done) return [];
    this.pos++;
    return this.trackerNow.replay(trackerEventsOf(this.plan.steps[this.pos]!));
  }

  /** Moves to step `index` (backwards means replaying from the start: the state only goes forward). */
  seek(index: number): TrackerEvent[] {
    const target = Math.max(-1, Math.min(index, this.plan.steps.length - 1));
    if (target < this.pos) this.reset();
    const events: TrackerEvent[] = [];
    while (this.pos < target) for (const e of this.next()) events.push(e);
    return events;
  }
}
