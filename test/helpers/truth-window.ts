// Rates are compared over the span sockwatch says it measured: the churn finding's `since` and
// `until` (while it held) when it gives them, else the whole watch (`start` to `summary`). The
// truth over that span is what the real program logged with timestamps inside it.
import { isoMs, type SockEvent } from './watch-events';

export interface Span {
  fromMs: number;
  toMs: number;
  /** where the span came from, for messages */
  source: string;
}

export function watchSpan(events: readonly SockEvent[]): Span {
  const start = events.find((e) => e.type === 'start');
  const summary = events.find((e) => e.type === 'summary');
  if (!start || !summary) throw new Error('no start or summary event');
  return { fromMs: isoMs(start.time), toMs: isoMs(summary.time), source: 'the watch (start → summary)' };
}

export function findingSpan(finding: Record<string, unknown>, events: readonly SockEvent[]): Span {
  const whole = watchSpan(events);
  const since = typeof finding.since === 'string' ? isoMs(finding.since) : undefined;
  const until = typeof finding.until === 'string' ? isoMs(finding.until) : undefined;
  if (since === undefined) return whole;
  return { fromMs: since, toMs: until ?? whole.toMs, source: `the finding's since → ${until === undefined ? 'summary' : 'until'}` };
}

/** Events at `times` inside the span, per minute of it. */
export function ratePerMinute(times: readonly number[], span: Span): { count: number; perMinute: number } {
  const count = times.filter((t) => t >= span.fromMs && t <= span.toMs).length;
  return { count, perMinute: (count * 60_000) / Math.max(1, span.toMs - span.fromMs) };
}

export const within = (value: unknown, truth: number, fraction: number): boolean =>
  typeof value === 'number' && Math.abs(value - truth) <= truth * fraction;
