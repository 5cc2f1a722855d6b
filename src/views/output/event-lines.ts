// Plain line output of `watch` (like bcc's tcplife). Lines stream, so widths are fixed and wide
// enough for IPv4; a longer IPv6 endpoint pushes its line right rather than being cut.
import type { ProcessInfo, SourceName, StateFilter } from '../../model';
import type { Finding, Tracker, TrackerEvent } from '../../core/tracker-types';
import { formatDuration } from '../../util/duration';
import { endpointText, fdText } from './endpoint-text';
import { stateNames } from './json-shapes';

const WIDTHS = [12, 5, 4, 21, 21, 11] as const;

function row(cells: readonly string[]): string {
  return cells.map((c, i) => (i < WIDTHS.length ? c.padEnd(WIDTHS[i]!) : c)).join(' ').trimEnd();
}

export function clockText(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export const EVENT_HEADER = row(['TIME', 'EVENT', 'FD', 'LOCAL', 'REMOTE', 'STATE', 'LIFETIME']);

export function startLine(p: ProcessInfo, source: SourceName, intervalMs: number, states: StateFilter): string {
  const filter = states === 'all' ? 'all states' : stateNames(states).join(',');
  return `watching PID ${p.pid} (${p.command}) user ${p.user} — source ${source}, every ${formatDuration(intervalMs)}, ${filter}`;
}

export function eventLine(e: TrackerEvent): string {
  const t = clockText(e.atMs);
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
      return row([t, e.type, fdText(c), endpointText(c.local), endpointText(c.remote), state, life + exch]);
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
