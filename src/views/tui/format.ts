// Short human formats for table cells. Durations go through util/duration (one format project-wide).
import type { TcpState } from '../../model';
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

/** The timer column: the one timer text of every view (src/views/output/endpoint-text.ts). */
export { timerText as timerLabel } from '../output/endpoint-text';
