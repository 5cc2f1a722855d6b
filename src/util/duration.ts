import { SockwatchError } from '../errors';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The longest duration parsed: whole milliseconds must stay exact in a double (a longer text
 * would round, or overflow to Infinity). Timers cannot hold this much: see long-timeout.ts.
 */
export const MAX_DURATION_MS = Number.MAX_SAFE_INTEGER;

/** The shortest poll interval: below it a poll would not finish before the next one starts. */
export const MIN_INTERVAL_MS = 20;
// A poll timer must fit in Node's 32-bit timer (about 24.8 days), and an interval longer than an
// hour is not a watch any more; above this is a usage error rather than a silent cap.
export const MAX_INTERVAL_MS = 3_600_000;

/** "250ms", "1s", "1.5s", "2m", "1h"; a bare number is seconds. Whole milliseconds, 0 to MAX_DURATION_MS. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!m) {
    throw new SockwatchError('invalid_argument', `invalid duration "${text}" (use e.g. 250ms, 1s, 1.5s, 2m)`);
  }
  const unit = (m[2] ?? 's').toLowerCase();
  const ms = Math.round(Number(m[1]) * (UNIT_MS[unit] ?? 1000));
  if (!(ms <= MAX_DURATION_MS)) throw new SockwatchError('invalid_argument', `duration "${text.trim()}" is too long`);
  return ms;
}

/** Whole ms as parseDuration reads it back exactly, in the largest unit that divides it: 1h, 90s, 250ms. */
export function formatExactDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`not a whole number of ms: ${ms}`);
  for (const unit of ['h', 'm', 's'] as const) {
    const size = UNIT_MS[unit]!;
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** Human units: 512ms, 3.2s, 4m12s, 2h05m. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${Math.floor(ms / 100) / 10}s`;
  const totalS = Math.floor(ms / 1000);
  if (totalS < 60) return `${totalS}s`;
  const totalM = Math.floor(totalS / 60);
  if (totalM < 60) return `${totalM}m${String(totalS % 60).padStart(2, '0')}s`;
  const h = Math.floor(totalM / 60);
  if (h < 48) return `${h}h${String(totalM % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** Local wall-clock time with milliseconds (14:03:22.123), for event lines and the TUI's log. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}
