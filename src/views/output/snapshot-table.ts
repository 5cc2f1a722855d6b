import type { Connection, ProcessInfo, StateFilter } from '../../model';
import { endpointText, fdText, timerText } from './endpoint-text';
import { alignColumns } from './text-table';
import { stateNames } from './json-shapes';
import { colorState } from './state-color';

const HEADER = ['FD', 'PROTO', 'LOCAL', 'REMOTE', 'STATE', 'SEND-Q', 'RECV-Q', 'TIMER'];
const RIGHT = new Set([0, 5, 6]);

export function snapshotTable(p: ProcessInfo, states: StateFilter, conns: readonly Connection[], color: boolean): string {
  const filter = states === 'all' ? 'all states' : stateNames(states).join(',');
  const head = `PID ${p.pid} (${p.command}) user ${p.user}: ${oneLine(p.cmdline || p.command, 100)} — ${conns.length} TCP connection${conns.length === 1 ? '' : 's'} (${filter})`;
  const rows = conns.map((c) => [
    fdText(c),
    c.protocol,
    endpointText(c.local),
    endpointText(c.remote),
    c.state,
    c.sendQueue === undefined ? '-' : String(c.sendQueue),
    c.recvQueue === undefined ? '-' : String(c.recvQueue),
    timerText(c.timer),
  ]);
  const lines = alignColumns(HEADER, rows, RIGHT);
  if (color) {
    // Color after alignment so escape codes do not disturb the widths.
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i]!;
      lines[i + 1] = lines[i + 1]!.replace(` ${c.state}`, ` ${colorState(c.state)}`);
    }
  }
  return [head, ...lines].join('\n') + '\n';
}

/** Command lines may hold newlines and control characters (node -e '…'); a header stays one line. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}
