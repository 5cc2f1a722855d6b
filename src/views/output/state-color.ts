import type { TcpState } from '../../model';

const CODES: Partial<Record<TcpState, number>> = {
  ESTABLISHED: 32,
  SYN_SENT: 36,
  SYN_RECV: 36,
  CLOSE_WAIT: 31,
  LAST_ACK: 33,
  FIN_WAIT1: 33,
  FIN_WAIT2: 33,
  TIME_WAIT: 90,
  CLOSING: 33,
  LISTEN: 34,
};

export function colorState(s: TcpState): string {
  const code = CODES[s];
  return code === undefined ? s : `\x1b[${code}m${s}\x1b[0m`;
}

/** Color only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !('NO_COLOR' in env && env.NO_COLOR !== '');
}
