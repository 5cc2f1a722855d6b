// What to show: tracker state + UI state + the time → the lines of one frame, for one terminal
// size. Pure (no blessed, no clock, no I/O), so every layout decision is unit-tested as text.
// draw.ts only paints `lines` and the help overlay.
import type { FindingKind, LastingFinding, LiveCountSample, TrackedConnection, Tracker, TrackerStats } from '../../core/tracker-types';
import type { ProcessInfo } from '../../model';
import type { LagStats, WatchSession } from '../session-types';
import type { StateFilter } from '../../model';
import { formatClock } from './format';
import { formatDuration } from '../../util/duration';
import { COLUMN_TITLES, cellText, fitColumns, wantedColumns, type ColumnId, type FittedColumn } from './columns';
import { logLine, type LogEntry } from './event-log';
import { helpEntries } from './keys';
import { STATE_COLORS } from '../output/state-color';
import { clipEnd, clipLine, clipMiddle, clipStart, fillLine, oneLine, packItems, padEnd, padStart, seg, terminalText, type Color, type Line, type Style } from './line';
import { headUnits } from '../../util/terminal-text';
import { selectRows } from './rows';
import { sparkline } from './sparkline';
import type { UiState } from './ui-state';
import type { PeerStats } from '../../core/peer-stats';
import { dirText } from './columns';

export type SessionView = Pick<WatchSession, 'pid' | 'sourceName' | 'intervalMs' | 'startedMs'>;

export interface ScreenInput {
  tracker: Tracker;
  session: SessionView;
  ui: UiState;
  nowMs: number;
  width: number;
  height: number;
  log: { recent(n: number, filter?: StateFilter): readonly LogEntry[] };
  /** shown until the first poll names the process */
  command?: string;
  demoBanner?: string;
  /** the demo banner in one line, shown once the legend is folded (UiState.legendFolded) */
  demoBannerFolded?: string;
  /** selectRows() output, when the caller has it cached; computed here otherwise */
  rows?: readonly TrackedConnection[];
  /** deriveView() output, when the caller has it cached; computed here otherwise */
  derived?: DerivedView;
  /** no color (NO_COLOR): DIR says in/out instead of ←/→ */
  plain?: boolean;
  /** a replay: the help lists its keys too */
  replay?: boolean;
}

/**
 * Everything a frame shows from the tracker. Copying the live connections and the stats
 * (per-remote counts) walks every connection: with 20,000 that is ~30–50 ms, so the TUI computes
 * this once per poll, not once per redraw (keys redraw up to 10 times a second and the data only
 * changes when a poll lands). It is also what a paused screen keeps showing.
 */
export interface DerivedView {
  live: readonly TrackedConnection[];
  /** since the display baseline (`r`) */
  stats: TrackerStats;
  /** every finding of the watch, oldest first */
  findings: readonly LastingFinding[];
  history: readonly LiveCountSample[];
  process: ProcessInfo | undefined;
  exited: boolean;
  lag: LagStats | undefined;
  /** connections grouped by peer (the `g` view), busiest first */
  peers: readonly PeerStats[];
  /** more than one process is watched: a PID column */
  several: boolean;
}

/** peer rows the `g` view lists, at most (the rest as one `other` row) */
export const TUI_PEERS = 200;

export function deriveView(tracker: Tracker, nowMs: number, lag?: LagStats): DerivedView {
  return {
    peers: tracker.peers(nowMs, TUI_PEERS),
    several: tracker.processes.length > 1,
    live: tracker.live(),
    stats: tracker.stats(nowMs, 'baseline'),
    findings: tracker.findingHistory(),
    history: tracker.history(),
    process: tracker.process,
    exited: tracker.exited,
    lag,
  };
}

export interface TableModel {
  columns: FittedColumn[];
  header: Line;
  /** only the rows inside the viewport: never one per connection */
  rows: Line[];
  /** the clamped scroll offset actually used */
  offset: number;
  viewport: number;
  /** rows passing the state and text filters */
  matched: number;
  live: number;
  /** columns the data has but the terminal is too narrow for */
  hidden: ColumnId[];
}

export interface ScreenModel {
  width: number;
  height: number;
  header: Line[];
  banners: Line[];
  chart: Line[];
  findings: Line[];
  table: TableModel;
  log: Line[];
  status: Line;
  /** the whole frame, exactly `height` lines, top to bottom */
  lines: Line[];
  /** the help overlay's lines, when it is open */
  help: Line[] | null;
  /** findings the banner shows at once (what `F` moves by); all of them when they fit */
  findingsPage: number;
}

// One table of state colors for every view (views/output/state-color.ts).
export { STATE_COLORS };

const FINDING_COLORS: Record<FindingKind, Color> = {
  reuse: 'green',
  churn: 'yellow',
  growth: 'yellow',
  close_wait: 'red',
};

export function statesText(s: StateFilter): string {
  return s === 'all' ? 'all' : [...s].map((x) => x.toLowerCase()).join(',') || 'none';
}

function item(label: string, value: string, valueStyle?: { fg?: Color; bold?: boolean }): Line {
  return [seg(label + ' ', { fg: 'gray' }), seg(value, valueStyle ?? { bold: true })];
}

function headerLines(i: ScreenInput, d: DerivedView): Line[] {
  const p = d.process;
  const items: Line[] = [
    [seg('sockwatch', { bold: true, fg: 'cyan' })],
    item('PID', String(i.session.pid)),
    [seg(oneLine(p?.command ?? i.command ?? 'waiting for the first poll…'), { bold: true })],
  ];
  if (p) items.push(item('user', oneLine(p.user)));
  items.push(
    item('source', i.session.sourceName),
    d.lag?.lagging === true && d.lag.medianGapMs !== null
      ? item('every', `${formatDuration(i.session.intervalMs)} (late: ${formatDuration(d.lag.medianGapMs)})`, { bold: true, fg: 'yellow' })
      : item('every', formatDuration(i.session.intervalMs)),
    item('states', statesText(i.ui.states)),
    item('watched', formatDuration(i.nowMs - i.session.startedMs)),
  );
  const lines = packItems(items, i.width);
  const cmdline = oneLine(p?.cmdline || i.command || '');
  if (cmdline) lines.push([seg('$ ', { fg: 'gray' }), seg(clipEnd(cmdline, Math.max(0, i.width - 2)))]);
  return lines;
}

function bannerLines(i: ScreenInput, d: DerivedView): Line[] {
  const out: Line[] = [];
  if (i.demoBanner) {
    // The demo passes one line per loop it runs; each keeps its own row (clipped, not wrapped), and
    // a short terminal keeps the first ones so the table still gets rows.
    const lines = i.demoBanner.split(/\r?\n/).map(oneLine).filter((l) => l !== '');
    // Once read, the legend folds to one line and gives the table its rows back.
    const given = i.ui.legendFolded ? [oneLine(i.demoBannerFolded ?? lines[0] ?? '')] : lines;
    const max = i.height >= 30 ? 6 : i.height >= 20 ? 4 : 1;
    const style = { fg: 'cyan' as const, inverse: true };
    for (const l of given.slice(0, max)) out.push(fillLine([seg(' ' + l, style)], i.width, style));
  }
  if (d.exited) {
    const why = i.ui.exitReason === 'pid_reused' ? 'PROCESS EXITED (its PID now belongs to another process)' : 'PROCESS EXITED';
    const style = { fg: 'red' as const, inverse: true, bold: true };
    out.push(fillLine([seg(` ${why}: data kept, e/c still export, q quits `, style)], i.width, style));
  }
  if (i.ui.paused) {
    const style = { fg: 'yellow' as const, inverse: true, bold: true };
    out.push(fillLine([seg(' PAUSED: screen frozen, polling and recording go on; space resumes ', style)], i.width, style));
  }
  return out;
}

function statsLines(s: TrackerStats, width: number, startedMs: number): Line[] {
  const life = s.lifetimeMs;
  // After `r` the counters run from the baseline; say so, the summary still counts from the start.
  const since = s.sinceMs > startedMs ? [item('since r', formatClock(s.sinceMs))] : [];
  const rows: Line[][] = [
    [item('now', String(s.live), { bold: true, fg: 'cyan' }), item('peak', String(s.peak)), ...since],
    [item('opened', String(s.opened)), item('closed', String(s.closed)), ...(s.likelyBrief > 0 ? [item('likely', `+${s.likelyBrief}`)] : [])],
    [item('opens/min', s.opensPerMinute.toFixed(s.opensPerMinute < 10 ? 1 : 0))],
    [item('lifetime p50', life ? formatDuration(life.p50) : '-'), item('p95', life ? formatDuration(life.p95) : '-')],
  ];
  return rows.map((r) => clipLine(r.flatMap((it, n) => (n === 0 ? it : [seg('  '), ...it])), width));
}

function chartLines(i: ScreenInput, d: DerivedView, height: number): Line[] {
  const stats = d.stats;
  if (height <= 0) return [];
  // wide enough for "lifetime p50 10m05s  p95 10m05s"
  const statsWidth = Math.min(44, Math.max(32, Math.floor(i.width * 0.4)));
  let statLines = statsLines(stats, statsWidth, i.session.startedMs);
  // A very short chart keeps the most telling numbers.
  if (statLines.length > height) statLines = [statLines[0] as Line, statLines[3] as Line, statLines[1] as Line, statLines[2] as Line].slice(0, height);
  const counts = d.history.map((h) => h.count);
  const max = Math.max(0, ...counts.slice(-Math.max(1, i.width)));
  const axisW = String(max).length + 1;
  const chartW = Math.max(0, i.width - statsWidth - axisW - 2);
  const bars = sparkline(counts, chartW, height, max);
  const lines: Line[] = [];
  for (let r = 0; r < height; r++) {
    const label = r === 0 ? String(max) : r === height - 1 ? '0' : '';
    const tick = r === 0 || r === height - 1 ? '┤' : '│';
    lines.push(
      clipLine(
        [
          seg(padStart(label, axisW - 1) + tick, { fg: 'gray' }),
          seg(bars[r] ?? '', { fg: 'cyan' }),
          seg('  '),
          ...(statLines[r] ?? []),
        ],
        i.width,
      ),
    );
  }
  return lines;
}

/** Findings that hold first (newest first), then those that cleared, dimmed, with when. */
export function orderFindings(all: readonly LastingFinding[]): LastingFinding[] {
  const holding = all.filter((f) => f.untilMs === null).reverse();
  const cleared = all.filter((f) => f.untilMs !== null).reverse();
  return [...holding, ...cleared];
}

/** the lesson a finding keeps at least ("keep-alive is not in effect") before its evidence is cut */
const FINDING_LESSON_MIN = 28;

/** Clips at a word boundary when one is near, so a cut reads as a cut, not as a word. */
function clipWords(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return clipEnd(text, width);
  const cut = headUnits(text, width - 1);
  const space = cut.lastIndexOf(' ');
  return (space >= width * 0.6 ? cut.slice(0, space) : cut).trimEnd() + '…';
}

/**
 * A finding's message on one line of `room` cells. Messages read "evidence — lesson" (views/output/
 * finding-message.ts); a long one cuts its evidence before its lesson ("… — a leak", "… —
 * keep-alive is working"), and the lesson keeps at least its start.
 */
export function fitFinding(message: string, room: number): string {
  if (message.length <= room) return message;
  const cut = message.indexOf(' — ');
  if (cut < 0) return clipWords(message, room);
  const fact = message.slice(0, cut);
  const lesson = message.slice(cut + 3);
  const factRoom = Math.max(0, Math.min(fact.length, room - 3 - Math.min(lesson.length, FINDING_LESSON_MIN)));
  const factShown = clipWords(fact, factRoom);
  return `${factShown} — ${clipWords(lesson, Math.max(0, room - 3 - factShown.length))}`;
}

/**
 * One line per finding. When more hold than there are lines, the last line says which are shown
 * and that `F` shows the next ones; `from` (UiState.findingsFrom) picks the first.
 */
export function findingLines(all: readonly LastingFinding[], width: number, max: number, from = 0): Line[] {
  const findings = orderFindings(all);
  if (max <= 0) return [];
  let shown = findings;
  let more: Line | undefined;
  if (findings.length > max) {
    const page = Math.max(1, max - 1);
    // a `from` past the end (findings that cleared and aged out are still listed, so rarely) starts over
    const start = from >= 0 && from < findings.length ? from : 0;
    shown = findings.slice(start, start + page);
    const range = shown.length === 1 ? `${start + 1}` : `${start + 1}–${start + shown.length}`;
    more = clipLine([seg(`  findings ${range} of ${findings.length} · F shows the next`, { fg: 'gray' })], width);
  }
  const lines = shown.map((l) => {
    const f = l.finding;
    const tag = ` ${terminalText(f.kind.toUpperCase())} `;
    const room = width - tag.length - 1;
    if (l.untilMs !== null) {
      const span = `${formatClock(l.sinceMs)}–${formatClock(l.untilMs)}`;
      return clipLine([seg(tag, { fg: 'gray', inverse: true }), seg(' '), seg(fitFinding(`held ${span}: ${oneLine(f.message)}`, room), { fg: 'gray' })], width);
    }
    const color = FINDING_COLORS[f.kind] ?? 'yellow';
    return clipLine([seg(tag, { fg: color, inverse: true, bold: true }), seg(' '), seg(fitFinding(oneLine(f.message), room), { fg: color })], width);
  });
  if (more && max > 1) lines.push(more);
  return lines;
}

function cell(text: string, col: FittedColumn): string {
  const clipped = col.id === 'local' || col.id === 'remote' ? clipStart(text, col.width) : clipEnd(text, col.width);
  return col.align === 'right' ? padStart(clipped, col.width) : padEnd(clipped, col.width);
}

function tableHeader(columns: readonly FittedColumn[], ui: UiState, width: number): Line {
  const style = { inverse: true, bold: true };
  const text = columns
    .map((c) => cell(c.title + (c.id === ui.sort.key ? (ui.sort.descending ? '↓' : '↑') : ''), c))
    .join(' ');
  return fillLine([seg(text, style)], width, style);
}

function tableRow(t: TrackedConnection, columns: readonly FittedColumn[], nowMs: number, width: number, plain: boolean): Line {
  const line: Line = [];
  columns.forEach((c, idx) => {
    if (idx > 0) line.push(seg(' '));
    const text = cell(cellText(c.id, t, nowMs, c.compact, plain), c);
    if (c.id === 'state') {
      const fg = STATE_COLORS[t.connection.state];
      line.push(seg(text, fg ? { fg } : undefined));
    } else if (c.id === 'age' && t.preexisting) {
      line.push(seg(text, { fg: 'gray' }));
    } else {
      line.push(seg(text));
    }
  });
  return clipLine(line, width);
}

// The `g` view: one row per peer. Fixed columns; PEER takes what is left before FINDINGS.
const PEER_COLUMNS = [
  ['DIR', 3, 'left'],
  ['PEER', 21, 'left'],
  ['LIVE', 5, 'right'],
  ['OPENED', 6, 'right'],
  ['CLOSED', 6, 'right'],
  ['OPEN/MIN', 8, 'right'],
  ['P50', 7, 'right'],
  ['EXCH/C', 6, 'right'],
  ['FINDINGS', 8, 'left'],
] as const;

function peerCells(p: PeerStats, plain: boolean): string[] {
  const num = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(1));
  return [
    dirText(p.direction, plain),
    terminalText(p.peer),
    String(p.live),
    String(p.opened),
    String(p.closed),
    num(Math.round(p.opensPerMinute * 10) / 10),
    p.lifetimeMs === null ? '-' : formatDuration(p.lifetimeMs.p50),
    p.exchangesPerConnection === null ? '-' : num(Math.round(p.exchangesPerConnection * 10) / 10),
    p.findings.join(','),
  ];
}

function peerTable(peers: readonly PeerStats[], ui: UiState, width: number, viewport: number, plain: boolean): TableModel {
  const offset = Math.max(0, Math.min(ui.scroll, peers.length - viewport));
  const visible = peers.slice(offset, offset + viewport);
  const widths: number[] = PEER_COLUMNS.map(([, w]) => w);
  const peerW = Math.max(PEER_COLUMNS[1][1], ...visible.map((p) => terminalText(p.peer).length));
  const fixed = widths.reduce((a, b) => a + b, 0) - widths[1]! + widths.length - 1;
  widths[1] = Math.max(12, Math.min(peerW, width - fixed));
  const fmt = (cells: readonly string[]): string =>
    cells
      .map((c, k) => {
        const [, , align] = PEER_COLUMNS[k]!;
        const w = widths[k]!;
        if (k === cells.length - 1) return c;
        const clipped = k === 1 ? clipStart(c, w) : clipEnd(c, w);
        return align === 'right' ? padStart(clipped, w) : padEnd(clipped, w);
      })
      .join(' ');
  const style = { inverse: true, bold: true };
  return {
    columns: [],
    header: fillLine([seg(fmt(PEER_COLUMNS.map(([t]) => t)), style)], width, style),
    rows: visible.map((p) => clipLine([seg(fmt(peerCells(p, plain)), p.findings.length > 0 ? { fg: FINDING_COLORS[p.findings[0]!] } : undefined)], width)),
    offset,
    viewport,
    matched: peers.length,
    live: peers.length,
    hidden: [],
  };
}

function statusLine(i: ScreenInput, t: TableModel): Line {
  const w = i.width;
  const pos = (t.matched === 0 ? '0 rows' : `${t.offset + 1}-${t.offset + t.rows.length}/${t.matched}`) + (i.ui.follow ? ' following' : '');
  const shown = i.ui.filterText ? `${pos} (of ${t.live}) "${clipEnd(i.ui.filterText, 12)}"` : pos;
  // Say what a narrow terminal dropped, so a missing TX/RX reads as "widen me", not "no data".
  const right = t.hidden.length > 0 ? `${t.hidden.map((id) => COLUMN_TITLES[id]).join(' ')} hidden · ${shown}` : shown;
  let left: Line;
  if (i.ui.prompt !== null) {
    left = [seg('filter: ', { bold: true }), seg(i.ui.prompt), seg('▏'), seg('  Enter applies, Esc clears', { fg: 'gray' })];
  } else if (i.ui.status) {
    const text = oneLine(i.ui.status.text);
    const style: Style = i.ui.status.kind === 'error' ? { fg: 'red', bold: true } : { fg: 'green' };
    // A message ends in what matters (an export's file name, a failure's reason): it loses its
    // middle rather than its end, and an error takes the row position's room too.
    if (text.length + 1 + right.length > w) {
      if (i.ui.status.kind === 'error' || right.length + 20 > w) return fillLine([seg(clipMiddle(text, w), style)], w);
      left = [seg(clipMiddle(text, w - right.length - 1), style)];
    } else left = [seg(text, style)];
  } else {
    left = [seg('? help  q quit  space pause  e/c export  s/S sort  / filter', { fg: 'gray' })];
    // The key hints are always the same; what is hidden and where the view is are not: on a
    // narrow terminal the hints give way.
    if (right.length + 20 > w) {
      if (right.length + 1 >= w) return fillLine([seg(clipEnd(right, w), { fg: 'gray' })], w);
      return [...fillLine(left, w - right.length - 1), seg(' '), seg(right, { fg: 'gray' })];
    }
  }
  // The row position yields to the message on a narrow terminal.
  if (right.length + 20 > w) return fillLine(left, w);
  return [...fillLine(left, w - right.length - 1), seg(' '), seg(right, { fg: 'gray' })];
}

/** Generated from the key table (keys.ts), the replay's keys included in a replay. */
export function helpLines(replay: boolean, height: number): Line[] {
  const entries = helpEntries(replay);
  const keyW = Math.max(...entries.map(([k]) => k.length));
  const title: Line = [seg(replay ? 'sockwatch keys (replay)' : 'sockwatch keys', { bold: true })];
  const rows: Line[] = entries.map(([k, what]) => [seg(padEnd(k, keyW + 2), { bold: true, fg: 'cyan' }), seg(what)]);
  // In its border the overlay takes 2 more lines; a short terminal loses the spacing first (the
  // `?` row already says any key closes it).
  if (rows.length + 4 + 2 > height) return [title, ...rows];
  return [title, [], ...rows, [], [seg('any key closes this help', { fg: 'gray' })]];
}

/** rows the table keeps before the chart and log stop shrinking (80x24 gets them) */
const TABLE_ROWS_WANTED = 8;

interface Heights {
  chart: number;
  findings: number;
  log: number;
}

/**
 * Chart and log grow with the terminal; the table gets what is left. The chart and log give up
 * lines first so the table keeps a useful 8 rows, then anything goes to keep 3.
 */
function sectionHeights(height: number, fixed: number, findings: number): Heights {
  const h: Heights = {
    chart: height >= 44 ? 7 : height >= 32 ? 5 : 4,
    findings: Math.min(findings, 3),
    log: height >= 44 ? 10 : height >= 32 ? 6 : 3,
  };
  const rowsLeft = (): number => height - fixed - h.chart - h.findings - (h.log > 0 ? h.log + 1 : 0);
  while (rowsLeft() < TABLE_ROWS_WANTED) {
    if (h.log > 2) h.log--;
    else if (h.chart > 3) h.chart--;
    else break;
  }
  while (rowsLeft() < 3) {
    if (h.log > 1) h.log--;
    else if (h.chart > 2) h.chart--;
    else if (h.log > 0) h.log = 0;
    else if (h.findings > 1) h.findings--;
    else if (h.chart > 0) h.chart--;
    else if (h.findings > 0) h.findings--;
    else break;
  }
  return h;
}

export function buildScreenModel(i: ScreenInput): ScreenModel {
  const { width, height, ui, nowMs, tracker } = i;
  const derived = i.derived ?? deriveView(tracker, nowMs);
  const header = headerLines(i, derived);
  const banners = bannerLines(i, derived);
  const findings = derived.findings;
  // header + banners + table heading + status line
  const fixed = header.length + banners.length + 2;
  const h = sectionHeights(height, fixed, findings.length);
  const viewport = Math.max(0, height - fixed - h.chart - h.findings - (h.log > 0 ? h.log + 1 : 0));

  const live = derived.live;
  const rows = i.rows ?? selectRows(live, { states: ui.states, filterText: ui.filterText, sort: ui.sort });
  const offset = Math.max(0, ui.follow ? rows.length - viewport : Math.min(ui.scroll, rows.length - viewport));
  const visible = rows.slice(offset, offset + viewport);
  const hasTcp = live.some((t) => t.connection.tcp !== undefined);
  const hasTimer = hasTcp || live.some((t) => t.connection.timer !== undefined && t.connection.timer.kind !== 'none');
  const hasDir = live.some((t) => t.connection.direction !== undefined);
  const wanted = wantedColumns(hasTcp, hasTimer, derived.several, hasDir);
  const columns = fitColumns({ ids: wanted, rows: visible, nowMs, width, sortKey: ui.sort.key, plain: i.plain === true });
  const table: TableModel = ui.grouped
    ? peerTable(derived.peers, ui, width, viewport, i.plain === true)
    : {
        columns,
        header: tableHeader(columns, ui, width),
        rows: visible.map((t) => tableRow(t, columns, nowMs, width, i.plain === true)),
        offset,
        viewport,
        matched: rows.length,
        live: live.length,
        hidden: wanted.filter((id) => !columns.some((c) => c.id === id)),
      };

  const chart = chartLines(i, derived, h.chart);
  const findingsShown = findingLines(findings, width, h.findings, ui.findingsFrom).slice(0, h.findings);
  const log: Line[] = [];
  if (h.log > 0) {
    const entries = i.log.recent(h.log, ui.states);
    for (const e of entries) log.push(logLine(e, width));
    while (log.length < h.log) log.push([]);
  }
  const status = statusLine(i, table);
  let emptyNote: Line | undefined;
  if (table.rows.length === 0 && viewport > 0) {
    const why = ui.grouped ? 'no peers yet (g goes back to connections)' : live.length === 0 ? 'no live connections' : `no connection matches (${live.length} live; / then Esc clears the filter, f shows all states)`;
    emptyNote = [seg(`  ${why}`, { fg: 'gray' })];
  }

  const lines: Line[] = [...header, ...banners, ...chart, ...findingsShown, table.header];
  for (let r = 0; r < viewport; r++) lines.push(table.rows[r] ?? (r === 0 && emptyNote ? emptyNote : []));
  if (h.log > 0) lines.push(clipLine([seg('─ events ', { fg: 'gray' }), seg('─'.repeat(Math.max(0, width - 9)), { fg: 'gray' })], width), ...log);
  lines.push(status);
  while (lines.length < height) lines.splice(lines.length - 1, 0, []);

  return {
    width,
    height,
    header,
    banners,
    chart,
    findings: findingsShown,
    table,
    log,
    status,
    lines: lines.slice(0, height).map((l) => clipLine(l, width)),
    help: ui.help ? helpLines(i.replay === true, height) : null,
    findingsPage: findings.length > h.findings ? Math.max(1, h.findings - 1) : findings.length,
  };
}
