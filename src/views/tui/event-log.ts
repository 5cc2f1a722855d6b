// The TUI's recent-events pane: a bounded list, fed by session updates, formatted only when shown.
import type { TrackerEvent } from '../../core/tracker-types';
import { formatEndpoint } from '../../core/endpoint';
import { formatDuration } from '../../util/duration';
import { formatClock } from './format';
import { clipLine, oneLine, seg, type Color, type Line } from './line';

export type LogKind = TrackerEvent['type'] | 'info';

export interface LogEntry {
  atMs: number;
  kind: LogKind;
  text: string;
}

function describe(e: TrackerEvent): string {
  switch (e.type) {
    case 'open':
    case 'close':
    case 'state': {
      const c = e.conn.connection;
      const ends = `${formatEndpoint(c.local)} → ${formatEndpoint(c.remote)}`;
      if (e.type === 'open') return `${ends}  ${c.state}`;
      if (e.type === 'close') return `${ends}  lived ${formatDuration(e.lifetimeMs)}${e.conn.preexisting ? ' (at least)' : ''}`;
      return `${ends}  ${e.from} → ${e.to}`;
    }
    case 'exit':
      return e.reason === 'pid_reused'
        ? `PID ${e.process.pid} now belongs to another process: the watched one exited`
        : `process ${e.process.pid} (${oneLine(e.process.command)}) exited`;
  }
}

export class EventLog {
  private entries: LogEntry[] = [];

  constructor(readonly capacity = 200) {}

  add(events: readonly TrackerEvent[]): void {
    // A burst (10,000 opens on the first poll after a reset) would be formatted only to be dropped.
    const skipped = Math.max(0, events.length - this.capacity);
    if (skipped > 0) {
      const first = events[0];
      this.info(first ? first.atMs : 0, `${skipped} earlier events in this poll not shown`);
    }
    for (let i = skipped; i < events.length; i++) {
      const e = events[i] as TrackerEvent;
      this.push({ atMs: e.atMs, kind: e.type, text: describe(e) });
    }
  }

  info(atMs: number, text: string): void {
    this.push({ atMs, kind: 'info', text });
  }

  /** newest last */
  recent(n: number): readonly LogEntry[] {
    return n <= 0 ? [] : this.entries.slice(-n);
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
  exit: 'red',
  info: 'gray',
};

export function logLine(e: LogEntry, width: number): Line {
  return clipLine([seg(formatClock(e.atMs) + ' '), seg(e.kind.padEnd(5), { fg: KIND_COLOR[e.kind], bold: e.kind === 'exit' }), seg(' ' + e.text)], width);
}
