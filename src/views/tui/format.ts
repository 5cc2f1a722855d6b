// Short human formats for table cells. Durations go through util/duration (one format project-wide).
import type { TcpState, TimerInfo } from '../../model';
import { formatDuration } from '../../util/duration';
export { formatClock } from '../../util/duration';

const BYTE_UNITS = ['K', 'M', 'G', 'T', 'P'];

/** 512, 1.2K, 34K, 3.4M: at most 4 characters so TX/RX columns stay narrow. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '-';
  if (n < 1000) return String(Math.round(n));
  let v = n;
  let unit = '';
  for (const u of BYTE_UNITS) {
    v /= 1024;
    unit = u;
    if (v < 999.5) break;
  }
  return v < 9.95 ? `${v.toFixed(1)}${unit}` : `${Math.round(v)}${unit}`;
}

export function formatAge(ms: number, preexisting: boolean): string {
  return (preexisting ? '≥' : '') + formatDuration(ms);
}

/** ss(8)-style short names, used when the terminal is too narrow for the kernel names. */
const SHORT_STATE: Record<TcpState, string> = {
  ESTABLISHED: 'ESTAB',
  SYN_SENT: 'SYN-SENT',
  SYN_RECV: 'SYN-RECV',
  FIN_WAIT1: 'FIN-WAIT-1',
  FIN_WAIT2: 'FIN-WAIT-2',
  TIME_WAIT: 'TIME-WAIT',
  CLOSE: 'CLOSE',
  CLOSE_WAIT: 'CLOSE-WAIT',
  LAST_ACK: 'LAST-ACK',
  LISTEN: 'LISTEN',
  CLOSING: 'CLOSING',
  NEW_SYN_RECV: 'SYN-RECV',
};

export function stateLabel(s: TcpState, short: boolean): string {
  return short ? SHORT_STATE[s] : s;
}

const SHORT_TIMER: Record<TimerInfo['kind'], string> = {
  none: '-',
  retransmit: 'rtx',
  keepalive: 'ka',
  time_wait: 'tw',
  zero_window_probe: 'zwp',
};

/** "keepalive 9.8s" or, compact, "ka 9.8s"; probes are appended only in the long form. */
export function timerLabel(t: TimerInfo | undefined, compact: boolean): string {
  if (!t || t.kind === 'none') return '-';
  const kind = compact ? SHORT_TIMER[t.kind] : t.kind;
  const probes = !compact && t.probes ? ` ×${t.probes}` : '';
  return `${kind} ${formatDuration(t.expiresMs)}${probes}`;
}
