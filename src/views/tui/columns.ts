// Which table columns fit, and how wide: the columns the data calls for, each with a minimum and an
// ideal width measured from the rows on screen, fitted to the terminal width.
import type { TrackedConnection } from '../../core/tracker-types';
import { formatEndpoint } from '../../core/endpoint';
import { formatDuration } from '../../util/duration';
import { formatAge, formatBytes, stateLabel, timerLabel } from './format';
import { terminalText } from '../../util/terminal-text';

export type ColumnId = 'pid' | 'fd' | 'dir' | 'local' | 'remote' | 'state' | 'age' | 'idle' | 'exch' | 'tx' | 'rx' | 'timer';

export const COLUMN_TITLES: Record<ColumnId, string> = {
  pid: 'PID',
  fd: 'FD',
  dir: 'DIR',
  local: 'LOCAL',
  remote: 'REMOTE',
  state: 'STATE',
  age: 'AGE',
  idle: 'IDLE',
  exch: 'EXCH',
  tx: 'TX',
  rx: 'RX',
  timer: 'TIMER',
};

const RIGHT_ALIGNED: ReadonlySet<ColumnId> = new Set<ColumnId>(['pid', 'fd', 'age', 'idle', 'exch', 'tx', 'rx']);

export interface FittedColumn {
  id: ColumnId;
  title: string;
  width: number;
  align: 'left' | 'right';
  /** the cell text does not fit its ideal width: use the short form (ESTAB, ka 9.8s) */
  compact: boolean;
}

/**
 * The columns the live data calls for, in display order (what `s` cycles through): PID when more
 * than one process is watched, DIR when the source tells directions.
 */
export function wantedColumns(hasTcp: boolean, hasTimer: boolean, several = false, hasDir = false): ColumnId[] {
  const ids: ColumnId[] = [...(several ? (['pid'] as const) : []), 'fd', ...(hasDir ? (['dir'] as const) : []), 'local', 'remote', 'state', 'age'];
  if (hasTcp) ids.push('idle', 'exch', 'tx', 'rx');
  if (hasTcp || hasTimer) ids.push('timer');
  return ids;
}

/**
 * Idle time as of the last observation. The kernel counts it from the last data sent/received (or
 * from long before, for a direction with no data yet), AGE from the poll that first saw the
 * connection: a connection seen since it opened cannot have been idle longer than it was seen, so
 * its idle time is capped at its age then and IDLE never reads more than AGE. A preexisting one
 * keeps the kernel's figure: its AGE is a lower bound (≥).
 */
export function idleMs(t: TrackedConnection): number | undefined {
  const tcp = t.connection.tcp;
  if (!tcp) return undefined;
  const idle = Math.min(tcp.lastSendMs, tcp.lastReceiveMs);
  return t.preexisting ? idle : Math.max(0, Math.min(idle, t.lastSeenMs - t.firstSeenMs));
}

/** `plain`: no color (NO_COLOR): words instead of arrows, which would read as nothing in particular */
export function dirText(direction: 'in' | 'out' | undefined, plain: boolean): string {
  if (direction === undefined) return '-';
  // a recording's direction is any string it likes
  if (plain) return terminalText(direction);
  return direction === 'in' ? '←' : '→';
}

export function cellText(id: ColumnId, t: TrackedConnection, nowMs: number, compact: boolean, plain = false): string {
  const c = t.connection;
  switch (id) {
    case 'pid':
      return c.pid === undefined ? '-' : String(c.pid);
    case 'dir':
      return dirText(c.direction, plain);
    case 'fd':
      return c.fd === undefined ? '-' : String(c.fd);
    case 'local':
      return terminalText(formatEndpoint(c.local));
    case 'remote':
      return terminalText(formatEndpoint(c.remote));
    case 'state':
      return stateLabel(c.state, compact);
    case 'age':
      return formatAge(nowMs - t.firstSeenMs, t.preexisting);
    case 'idle': {
      const idle = idleMs(t);
      return idle === undefined ? '-' : formatDuration(idle);
    }
    case 'exch':
      return t.exchanges === undefined ? '-' : String(t.exchanges);
    case 'tx':
      return c.tcp ? formatBytes(c.tcp.bytesSent) : '-';
    case 'rx':
      return c.tcp ? formatBytes(c.tcp.bytesReceived) : '-';
    case 'timer':
      return timerLabel(c.timer, compact);
  }
}

// Dropped first when the terminal is narrow: byte counts matter least at a glance, then exchanges,
// idle, the timer, the direction, the age, the PID and FD. An address is never cut while anything
// else can go: a clipped endpoint (`…7.0.0.1:39184`) reads as a different address. STATE stays
// (in its short form when need be). The status line names what was dropped.
const DROP_ORDER: readonly (readonly ColumnId[])[] = [['rx', 'tx'], ['exch'], ['idle'], ['timer'], ['dir'], ['age'], ['pid'], ['fd']];

export function fitColumns(args: {
  ids: readonly ColumnId[];
  rows: readonly TrackedConnection[];
  nowMs: number;
  width: number;
  /** the sorted column's heading carries an arrow, so it needs one more cell */
  sortKey: ColumnId;
  plain?: boolean;
}): FittedColumn[] {
  const { rows, nowMs, width, sortKey } = args;
  const measure = (id: ColumnId, compact: boolean): number => {
    let w = COLUMN_TITLES[id].length + (id === sortKey ? 1 : 0);
    for (const r of rows) w = Math.max(w, cellText(id, r, nowMs, compact, args.plain === true).length);
    return w;
  };
  const specs = args.ids.map((id) => {
    const ideal = measure(id, false);
    const min = id === 'state' || id === 'timer' ? measure(id, true) : ideal;
    return { id, min, ideal, width: min };
  });
  const total = (): number => specs.reduce((n, s) => n + s.width, 0) + Math.max(0, specs.length - 1);

  for (const group of DROP_ORDER) {
    if (total() <= width) break;
    for (const id of group) {
      const i = specs.findIndex((s) => s.id === id);
      if (i >= 0) specs.splice(i, 1);
    }
  }
  // Nothing else left to drop (a very narrow terminal, or long IPv6 endpoints): only now clip the
  // endpoints, from the left so the port stays.
  for (const id of ['local', 'remote'] as const) {
    const s = specs.find((x) => x.id === id);
    const over = total() - width;
    if (s && over > 0) s.width = Math.max(6, s.width - over);
  }
  // Spare room goes to whole endpoints first, then to the long forms of state and timer.
  for (const id of ['remote', 'local', 'state', 'timer'] as const) {
    const s = specs.find((x) => x.id === id);
    const spare = width - total();
    if (s && spare > 0) s.width += Math.min(spare, s.ideal - s.width);
  }
  return specs.map((s) => ({
    id: s.id,
    title: COLUMN_TITLES[s.id],
    width: s.width,
    align: RIGHT_ALIGNED.has(s.id) ? 'right' : 'left',
    compact: s.width < s.ideal && (s.id === 'state' || s.id === 'timer'),
  }));
}
