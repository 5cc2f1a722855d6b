// Times each poll of a source for sockwatch_poll_duration_seconds and counts the failures, without
// the poll loop knowing: the source is wrapped where the CLI opens it.
import type { Source } from '../../sources/source';
import { isSockwatchError } from '../../errors';

export interface PollObserver {
  observePoll(seconds: number, failed?: boolean): void;
}

/** `clock`: a monotonic ms clock (performance.now in the CLI; a wall clock could step back). */
export function instrumentSource(source: Source, observer: PollObserver, clock: () => number): Source {
  const wrapped: Source = {
    // getters: a fallback source changes its name when it switches
    get name() {
      return source.name;
    },
    get lifecycleStatus() {
      return source.lifecycleStatus;
    },
    async snapshot(states) {
      const t0 = clock();
      try {
        const snap = await source.snapshot(states);
        observer.observePoll((clock() - t0) / 1000);
        return snap;
      } catch (e) {
        // The target being gone is how a watch normally ends, not a failed poll.
        observer.observePoll((clock() - t0) / 1000, !(isSockwatchError(e) && e.code === 'no_such_process'));
        throw e;
      }
    },
    close: () => source.close(),
  };
  if (source.drainLifecycle !== undefined) wrapped.drainLifecycle = () => source.drainLifecycle?.() ?? [];
  if (source.lifecycleCaughtUp !== undefined) wrapped.lifecycleCaughtUp = (atMs) => source.lifecycleCaughtUp?.(atMs) ?? Promise.resolve();
  return wrapped;
}
