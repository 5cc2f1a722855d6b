// The polls of a recorded watch, rebuilt: one step per poll time that left an event, and in the
// quiet stretches between them one step per interval, as the poll loop ran (it keeps a steady
// cadence). The tracker's live-count history, and so the growth finding, needs those quiet polls.
// A recording's span is whatever its times say (years, at a 20 ms interval), so the quiet polls
// are spaced further apart when there would be more than the plan holds (MAX_REPLAY_STEPS).
import type { Recording, RecordedEvent } from './recording';
import { MAX_REPLAY_STEPS } from './recording-limits';

export interface ReplayStep {
  atMs: number;
  /** the recorded events of this poll, in file order (empty for a quiet poll) */
  events: RecordedEvent[];
}

export interface ReplayPlan {
  steps: ReplayStep[];
  /** when the watch ended: the summary's time, else the last step */
  endMs: number;
}

/** Steps: one per event time, and quiet ones up to `maxSteps` in all (more only when the events alone take more). */
export function planSteps(rec: Recording, maxSteps = MAX_REPLAY_STEPS): ReplayPlan {
  const interval = rec.start.intervalMs;
  // Stable sort: within one poll the file order is the tracker's order (closes, states, opens).
  const events = rec.events.map((e, i) => ({ e, i })).sort((a, b) => a.e.atMs - b.e.atMs || a.i - b.i).map((x) => x.e);
  const lastEventMs = events.length === 0 ? rec.start.atMs : Math.max(rec.start.atMs, events[events.length - 1]!.atMs);
  const endMs = Math.max(rec.summaryAtMs ?? lastEventMs, lastEventMs);
  let eventSteps = 0;
  for (let i = 0; i < events.length; i++) if (events[i]!.atMs > rec.start.atMs && (i === 0 || events[i]!.atMs > events[i - 1]!.atMs)) eventSteps++;
  const quietBudget = maxSteps - 1 - eventSteps;
  const quietEvery = quietBudget <= 0 ? Infinity : Math.max(interval, (endMs - rec.start.atMs) / quietBudget);

  const steps: ReplayStep[] = [{ atMs: rec.start.atMs, events: [] }];
  let last = steps[0]!;
  for (const e of events) {
    if (e.atMs <= last.atMs) {
      last.events.push(e);
      continue;
    }
    fillQuiet(steps, last.atMs, e.atMs - interval / 2, quietEvery);
    last = { atMs: e.atMs, events: [e] };
    steps.push(last);
  }
  if (!events.some((e) => e.type === 'exit')) fillQuiet(steps, last.atMs, endMs, quietEvery);
  return { steps, endMs };
}

/** quiet polls after `fromMs`, `every` apart, up to `untilMs` */
function fillQuiet(steps: ReplayStep[], fromMs: number, untilMs: number, every: number): void {
  // counted first: adding `every` up would let rounding slip one step more into each stretch
  const n = Math.floor((untilMs - fromMs) / every);
  for (let k = 1; k <= n; k++) steps.push({ atMs: fromMs + k * every, events: [] });
}
