// Per-minute rates over a sliding window of poll time.
import { RingBuffer } from './ring-buffer';

export const RATE_WINDOW_MS = 60_000;
/**
 * Below this much watched time a rate is computed as if this much had passed: one open in the
 * first 200 ms is not "300 per minute".
 */
export const RATE_MIN_ELAPSED_MS = 10_000;
/**
 * Polls with something to count that the window remembers: a minute is 60 polls at the 1 s
 * default interval, 600 at 100 ms; the cap only bites when polling faster than every 6 ms, and
 * then the window gets shorter than a minute instead of memory growing.
 */
const MAX_ENTRIES = 10_000;

interface Entry {
  atMs: number;
  n: number;
}

/** Counts of something per poll, summed over the last minute. */
export class WindowCounter {
  private readonly entries = new RingBuffer<Entry>(MAX_ENTRIES);

  add(atMs: number, n: number): void {
    if (n > 0) this.entries.push({ atMs, n });
  }

  /** sum over polls in (nowMs - RATE_WINDOW_MS, nowMs] */
  sum(nowMs: number): number {
    let total = 0;
    for (const e of this.entries) {
      if (e.atMs > nowMs - RATE_WINDOW_MS && e.atMs <= nowMs) total += e.n;
    }
    return total;
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * `count` events seen in the last minute, or in `elapsedMs` when less than a minute has been
 * watched, as a per-minute rate.
 */
export function perMinute(count: number, elapsedMs: number): number {
  if (elapsedMs >= RATE_WINDOW_MS) return count;
  return (count * RATE_WINDOW_MS) / Math.max(elapsedMs, RATE_MIN_ELAPSED_MS);
}
