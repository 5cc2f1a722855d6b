// The report's charts as static SVG text: readable with JavaScript off, small enough for 10,000
// connections (one short <path> each; attributes kept to the few that matter).
import { formatDuration } from '../util/duration';
import type { TcpState } from '../model';
import type { PeerGroup, ReportConnection, ReportData } from './report-data';
import { escapeHtml } from './html-escape';

export const PLOT_WIDTH = 1000;
const LABEL_GAP = 4;

/** one decimal at most, no trailing zeros: coordinates are most of the file */
function n(v: number): string {
  return String(Math.round(v * 10) / 10);
}

export function stateClass(s: TcpState): string {
  switch (s) {
    case 'ESTABLISHED':
      return 'E';
    case 'CLOSE_WAIT':
      return 'W';
    case 'TIME_WAIT':
      return 'T';
    case 'SYN_SENT':
    case 'SYN_RECV':
    case 'NEW_SYN_RECV':
      return 'S';
    default:
      return 'F';
  }
}

export const STATE_LEGEND: readonly [string, string][] = [
  ['E', 'ESTABLISHED'],
  ['W', 'CLOSE_WAIT'],
  ['F', 'FIN_WAIT / LAST_ACK / CLOSING / other'],
  ['T', 'TIME_WAIT'],
  ['S', 'SYN_SENT / SYN_RECV'],
];

export class TimeScale {
  constructor(
    readonly startMs: number,
    readonly endMs: number,
  ) {}
  x(t: number): number {
    const span = Math.max(1, this.endMs - this.startMs);
    return Math.max(0, Math.min(PLOT_WIDTH, ((t - this.startMs) / span) * PLOT_WIDTH));
  }
}

/** "+12s" ticks, a nice step for ~8 of them */
function ticks(scale: TimeScale): { x: number; label: string }[] {
  const span = Math.max(1, scale.endMs - scale.startMs);
  const steps = [100, 250, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 216e5, 432e5, 864e5];
  const step = steps.find((s) => span / s <= 8) ?? span / 8;
  const out: { x: number; label: string }[] = [];
  for (let t = 0; t <= span; t += step) out.push({ x: scale.x(scale.startMs + t), label: t === 0 ? '0' : `+${formatDuration(t)}` });
  return out;
}

function axis(scale: TimeScale, y: number, height: number): string {
  return ticks(scale)
    .map((t) => `<path class="grid" d="M${n(t.x)},${y}v${height}"/><text class="tick" x="${n(t.x)}" y="${y - 3}">${escapeHtml(t.label)}</text>`)
    .join('');
}

export function laneHeight(totalLanes: number): number {
  return totalLanes <= 150 ? 8 : totalLanes <= 600 ? 4 : 2;
}

export interface TimelineLayout {
  svg: string;
  /** connections in the order their elements appear (the hover data follows the same order) */
  order: ReportConnection[];
}

/** One bar per connection, grouped by peer; finding spans shaded behind. */
export function timelineSvg(d: ReportData, scale: TimeScale): TimelineLayout {
  const totalLanes = d.groups.reduce((s, g) => s + g.lanes, 0);
  const lh = laneHeight(totalLanes);
  const top = 16;
  const headerH = 14;
  let y = top;
  const groupParts: string[] = [];
  const order: ReportConnection[] = [];
  for (const g of d.groups) {
    groupParts.push(groupSvg(g, scale, y, lh, headerH, order));
    y += headerH + g.lanes * lh + 6;
  }
  const height = Math.max(y, top + 20);
  const bands = d.findings
    .map((f, i) => {
      const x0 = scale.x(f.sinceMs);
      const x1 = f.untilMs === undefined ? PLOT_WIDTH : scale.x(f.untilMs);
      const label = `${f.kind}`;
      return (
        `<g class="band k-${escapeHtml(f.kind)}" data-finding="${i}"><rect x="${n(x0)}" y="${top}" width="${n(Math.max(1, x1 - x0))}" height="${height - top}"/>` +
        `<text x="${n(x0 + 2)}" y="${height - 3}">${escapeHtml(label)}</text><title>${escapeHtml(f.message)}</title></g>`
      );
    })
    .join('');
  const svg =
    `<svg class="tl" role="img" aria-label="connection timeline" viewBox="0 0 ${PLOT_WIDTH} ${height}" width="${PLOT_WIDTH}" height="${height}" style="--lh:${Math.max(1, lh - 2)}px">` +
    `<defs>${hatchPatterns()}</defs>` +
    `${axis(scale, top, height - top)}${bands}${groupParts.join('')}` +
    // Bars still open at the end run into this line (an arrow marker on each costs the browser
    // a quarter of a second per thousand bars).
    `<path class="end" d="M${PLOT_WIDTH - 0.5},${top}v${height - top}"><title>end of the recording</title></path></svg>`;
  return { svg, order };
}

function hatchPatterns(): string {
  const colors: Record<string, string> = { E: '#2e9d4f', W: '#d23b3b', F: '#e08a1e', T: '#8a8a8a', S: '#3b7dd8' };
  return Object.entries(colors)
    .map(
      ([k, c]) =>
        `<pattern id="h${k}" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="4" height="4" fill="${c}" opacity=".35"/><rect width="2" height="4" fill="${c}"/></pattern>`,
    )
    .join('');
}

function groupSvg(g: PeerGroup, scale: TimeScale, y0: number, lh: number, headerH: number, order: ReportConnection[]): string {
  const parts: string[] = [];
  const marks: string[] = [];
  const lanesTop = y0 + headerH;
  parts.push(
    `<text class="peer" x="0" y="${y0 + headerH - LABEL_GAP}">${escapeHtml(g.peer)} — ${g.connections.length} connection${g.connections.length === 1 ? '' : 's'}${g.lanes > 1 ? `, ${g.lanes} at once at most` : ''}</text>`,
  );
  for (const c of g.connections) {
    order.push(c);
    const yc = lanesTop + c.lane * lh + lh / 2;
    const x0 = scale.x(c.openMs);
    // ESTABLISHED, the common case, is the default style: no class to repeat 10,000 times.
    let cls = stateClass(c.connection.state) === 'E' ? '' : stateClass(c.connection.state);
    let d: string;
    if (c.brief) {
      cls += ' b';
      d = `M${n(x0)},${n(yc - lh / 2)}v${lh}`;
    } else {
      const x1 = c.closeMs === undefined ? PLOT_WIDTH : scale.x(c.closeMs);
      if (c.closeMs === undefined) cls += ' l';
      if (c.preexisting) cls += ' p';
      d = `M${n(x0)},${n(yc)}h${n(Math.max(1, x1 - x0))}`;
    }
    cls = cls.trim();
    parts.push(`<path data-connection-id="${escapeHtml(c.id)}"${cls ? ` class="${cls}"` : ''} d="${d}"/>`);
    for (const t of c.exchangeMarksMs) marks.push(`M${n(scale.x(t))},${n(yc - lh / 2 + 1)}v${Math.max(1, lh - 2)}`);
  }
  if (marks.length > 0) parts.push(`<path class="x" d="${marks.join('')}"/>`);
  return parts.join('');
}

/** live connections over time: per pixel column the range it took and where it ended */
export function liveCountSvg(d: ReportData, scale: TimeScale): string {
  const h = 100;
  const max = Math.max(1, ...d.liveSeries.map(([, c]) => c));
  const y = (c: number): number => h - (c / max) * (h - 10);
  const cols = new Map<number, { min: number; max: number; last: number }>();
  let prev = 0;
  let path = `M0,${n(y(0))}`;
  for (const [t, c] of d.liveSeries) {
    const x = Math.round(scale.x(t));
    const col = cols.get(x);
    if (col) {
      col.min = Math.min(col.min, c);
      col.max = Math.max(col.max, c);
      col.last = c;
    } else cols.set(x, { min: Math.min(prev, c), max: Math.max(prev, c), last: c });
    prev = c;
  }
  for (const [x, col] of cols) path += `H${x}V${n(y(col.min))}V${n(y(col.max))}V${n(y(col.last))}`;
  path += `H${PLOT_WIDTH}`;
  return (
    `<svg class="chart" role="img" aria-label="live connections over time" viewBox="0 -14 ${PLOT_WIDTH} ${h + 16}" width="${PLOT_WIDTH}" height="${h + 16}">` +
    `${axis(scale, 0, h)}<path class="line" d="${path}"/><text class="tick" x="${PLOT_WIDTH - 2}" y="10" text-anchor="end">peak ${max}</text></svg>`
  );
}

const BIN_STEPS_MS = [1e3, 5e3, 1e4, 3e4, 6e4, 3e5, 6e5, 18e5, 36e5, 216e5, 864e5];

/** opens and closes per bin, as a rate per minute */
export function openCloseSvg(d: ReportData): string {
  const span = Math.max(1, d.endMs - d.startMs);
  const bin = BIN_STEPS_MS.find((b) => span / b <= 60) ?? span / 60;
  const bins = Math.max(1, Math.ceil(span / bin));
  const opens = new Array<number>(bins).fill(0);
  const closes = new Array<number>(bins).fill(0);
  const idx = (t: number): number => Math.max(0, Math.min(bins - 1, Math.floor((t - d.startMs) / bin)));
  for (const g of d.groups) {
    for (const c of g.connections) {
      if (!c.preexisting) opens[idx(c.openMs)]!++;
      if (c.closeMs !== undefined) closes[idx(c.closeMs)]!++;
    }
  }
  const perMin = 60_000 / bin;
  const max = Math.max(1, ...opens, ...closes);
  const h = 100;
  const bw = PLOT_WIDTH / bins;
  const bars: string[] = [];
  for (let i = 0; i < bins; i++) {
    const ho = (opens[i]! / max) * (h - 10);
    const hc = (closes[i]! / max) * (h - 10);
    const label = `${formatDuration(i * bin)}–${formatDuration((i + 1) * bin)}: ${opens[i]} opened, ${closes[i]} closed`;
    bars.push(
      `<g><rect class="open" x="${n(i * bw)}" y="${n(h - ho)}" width="${n(bw / 2 - 0.5)}" height="${n(ho)}"/>` +
        `<rect class="close" x="${n(i * bw + bw / 2)}" y="${n(h - hc)}" width="${n(bw / 2 - 0.5)}" height="${n(hc)}"/><title>${label}</title></g>`,
    );
  }
  return (
    `<svg class="chart" role="img" aria-label="opens and closes per minute" viewBox="0 -4 ${PLOT_WIDTH} ${h + 8}" width="${PLOT_WIDTH}" height="${h + 8}">${bars.join('')}` +
    `<text class="tick" x="${PLOT_WIDTH - 2}" y="10" text-anchor="end">${Math.round(max * perMin)}/min at most (bins of ${formatDuration(bin)})</text></svg>`
  );
}

const LIFETIME_EDGES_MS = [0, 10, 50, 100, 250, 500, 1e3, 2.5e3, 5e3, 1e4, 3e4, 6e4, 3e5, 9e5, 36e5, Infinity];

/** lifetimes of the connections that opened and closed within the recording */
export function lifetimeHistogramSvg(d: ReportData): string {
  const counts = new Array<number>(LIFETIME_EDGES_MS.length - 1).fill(0);
  for (const g of d.groups) {
    for (const c of g.connections) {
      if (c.preexisting || c.closeMs === undefined) continue;
      const life = c.closeMs - c.openMs;
      const i = LIFETIME_EDGES_MS.findIndex((e, k) => life >= e && life < LIFETIME_EDGES_MS[k + 1]!);
      if (i >= 0) counts[i]!++;
    }
  }
  const max = Math.max(1, ...counts);
  const h = 100;
  const bw = PLOT_WIDTH / counts.length;
  const bars = counts
    .map((c, i) => {
      const bh = (c / max) * (h - 12);
      const hi = LIFETIME_EDGES_MS[i + 1]!;
      const label = hi === Infinity ? `≥${formatDuration(LIFETIME_EDGES_MS[i]!)}` : `<${formatDuration(hi)}`;
      return (
        `<g><rect class="life" x="${n(i * bw + 2)}" y="${n(h - bh)}" width="${n(bw - 4)}" height="${n(bh)}"/>` +
        `<text class="tick" x="${n(i * bw + bw / 2)}" y="${h + 12}" text-anchor="middle">${escapeHtml(label)}</text>` +
        (c > 0 ? `<text class="tick" x="${n(i * bw + bw / 2)}" y="${n(h - bh - 2)}" text-anchor="middle">${c}</text>` : '') +
        `</g>`
      );
    })
    .join('');
  return `<svg class="chart" role="img" aria-label="lifetime histogram" viewBox="0 -4 ${PLOT_WIDTH} ${h + 18}" width="${PLOT_WIDTH}" height="${h + 18}">${bars}</svg>`;
}
