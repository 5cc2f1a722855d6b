// The polls of a recorded watch, rebuilt: one step per poll time that left an event, and in the
// quiet stretches between them one step per interval, as the poll loop ran (it keeps a steady
// cadence). The tracker's live-count history, and so the growth finding, needs those quiet polls.
import type { Recording, RecordedEvent } from './recording';

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

export function planSteps(rec: Recording): ReplayPlan {
  const interval = rec.start.intervalMs;
  // Stable sort: within one poll the file order is the tracker's order (closes, states, opens).
  const events = rec.events.map((e, i) => ({ e, i })).sort((a, b) => a.e.atMs - b.e.atMs || a.i - b.i).map((x) => x.e);
  const steps: ReplayStep[] = [{ atMs: rec.start.atMs, events: [] }];
  let last = steps[0]!;
  for (const e of events) {
    if (e.atMs <= last.atMs) {
      last.events.push(e);
      continue;
    }
    fillQuiet(steps, last.atMs, e.atMs - interval / 2, interval);
    last = { atMs: e.atMs, events: [e] };
    steps.push(last);
  }
  const endMs = Math.max(rec.summaryAtMs ?? last.atMs, last.atMs);
  if (!events.some((e) => e.type === 'exit')) fillQuiet(steps, last.atMs, endMs, interval);
  return { steps, endMs };
}

/** quiet polls after `fromMs`, one interval apart, up to `untilMs` */
function fillQuiet(steps: ReplayStep[], fromMs: number, untilMs: number, interval: number): void {
  for (let t = fromMs + interval; t <= untilMs; t += interval) steps.push({ atMs: t, events: [] });
}
