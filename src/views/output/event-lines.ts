// Plain line output of `watch` (like bcc's tcplife). Lines stream, so widths are fixed and wide
// enough for IPv4; a longer IPv6 endpoint pushes its line right rather than being cut.
import type { LifecycleStatus } from '../../core/lifecycle-types';
import type { Endpoint, ProcessInfo, SourceName, StateFilter } from '../../model';
import type { Finding, LastingFinding, LifetimeBound, Tracker, TrackerEvent, TrackerStats } from '../../core/tracker-types';
import { formatClock, formatDuration } from '../../util/duration';
import { fdText } from './endpoint-text';
import { formatEndpoint } from '../../core/endpoint';
import { stateFilterText, type LagJson } from './json-shapes';
import { terminalText } from '../../util/terminal-text';

// TIME EVENT [PID] FD DIR LOCAL REMOTE STATE, then LIFETIME unpadded. LOCAL and REMOTE take
// `endpointWidth`: IPV4_ENDPOINT_WIDTH unless the watch has IPv6 sockets (see endpointWidthFor).
const WIDTHS = [12, 5, 4, 3, 21, 21, 11] as const;
const PID_WIDTH = 7;
/** "255.255.255.255:65535": a whole IPv4 endpoint. */
export const IPV4_ENDPOINT_WIDTH = 21;
/** "[::ffff:255.255.255.255]:65535": a whole IPv4-mapped endpoint (a dual-stack socket's IPv4 peer). */
export const MAPPED_ENDPOINT_WIDTH = 30;

/**
 * The width of LOCAL and REMOTE for endpoints like these (those known when the header is written):
 * any IPv6 socket (a dual-stack listener on [::] gets IPv4 peers as ::ffff:a.b.c.d) widens them to
 * hold an IPv4-mapped endpoint; a longer endpoint than the width (full IPv6) still pushes its line right.
 */
export function endpointWidthFor(endpoints: Iterable<Endpoint>): number {
  let width = IPV4_ENDPOINT_WIDTH;
  for (const e of endpoints) if (e.address.includes(':')) width = Math.max(width, MAPPED_ENDPOINT_WIDTH);
  return width;
}

/** `cells` raw: a recording's addresses and direction are any text it likes (escaped here, once). */
function row(cells: readonly string[], pid: string | undefined, endpointWidth: number): string {
  const padded = cells.map((raw, i) => {
    const c = terminalText(raw);
    return i < WIDTHS.length ? c.padEnd(i === 4 || i === 5 ? endpointWidth : WIDTHS[i]!) : c;
  });
  if (pid !== undefined) padded.splice(2, 0, pid.padEnd(PID_WIDTH));
  return padded.join(' ').trimEnd();
}

const HEADER_CELLS = ['TIME', 'EVENT', 'FD', 'DIR', 'LOCAL', 'REMOTE', 'STATE', 'LIFETIME'];

export const EVENT_HEADER = row(HEADER_CELLS, undefined, IPV4_ENDPOINT_WIDTH);

/** the header, with a PID column when the target is a group */
export function eventHeader(pidColumn: boolean, endpointWidth = IPV4_ENDPOINT_WIDTH): string {
  return row(HEADER_CELLS, pidColumn ? 'PID' : undefined, endpointWidth);
}

/** The start line of a group: what was asked for and the processes found (their names escaped). */
export function groupStartLine(what: string, processes: readonly ProcessInfo[], source: SourceName, intervalMs: number, states: StateFilter): string {
  const n = processes.length;
  const list = processes.slice(0, 8).map((p) => `${p.pid} (${terminalText(p.command)})`).join(', ') + (n > 8 ? `, … ${n - 8} more` : '');
  return `watching ${terminalText(what)}: ${n} process${n === 1 ? '' : 'es'}: ${list} — source ${source}, every ${formatDuration(intervalMs)}, ${stateFilterText(states)}`;
}

export function startLine(p: ProcessInfo, source: SourceName, intervalMs: number, states: StateFilter): string {
  return `watching PID ${p.pid} (${terminalText(p.command)}) user ${terminalText(p.user)} — source ${source}, every ${formatDuration(intervalMs)}, ${stateFilterText(states)}`;
}

/**
 * The line of an event; '' for a `poll` event (it is data for the watch state and a recording,
 * nothing a person reads: callers skip it, see hasLine).
 */
export function eventLine(e: TrackerEvent, pidColumn = false, endpointWidth = IPV4_ENDPOINT_WIDTH): string {
  const t = formatClock(e.atMs);
  switch (e.type) {
    case 'open':
    case 'close':
    case 'state': {
      const c = e.conn.connection;
      const state = e.type === 'state' ? `${e.from}>${e.to}` : e.type === 'close' ? closeStateText(e.brief === true, c.state) : c.state;
      const life =
        e.type === 'close'
          ? `${boundMark(e.lifetimeBound)}${formatDuration(e.lifetimeMs)}${e.brief === true ? ' brief' : ''}`
          : e.conn.preexisting && e.type === 'open'
            ? '(preexisting)'
            : '-';
      const exch = e.type === 'close' && e.conn.exchanges !== undefined ? ` ${e.conn.exchanges} exch` : '';
      return row([t, e.type, fdText(c), c.direction ?? '-', formatEndpoint(c.local), formatEndpoint(c.remote), state, life + exch], pidColumn ? String(c.pid ?? '-') : undefined, endpointWidth);
    }
    case 'finding': {
      // ended by the exit: the problem was not fixed, the process is gone
      const change = e.change === 'cleared' && e.cause === 'exit' ? 'ended (target exited)' : e.change;
      return `${t.padEnd(WIDTHS[0])} finding [${terminalText(e.finding.finding.kind)}] ${change}: ${terminalText(e.finding.finding.message)}`;
    }
    case 'poll':
      return '';
    case 'exit':
      return `${t.padEnd(WIDTHS[0])} exit  PID ${e.process.pid} (${terminalText(e.process.command)}) ${e.reason === 'pid_reused' ? 'exited; its PID now belongs to another process' : 'exited'}`;
  }
}

/** whether an event has a line (a `poll` event has none) */
export function hasLine(e: TrackerEvent): boolean {
  return e.type !== 'poll';
}

/**
 * A close shows the socket closed, not the last state a poll saw (a brief connection's end state,
 * LAST_ACK or FIN_WAIT2, read as a stuck socket): CLOSED, after the last polled state when that
 * was not ESTABLISHED (a CLOSE_WAIT that finally closed says so).
 */
function closeStateText(brief: boolean, last: string): string {
  return brief || last === 'ESTABLISHED' ? 'CLOSED' : `${last}>CLOSED`;
}

/** `≥` a lower bound, `≤` an upper bound, `=` exact, nothing: within one poll interval */
export function boundMark(bound: LifetimeBound | undefined): string {
  return bound === 'lower' ? '≥' : bound === 'upper' ? '≤' : bound === 'exact' ? '=' : '';
}

/** Brief connections likely the target's, next to the proven counts and never in them. */
export function likelyText(st: Pick<TrackerStats, 'likelyBrief'>): string {
  return st.likelyBrief > 0 ? ` + ${st.likelyBrief} likely (brief, owner not provable)` : '';
}

/** What the lifetimes describe, in words that cannot contradict the counts beside them. */
export function lifetimeText(st: TrackerStats): string {
  if (st.lifetimeMs) {
    const known = st.closed - st.closedPreexisting;
    const pre = st.closedPreexisting > 0 ? ` (${st.closedPreexisting} preexisting left out: ages unknown)` : '';
    return `lifetime of ${known} p50 ${formatDuration(st.lifetimeMs.p50)} p95 ${formatDuration(st.lifetimeMs.p95)} max ${formatDuration(st.lifetimeMs.max)}${pre}`;
  }
  if (st.closed === 0) return 'no connection closed';
  return `${st.closed} closed, all preexisting: lifetimes unknown`;
}

export function summaryLines(tracker: Tracker, nowMs: number, lag?: LagJson, facility?: LifecycleStatus): string[] {
  const st = tracker.stats(nowMs);
  const brief = st.brief > 0 ? ` (${st.brief} brief)` : '';
  const lines = [
    `summary: watched ${formatDuration(st.durationMs)}: opened ${st.opened}${brief}${likelyText(st)}, closed ${st.closed}, peak ${st.peak}, live ${st.live}; ${lifetimeText(st)}`,
  ];
  if (lag !== undefined && lag.late > 0) lines.push(lagLine(lag));
  const lost = facility === undefined ? undefined : briefLossText(facility);
  if (lost !== undefined) lines.push(`lost: ${lost}`);
  for (const f of tracker.findingHistory()) lines.push(lastingFindingLine(f));
  const unknown = tracker.unattributedBrief(5);
  if (unknown.length > 0) {
    lines.push(`brief connections in this namespace, owner unknown: ${unknown.map((u) => `${terminalText(u.remote)} ×${u.count}`).join(', ')}`);
  }
  return lines;
}

/**
 * What the between-poll facility could not deliver, one phrase, or undefined when nothing was
 * lost: the brief counts are then lower bounds, and the person reading them must know.
 */
export function briefLossText(s: LifecycleStatus): string | undefined {
  const parts: string[] = [];
  if ((s.dropped ?? 0) > 0) parts.push(`${s.dropped} between-poll events dropped (buffer full)`);
  if ((s.overruns ?? 0) > 0) parts.push(`${s.overruns} kernel queue overruns (each lost an unknown number)`);
  if ((s.missed ?? 0) > 0) parts.push(`${s.missed} socket events the kernel skipped the eBPF program for`);
  return parts.length === 0 ? undefined : `${parts.join(', ')}: brief connections are under-counted`;
}

export function lagLine(lag: LagJson): string {
  const gap = (ms: number | null): string => (ms === null ? '-' : formatDuration(ms));
  return `lag: ${lag.late} of ${lag.polls} polls late for the ${formatDuration(lag.intervalMs)} interval (median gap ${gap(lag.medianGapMs)}, p95 ${gap(lag.p95GapMs)})`;
}

export function findingLine(f: Finding): string {
  return `finding [${terminalText(f.kind)}]: ${terminalText(f.message)}`;
}

/** a finding of the whole watch: since when, and until when if it no longer holds */
export function lastingFindingLine(l: LastingFinding): string {
  const span =
    l.untilMs === null
      ? `since ${formatClock(l.sinceMs)}, still holds`
      : `${formatClock(l.sinceMs)}–${formatClock(l.untilMs)}${l.cause === 'exit' ? ', until the target exited' : ''}`;
  return `${findingLine(l.finding)} (${span})`;
}
