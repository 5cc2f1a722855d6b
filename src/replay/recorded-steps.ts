// A recording's events as the watch state takes them, one step per recorded poll.
//
// A recording with poll events (every poll writes one, docs/output-contracts.md) is cut at them: a
// step is a poll's connection events, its poll event, and the finding and exit events that
// follow it. Nothing is invented: the times, exchange counts and brief connections are the
// recorded ones.
//
// An older recording has no poll events; its steps are rebuilt from the event times (replay-plan.ts,
// quiet polls one interval apart) and each gets the poll event it would have had, best effort:
// exchange counts where an event or the summary names them, closes in a step with an exit taken
// as the exit's, the poll after a PID-reuse exit restarting the counters.
import { connectionKey } from '../model';
import type { PollEvent, TrackedConnection, TrackerEvent } from '../core/tracker-types';
import type { RecordedConnection, RecordedEvent, Recording } from './recording';
import { planSteps } from './replay-plan';

export interface RecordedStep {
  /** the poll's time */
  atMs: number;
  /** the recorded events of this poll, in file order */
  events: RecordedEvent[];
  /** an older recording: the poll event this step would have had */
  poll?: PollEvent;
}

export interface RecordedSteps {
  steps: RecordedStep[];
  /** when the watch ended: the summary's time, else the last step */
  endMs: number;
  /** the recording has poll events: replayed as written */
  exact: boolean;
}

export function recordedSteps(rec: Recording): RecordedSteps {
  return rec.events.some((e) => e.type === 'poll') ? pollSteps(rec) : olderSteps(rec);
}

/** Cut at the poll events (file order is the tracker's order). */
function pollSteps(rec: Recording): RecordedSteps {
  const steps: RecordedStep[] = [];
  let cur: RecordedStep | undefined;
  let polled = false;
  for (const e of rec.events) {
    const tail = e.type === 'finding' || e.type === 'exit';
    if (cur === undefined || (polled && !tail)) {
      cur = { atMs: e.atMs, events: [] };
      steps.push(cur);
      polled = false;
    }
    cur.events.push(e);
    if (e.type === 'poll') {
      polled = true;
      cur.atMs = e.atMs;
    } else if (!polled) cur.atMs = Math.max(cur.atMs, e.atMs);
  }
  if (steps.length === 0) steps.push({ atMs: rec.start.atMs, events: [] });
  const last = steps[steps.length - 1]!.atMs;
  return { steps, endMs: Math.max(rec.summaryAtMs ?? last, last), exact: true };
}

/** Steps rebuilt from the event times, each with the poll event it would have had. */
function olderSteps(rec: Recording): RecordedSteps {
  const plan = planSteps(rec);
  const steps: RecordedStep[] = [];
  let afterReuse = true; // the first step starts the counters
  for (const s of plan.steps) {
    // a PID-reuse exit ends the old process's step; the newcomer's events make a step of their own
    const cut = s.events.findIndex((e) => e.type === 'exit' && e.reason === 'pid_reused');
    const parts = cut < 0 || cut === s.events.length - 1 ? [s.events] : [s.events.slice(0, cut + 1), s.events.slice(cut + 1)];
    for (const events of parts) {
      const poll: PollEvent = { type: 'poll', atMs: s.atMs };
      if (afterReuse) poll.first = true;
      afterReuse = events.some((e) => e.type === 'exit' && e.reason === 'pid_reused');
      if (events.some((e) => e.type === 'exit')) poll.atExit = true;
      const exchanges = events.flatMap((e) => (e.type === 'state' && e.conn.exchanges !== undefined ? [{ id: e.conn.id, exchanges: e.conn.exchanges }] : []));
      if (exchanges.length > 0) poll.exchanges = exchanges;
      steps.push({ atMs: s.atMs, events, poll });
    }
  }
  // The summary lists the connections live at the end with their exchanges as of the last poll.
  const end = steps[steps.length - 1]!.poll!;
  const atEnd = summaryExchanges(rec);
  if (atEnd.length > 0) end.exchanges = [...(end.exchanges ?? []), ...atEnd];
  return { steps, endMs: plan.endMs, exact: false };
}

function summaryExchanges(rec: Recording): { id: string; exchanges: number }[] {
  const conns = rec.summary?.connections;
  if (!Array.isArray(conns)) return [];
  const out: { id: string; exchanges: number }[] = [];
  for (const v of conns) {
    if (typeof v !== 'object' || v === null) continue;
    const o = v as Record<string, unknown>;
    if (typeof o.id === 'string' && typeof o.exchanges === 'number' && Number.isInteger(o.exchanges) && o.exchanges >= 0) out.push({ id: o.id, exchanges: o.exchanges });
  }
  return out;
}

/** A step's events as the tracker's events (the recorded findings left out: they are drawn afresh). */
export function trackerEventsOf(step: RecordedStep): TrackerEvent[] {
  const out: TrackerEvent[] = [];
  const withExit = step.poll?.atExit === true;
  for (const e of step.events) {
    switch (e.type) {
      case 'open':
        out.push({ type: 'open', atMs: e.atMs, conn: tracked(e.conn, e.atMs) });
        break;
      case 'state':
        out.push({ type: 'state', atMs: e.atMs, conn: tracked(e.conn, e.atMs), from: e.from, to: e.to });
        break;
      case 'close': {
        const end = e.brief ? e.conn.firstSeenMs + e.lifetimeMs : e.atMs;
        const c: TrackerEvent = { type: 'close', atMs: e.atMs, conn: tracked(e.conn, end), lifetimeMs: e.lifetimeMs, closeTime: e.closeTime ?? (e.brief ? 'exact' : 'poll') };
        if (e.lifetimeBound !== undefined) c.lifetimeBound = e.lifetimeBound;
        if (e.brief) c.brief = true;
        // an older recording says nothing of why: a close in the exit's step was the exit's
        if (e.cause !== undefined || (withExit && !e.brief)) c.cause = 'exit';
        if (e.finalState !== undefined) c.finalState = e.finalState;
        out.push(c);
        break;
      }
      case 'exit':
        out.push({ type: 'exit', atMs: e.atMs, reason: e.reason === 'pid_reused' ? 'pid_reused' : 'exited', process: { ...e.process } });
        break;
      case 'poll':
        out.push(e.poll);
        break;
      case 'finding':
        break;
    }
  }
  if (step.poll !== undefined) out.push(step.poll);
  return out;
}

function tracked(rc: RecordedConnection, lastSeenMs: number): TrackedConnection {
  const t: TrackedConnection = {
    id: rc.id,
    key: rc.key || connectionKey(rc.connection),
    connection: { ...rc.connection },
    firstSeenMs: rc.firstSeenMs,
    lastSeenMs,
    preexisting: rc.preexisting,
    states: [{ state: rc.connection.state, atMs: rc.firstSeenMs }],
  };
  if (rc.openExact === true) t.openExact = true;
  if (rc.exchanges !== undefined) t.exchanges = rc.exchanges;
  return t;
}
