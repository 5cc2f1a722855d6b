import type { Connection, TimerInfo } from '../../model';
import { formatDuration } from '../../util/duration';

const SHORT_TIMER: Record<TimerInfo['kind'], string> = {
  none: '-',
  retransmit: 'rtx',
  keepalive: 'ka',
  time_wait: 'tw',
  zero_window_probe: 'zwp',
};

/**
 * A socket's timer, for every view: "keepalive 9.8s (2 probes)" or, compact (the TUI's narrow
 * column), "ka 9.8s"; probes are given only in the long form.
 */
export function timerText(t: TimerInfo | undefined, compact = false): string {
  if (!t || t.kind === 'none') return '-';
  const kind = compact ? SHORT_TIMER[t.kind] : t.kind;
  const probes = !compact && t.probes ? ` (${t.probes} probes)` : '';
  return `${kind} ${formatDuration(t.expiresMs)}${probes}`;
}

export function fdText(c: Connection): string {
  return c.fd === undefined ? '-' : String(c.fd);
}
