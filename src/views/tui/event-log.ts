// The TUI's recent-events pane: a bounded list, fed by session updates, formatted only when shown.
import type { TrackerEvent } from '../../core/tracker-types';
import type { StateFilter, TcpState } from '../../model';
import { touchedStates, touches } from '../../core/lens';
import { boundMark } from '../output/event-lines';
import { formatEndpoint } from '../../core/endpoint';
import { formatDuration } from '../../util/duration';
import { formatClock } from './format';
import { clipLine, oneLine, seg, terminalText, type Color, type Line } from './line';

export type LogKind = Exclude<TrackerEvent['type'], 'poll'> | 'info';

export interface LogEntry {
  atMs: number;
  kind: LogKind;
  text: string;
  /** the states it is about (null: shown under any state lens) */
  states: TcpState[] | null;
}

function describe(e: Exclude<TrackerEvent, { type: 'poll' }>): string {
  switch (e.type) {
    case 'open':
    case 'close':
    case 'state': {
      const c = e.conn.connection;
      // the arrow points the way the connection was opened: ← accepted from the peer, → made to it
      const ends = `${terminalText(formatEndpoint(c.local))} ${c.direction === 'in' ? '←' : '→'} ${terminalText(formatEndpoint(c.remote))}`;
      if (e.type === 'open') return `${ends}  ${c.state}`;
      if (e.type === 'close') return `${ends}  lived ${boundMark(e.lifetimeBound)}${formatDuration(e.lifetimeMs)}${e.brief === true ? ' (brief: between polls)' : ''}`;
      return `${ends}  ${e.from} → ${e.to}`;
    }
    case 'finding':
      return `${e.change === 'cleared' && e.cause === 'exit' ? 'ended (target exited)' : e.change} [${terminalText(e.finding.finding.kind)}] ${oneLine(e.finding.finding.message)}`;
    case 'exit':
      return e.reason === 'pid_reused'
        ? `PID ${e.process.pid} now belongs to another process: the watched one exited`
        : `process ${e.process.pid} (${oneLine(e.process.command)}) exited`;
  }
}

export class EventLog {
  private entries: LogEntry[] = [];

  constructor(readonly capacity = 200) {}

  add(all: readonly TrackerEvent[]): void {
    // poll events are data for the watch state, not news
    const events = all.some((e) => e.type === 'poll') ? all.filter((e) => e.type !== 'poll') : all;
    // A burst (10,000 opens on the first poll after a reset) would be formatted only to be dropped.
    const skipped = Math.max(0, events.length - this.capacity);
    if (skipped > 0) {
      const first = events[0];
      this.info(first ? first.atMs : 0, `${skipped} earlier events in this poll not shown`);
    }
    for (let i = skipped; i < events.length; i++) {
      const e = events[i] as Exclude<TrackerEvent, { type: 'poll' }>;
      this.push({ atMs: e.atMs, kind: e.type, text: describe(e), states: touchedStates(e) });
    }
  }

  info(atMs: number, text: string): void {
    this.push({ atMs, kind: 'info', text, states: null });
  }

  /** newest last; with a lens, only the entries it shows */
  recent(n: number, filter: StateFilter = 'all'): readonly LogEntry[] {
    if (n <= 0) return [];
    if (filter === 'all') return this.entries.slice(-n);
    const out: LogEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < n; i--) {
      const e = this.entries[i] as LogEntry;
      if (touches(filter, e.states)) out.push(e);
    }
    return out.reverse();
  }

  get size(): number {
    return this.entries.length;
  }

  private push(e: LogEntry): void {
    this.entries.push(e);
    // Trim in batches so pushing stays O(1) amortized.
    if (this.entries.length >= this.capacity * 2) this.entries = this.entries.slice(-this.capacity);
  }
}

const KIND_COLOR: Record<LogKind, Color> = {
  open: 'green',
  close: 'cyan',
  state: 'yellow',
  finding: 'magenta',
  exit: 'red',
  info: 'gray',
};

export function logLine(e: LogEntry, width: number): Line {
  return clipLine([seg(formatClock(e.atMs) + ' '), seg((e.kind === 'finding' ? 'find' : e.kind).padEnd(5), { fg: KIND_COLOR[e.kind], bold: e.kind === 'exit' }), seg(' ' + e.text)], width);
}
