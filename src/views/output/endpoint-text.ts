import type { Connection, Endpoint, TimerInfo } from '../../model';
import { formatDuration } from '../../util/duration';

/** "127.0.0.1:80", "[::1]:80" — brackets only in text, never in JSON. */
export function endpointText(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

export function timerText(t: TimerInfo | undefined): string {
  if (!t || t.kind === 'none') return '-';
  const probes = t.probes ? ` (${t.probes} probes)` : '';
  return `${t.kind} ${formatDuration(t.expiresMs)}${probes}`;
}

export function fdText(c: Connection): string {
  return c.fd === undefined ? '-' : String(c.fd);
}
