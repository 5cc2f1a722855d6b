// The one table of state colors, for every view: the TUI styles its table with these names, the
// line output turns them into ANSI codes. And the one reading of NO_COLOR.
import type { TcpState } from '../../model';

export type Color = 'red' | 'green' | 'yellow' | 'blue' | 'magenta' | 'cyan' | 'gray';

/** Healthy green, opening cyan, closing yellow, the passive close (the peer went first) magenta and red. */
export const STATE_COLORS: Partial<Record<TcpState, Color>> = {
  ESTABLISHED: 'green',
  SYN_SENT: 'cyan',
  SYN_RECV: 'cyan',
  NEW_SYN_RECV: 'cyan',
  FIN_WAIT1: 'yellow',
  FIN_WAIT2: 'yellow',
  CLOSING: 'yellow',
  LAST_ACK: 'magenta',
  TIME_WAIT: 'gray',
  CLOSE_WAIT: 'red',
  LISTEN: 'blue',
};

const ANSI: Record<Color, number> = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90 };

export function colorState(s: TcpState): string {
  const color = STATE_COLORS[s];
  return color === undefined ? s : `\x1b[${ANSI[color]}m${s}\x1b[0m`;
}

/** https://no-color.org: NO_COLOR present and not empty disables color. */
export function noColorRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NO_COLOR !== undefined && env.NO_COLOR !== '';
}

/** Color only on a terminal, and never when NO_COLOR asks for none. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(stream.isTTY) && !noColorRequested(env);
}
