// The poll loop: the one place that calls the source on a timer and feeds the tracker.
// Views subscribe with onUpdate; they never poll themselves.
import type { Snapshot, SourceName, StateFilter } from '../model';
import type { Tracker, TrackerEvent } from '../core/tracker-types';
import type { Source } from '../sources/source';
import type { UpdateListener, WatchSession } from './session-types';
import { isSockwatchError } from '../errors';

export type SessionEnd = { kind: 'exited' } | { kind: 'stopped' } | { kind: 'error'; error: unknown };

export interface PollSession extends WatchSession {
  /** settles when the target exits, stop() is called, or a poll fails unexpectedly */
  readonly ended: Promise<SessionEnd>;
}

export interface PollSessionOptions {
  pid: number;
  source: Source;
  tracker: Tracker;
  intervalMs: number;
  states: StateFilter;
  /** the first snapshot, already taken by the caller (so errors surface before any screen opens) */
  first: { snapshot: Snapshot; atMs: number };
  clock?: () => number;
}

export function startPollSession(o: PollSessionOptions): PollSession {
  const clock = o.clock ?? Date.now;
  const listeners = new Set<UpdateListener>();
  let states = o.states;
  let paused = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  let resolveEnded!: (e: SessionEnd) => void;
  const ended = new Promise<SessionEnd>((r) => (resolveEnded = r));

  const emit = (events: readonly TrackerEvent[], nowMs: number): void => {
    for (const l of listeners) l(events, nowMs);
  };
  const finish = (e: SessionEnd): void => {
    stopped = true;
    if (timer) clearTimeout(timer);
    o.source.close();
    resolveEnded(e);
  };

  const tick = async (): Promise<void> => {
    timer = undefined;
    if (stopped) return;
    const t0 = clock();
    if (!paused) {
      let events: TrackerEvent[];
      try {
        const snap = await o.source.snapshot(states);
        if (stopped) return;
        events = o.tracker.poll(snap, t0);
      } catch (e) {
        if (stopped) return;
        if (!(isSockwatchError(e) && e.code === 'no_such_process')) {
          finish({ kind: 'error', error: e });
          return;
        }
        events = o.tracker.processGone(t0);
      }
      emit(events, t0);
      if (events.some((e) => e.type === 'exit')) {
        finish({ kind: 'exited' });
        return;
      }
    }
    // Keep a steady cadence: the next poll is one interval after this one began, not after it ended.
    timer = setTimeout(schedule, Math.max(0, t0 + o.intervalMs - clock()));
  };
  const schedule = (): void => {
    inFlight = tick();
  };

  const firstEvents = o.tracker.poll(o.first.snapshot, o.first.atMs);
  const startedMs = o.first.atMs;
  // Deliver the first poll's events once listeners are attached (same tick as the caller).
  queueMicrotask(() => {
    if (stopped) return;
    emit(firstEvents, startedMs);
    timer = setTimeout(schedule, Math.max(0, startedMs + o.intervalMs - clock()));
  });

  const session: PollSession = {
    pid: o.pid,
    tracker: o.tracker,
    // a getter: a fallback source changes its name when it switches
    get sourceName(): SourceName {
      return o.source.name;
    },
    intervalMs: o.intervalMs,
    get states() {
      return states;
    },
    setStates(s: StateFilter) {
      states = s;
    },
    get paused() {
      return paused;
    },
    setPaused(p: boolean) {
      paused = p;
    },
    now: clock,
    startedMs,
    onUpdate(l: UpdateListener) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    async stop() {
      if (!stopped) finish({ kind: 'stopped' });
      await inFlight;
    },
    ended,
  };
  return session;
}
