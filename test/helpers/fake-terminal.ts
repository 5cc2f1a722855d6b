// A terminal for TUI tests: blessed draws to fake streams, tests type bytes into the input and read
// the frame back from blessed's own cell buffer (screen.lines), not by parsing escape sequences.
// Also a WatchSession the test drives by hand, backed by whatever tracker it is given.
import { PassThrough, Writable } from 'node:stream';
import type * as Blessed from 'blessed';
import type { Snapshot, SourceName, StateFilter } from '../../src/model';
import type { Tracker, TrackerEvent } from '../../src/core/tracker-types';
import type { LagStats, NoticeListener, SessionNotice, UpdateListener, WatchSession } from '../../src/views/session-types';
import type { LifecycleStatus } from '../../src/core/lifecycle-types';

export const KEYS = {
  up: '\x1b[A',
  down: '\x1b[B',
  pageUp: '\x1b[5~',
  pageDown: '\x1b[6~',
  home: '\x1b[1~',
  enter: '\r',
  escape: '\x1b',
  backspace: '\x7f',
  ctrlC: '\x03',
} as const;

export interface FakeInput extends PassThrough {
  isTTY: boolean;
  isRaw: boolean;
  setRawMode(mode: boolean): FakeInput;
}

export interface FakeOutput extends Writable {
  isTTY: boolean;
  columns: number;
  rows: number;
}

export interface FakeTerminal {
  input: FakeInput;
  output: FakeOutput;
  /** everything blessed wrote (escape sequences included) */
  written(): string;
  /** types each string as one chunk, letting blessed handle it before the next */
  press(...keys: string[]): Promise<void>;
  resize(columns: number, rows: number): void;
}

export function createFakeTerminal(columns = 80, rows = 24): FakeTerminal {
  const input = new PassThrough() as FakeInput;
  input.isTTY = true;
  input.isRaw = false;
  input.setRawMode = (mode: boolean): FakeInput => {
    input.isRaw = mode;
    return input;
  };
  const chunks: string[] = [];
  const output = new Writable({
    write(chunk: Buffer | string, _enc, cb): void {
      chunks.push(chunk.toString());
      cb();
    },
  }) as FakeOutput;
  output.isTTY = true;
  output.columns = columns;
  output.rows = rows;
  return {
    input,
    output,
    written: () => chunks.join(''),
    press: async (...keys: string[]) => {
      for (const k of keys) {
        input.write(k);
        // A lone ESC followed at once by another key would parse as Meta-key.
        await new Promise((r) => setImmediate(r));
      }
    },
    resize: (c: number, r: number) => {
      output.columns = c;
      output.rows = r;
      output.emit('resize');
    },
  };
}

/** blessed keeps the drawn frame as rows of [attr, char] cells; the typings do not declare it. */
type Cell = [number, string];
interface ScreenWithLines {
  lines: Cell[][];
}

export function screenLines(screen: Blessed.Widgets.Screen): string[] {
  return (screen as unknown as ScreenWithLines).lines.map((row) => row.map((c) => c[1]).join(''));
}

export function screenText(screen: Blessed.Widgets.Screen): string {
  return screenLines(screen).join('\n');
}

/** blessed's default foreground (0x1ff) packed in bits 9-17 of a cell's attr */
export function cellsWithColor(screen: Blessed.Widgets.Screen): number {
  let n = 0;
  for (const row of (screen as unknown as ScreenWithLines).lines) for (const [attr] of row) if (((attr >> 9) & 0x1ff) !== 0x1ff) n++;
  return n;
}

/** A blessed screen on a fake terminal, for tests of widgets outside runTui. */
export function createFakeScreen(term: FakeTerminal): Blessed.Widgets.Screen {
  const blessed = require('blessed') as typeof Blessed;
  // @types/blessed swaps the stream types of input and output; see src/views/tui/run-tui.ts.
  return blessed.screen({
    input: term.input as unknown as Blessed.Widgets.IScreenOptions['input'],
    output: term.output as unknown as Blessed.Widgets.IScreenOptions['output'],
    warnings: false,
  });
}

/** Polls `check` until it holds (redraws are throttled, so a frame may land ~100 ms later). */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---- a WatchSession driven by the test ----

export interface TestSession extends WatchSession {
  /** feeds one snapshot to the tracker at `atMs` and notifies listeners, as the poll loop does */
  poll(snapshot: Snapshot, atMs: number): TrackerEvent[];
  gone(atMs: number): TrackerEvent[];
  setNow(ms: number): void;
  /** sends a notice (e.g. lagging) to the listeners, as the poll loop does */
  notice(n: SessionNotice): void;
  setLag(lag: LagStats): void;
  readonly listenerCount: number;
}

export function testSession(o: {
  tracker: Tracker;
  pid?: number;
  startedMs?: number;
  sourceName?: SourceName;
  intervalMs?: number;
  states?: StateFilter;
  briefConnections?: LifecycleStatus;
}): TestSession {
  const listeners = new Set<UpdateListener>();
  const noticeListeners = new Set<NoticeListener>();
  let now = o.startedMs ?? 1_700_000_000_000;
  const intervalMs = o.intervalMs ?? 1000;
  let lag: LagStats = { intervalMs, polls: 0, late: 0, medianGapMs: null, p95GapMs: null, maxGapMs: null, lagging: false };
  const emit = (events: TrackerEvent[], atMs: number): TrackerEvent[] => {
    for (const l of listeners) l(events, atMs);
    return events;
  };
  return {
    pid: o.pid ?? 4242,
    tracker: o.tracker,
    sourceName: o.sourceName ?? 'procfs',
    intervalMs,
    states: o.states ?? 'all',
    briefConnections: o.briefConnections ?? { facility: 'none', reason: 'test session' },
    lag: () => lag,
    now: () => now,
    startedMs: o.startedMs ?? now,
    onUpdate(l: UpdateListener) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    onNotice(l: NoticeListener) {
      noticeListeners.add(l);
      return () => noticeListeners.delete(l);
    },
    stop: async () => undefined,
    poll(snapshot: Snapshot, atMs: number) {
      now = Math.max(now, atMs);
      return emit(o.tracker.poll(snapshot, atMs), atMs);
    },
    gone(atMs: number) {
      now = Math.max(now, atMs);
      return emit(o.tracker.processGone(atMs), atMs);
    },
    setNow(ms: number) {
      now = ms;
    },
    notice(n: SessionNotice) {
      for (const l of noticeListeners) l(n);
    },
    setLag(l: LagStats) {
      lag = l;
    },
    get listenerCount() {
      return listeners.size;
    },
  };
}
