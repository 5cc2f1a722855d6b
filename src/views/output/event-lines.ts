// Plain line output of `watch` (like bcc's tcplife). Lines stream, so widths are fixed and wide
// enough for IPv4; a longer IPv6 endpoint pushes its line right rather than being cut.
import type { ProcessInfo, SourceName, StateFilter } from '../../model';
import type { Finding, Tracker, TrackerEvent } from '../../core/tracker-types';
import { formatClock, formatDuration } from '../../util/duration';
import { fdText } from './endpoint-text';
import { formatEndpoint } from '../../core/endpoint';
import { stateFilterText } from './json-shapes';

const WIDTHS = [12, 5, 4, 21, 21, 11] as const;

function row(cells: readonly string[]): string {
  return cells.map((c, i) => (i < WIDTHS.length ? c.padEnd(WIDTHS[i]!) : c)).join(' ').trimEnd();
}

export const EVENT_HEADER = row(['TIME', 'EVENT', 'FD', 'LOCAL', 'REMOTE', 'STATE', 'LIFETIME']);

export function startLine(p: ProcessInfo, source: SourceName, intervalMs: number, states: StateFilter): string {
  return `watching PID ${p.pid} (${p.command}) user ${p.user} — source ${source}, every ${formatDuration(intervalMs)}, ${stateFilterText(states)}`;
}

export function eventLine(e: TrackerEvent): string {
  const t = formatClock(e.atMs);
  switch (e.type) {
    case 'open':
    case 'close':
    case 'state': {
      const c = e.conn.connection;
      const state = e.type === 'state' ? `${e.from}>${e.to}` : c.state;
      const life =
        e.type === 'close'
          ? `${e.conn.preexisting ? '≥' : ''}${formatDuration(e.lifetimeMs)}`
          : e.conn.preexisting && e.type === 'open'
            ? '(preexisting)'
            : '-';
      const exch = e.type === 'close' && e.conn.exchanges !== undefined ? ` ${e.conn.exchanges} exch` : '';
      return row([t, e.type, fdText(c), formatEndpoint(c.local), formatEndpoint(c.remote), state, life + exch]);
    }
    case 'exit':
      return `${t.padEnd(WIDTHS[0])} exit  PID ${e.process.pid} (${e.process.command}) ${e.reason === 'pid_reused' ? 'exited; its PID now belongs to another process' : 'exited'}`;
  }
}

export function summaryLines(tracker: Tracker, nowMs: number): string[] {
  const st = tracker.stats(nowMs);
  const life = st.lifetimeMs
    ? `lifetime p50 ${formatDuration(st.lifetimeMs.p50)} p95 ${formatDuration(st.lifetimeMs.p95)} max ${formatDuration(st.lifetimeMs.max)}`
    : 'no connection closed';
  const lines = [
    `summary: watched ${formatDuration(st.durationMs)}: opened ${st.opened}, closed ${st.closed}, peak ${st.peak}, live ${st.live}; ${life}`,
  ];
  for (const f of tracker.findings(nowMs)) lines.push(findingLine(f));
  return lines;
}

export function findingLine(f: Finding): string {
  return `finding [${f.kind}]: ${f.message}`;
}
