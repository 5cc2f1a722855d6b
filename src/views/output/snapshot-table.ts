import type { Connection, ProcessInfo, StateFilter } from '../../model';
import { fdText, timerText } from './endpoint-text';
import { formatEndpoint } from '../../core/endpoint';
import { alignColumns } from './text-table';
import { tableLinesAscii } from './snapshot-table-bytes';
import { stateFilterText } from './json-shapes';
import { colorState } from './state-color';
import { headUnits, oneLine, terminalText } from '../../util/terminal-text';

const HEADER = ['FD', 'PROTO', 'LOCAL', 'REMOTE', 'STATE', 'SEND-Q', 'RECV-Q', 'TIMER'];
const RIGHT = new Set([0, 5, 6]);

/** `target`: the process, or every process of a group (then a PID column leads each row) */
export function snapshotTable(target: ProcessInfo | readonly ProcessInfo[], states: StateFilter, conns: readonly Connection[], color: boolean): string {
  const out = snapshotTableOutput(target, states, conns, color);
  return typeof out === 'string' ? out : out.toString('utf8');
}

/** snapshotTable as bytes (UTF-8) where the table is plain ASCII and uncolored: what is written. */
export function snapshotTableOutput(target: ProcessInfo | readonly ProcessInfo[], states: StateFilter, conns: readonly Connection[], color: boolean): string | Buffer {
  const group = Array.isArray(target) ? (target as readonly ProcessInfo[]) : undefined;
  const count = `${conns.length} TCP connection${conns.length === 1 ? '' : 's'} (${stateFilterText(states)})`;
  let head: string;
  if (group !== undefined) {
    head = `${group.length} processes: ${clipped(group.map((p) => `${p.pid} (${terminalText(p.command)})`).join(', '), 200)} — ${count}`;
  } else {
    const p = target as ProcessInfo;
    head = `PID ${p.pid} (${terminalText(p.command)}) user ${terminalText(p.user)}: ${clipped(oneLine(p.cmdline || p.command), 100)} — ${count}`;
  }
  if (!color) {
    const ascii = tableLinesAscii(group !== undefined ? ['PID', ...HEADER] : HEADER, conns, group !== undefined, `${head}\n`);
    if (ascii !== undefined) return ascii;
  }
  const lines = tableLines(conns, group !== undefined);
  if (color) {
    // Color after alignment so escape codes do not disturb the widths.
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i]!;
      lines[i + 1] = lines[i + 1]!.replace(` ${c.state}`, ` ${colorState(c.state)}`);
    }
  }
  return [head, ...lines].join('\n') + '\n';
}

/** The column header and the rows, laid out by alignColumns: the general way (tableLinesAscii is the fast one). */
export function tableLines(conns: readonly Connection[], group: boolean): string[] {
  const rows = conns.map((c) => [
    ...(group ? [String(c.pid ?? '-')] : []),
    fdText(c),
    c.protocol,
    terminalText(formatEndpoint(c.local)),
    terminalText(formatEndpoint(c.remote)),
    c.state,
    c.sendQueue === undefined ? '-' : String(c.sendQueue),
    c.recvQueue === undefined ? '-' : String(c.recvQueue),
    timerText(c.timer),
  ]);
  return group ? alignColumns(['PID', ...HEADER], rows, new Set([0, ...[...RIGHT].map((i) => i + 1)])) : alignColumns(HEADER, rows, RIGHT);
}

function clipped(text: string, max: number): string {
  return text.length > max ? headUnits(text, max - 1) + '…' : text;
}
