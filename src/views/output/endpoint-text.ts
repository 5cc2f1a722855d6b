import type { Connection, TimerInfo } from '../../model';
import { formatDuration } from '../../util/duration';

export function timerText(t: TimerInfo | undefined): string {
  if (!t || t.kind === 'none') return '-';
  const probes = t.probes ? ` (${t.probes} probes)` : '';
  return `${t.kind} ${formatDuration(t.expiresMs)}${probes}`;
}

export function fdText(c: Connection): string {
  return c.fd === undefined ? '-' : String(c.fd);
}
