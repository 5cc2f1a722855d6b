// Node's setTimeout holds a delay in a signed 32-bit count of milliseconds: anything above
// 2^31 - 1 (about 24.8 days) is taken as 1 ms, with only a warning. A long `--duration` is
// therefore a chain of shorter timers, each re-armed for what is left.

/** The longest delay one Node timer holds. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface TimerFunctions {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** a monotonic clock in ms, so a stepped wall clock neither shortens nor stretches the wait */
  now(): number;
}

const nodeTimers: TimerFunctions = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  now: () => performance.now(),
};

/**
 * Calls `fn` once, `ms` after now, for any finite ms (negative or NaN: on the next turn, as
 * setTimeout). Returns the cancel function. `chunkMs` is for tests (default MAX_TIMER_MS).
 */
export function setLongTimeout(fn: () => void, ms: number, timers: TimerFunctions = nodeTimers, chunkMs = MAX_TIMER_MS): () => void {
  const deadline = timers.now() + (Number.isFinite(ms) && ms > 0 ? ms : 0);
  let handle: unknown;
  let cancelled = false;
  const arm = (): void => {
    const left = deadline - timers.now();
    if (left <= chunkMs) {
      handle = timers.setTimeout(() => {
        if (!cancelled) fn();
      }, Math.max(0, left));
      return;
    }
    handle = timers.setTimeout(() => {
      if (!cancelled) arm();
    }, chunkMs);
  };
  arm();
  return () => {
    cancelled = true;
    timers.clearTimeout(handle);
  };
}
