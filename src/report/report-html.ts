// The report page: one self-contained HTML file (inline CSS, SVG and a little JavaScript; it loads
// nothing). The timeline, charts and findings are static markup; the script only adds hover
// details and highlighting, from a JSON block holding one short row per connection.
import { gzipSync } from 'node:zlib';
import { formatDuration } from '../util/duration';
import { formatEndpoint } from '../core/endpoint';
import type { ReportConnection, ReportData } from './report-data';
import { escapeHtml } from './html-escape';
import { lifetimeHistogramSvg, liveCountSvg, openCloseSvg, STATE_LEGEND, TimeScale, timelineSvg } from './report-svg';
import { REPORT_CSS } from './report-style';
import { REPORT_SCRIPT } from './report-script';

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

/**
 * Hover rows, in the order of the timeline's elements:
 * [local address index, local port, peer index, fd, pid, open (ms from start), close (ms) or -1,
 *  exchanges or -1, bytes sent or -1, bytes received or -1, state index, flags (1 preexisting,
 *  2 brief, 4 live at the end)]; the id is the element's own data-connection-id. Strings repeated
 * across connections (addresses, peers, states) are indexed into tables, and a finding's
 * connections are row numbers.
 */
function hoverData(d: ReportData, order: readonly ReportConnection[]): unknown {
  const tables = { addr: [] as string[], peer: [] as string[], state: [] as string[] };
  const index = (t: string[], m: Map<string, number>, s: string): number => {
    let i = m.get(s);
    if (i === undefined) {
      i = t.length;
      t.push(s);
      m.set(s, i);
    }
    return i;
  };
  const am = new Map<string, number>();
  const pm = new Map<string, number>();
  const sm = new Map<string, number>();
  const rows = order.map((c) => {
    const k = c.connection;
    return [
      index(tables.addr, am, k.local.address.includes(':') ? `[${k.local.address}]` : k.local.address),
      k.local.port,
      index(tables.peer, pm, formatEndpoint(k.remote)),
      k.fd ?? -1,
      c.pid ?? -1,
      c.openMs - d.startMs,
      c.closeMs === undefined ? -1 : c.closeMs - d.startMs,
      c.exchanges ?? -1,
      k.tcp?.bytesSent ?? -1,
      k.tcp?.bytesReceived ?? -1,
      index(tables.state, sm, k.state),
      (c.preexisting ? 1 : 0) | (c.brief ? 2 : 0) | (c.closeMs === undefined ? 4 : 0),
    ];
  });
  const rowOf = new Map(order.map((c, i) => [c.id, i]));
  const findings = d.findings.map((f) => f.ids.flatMap((id) => (rowOf.has(id) ? [rowOf.get(id)!] : [])));
  return { ...tables, end: d.endMs - d.startMs, rows, findings };
}

function metaTable(d: ReportData): string {
  const p = d.process;
  const rows: [string, string][] = [
    ['process', `PID ${p.pid} (${p.command}), user ${p.user}`],
    ['command line', p.cmdline || '-'],
    ['source', d.source],
    ['interval', formatDuration(d.intervalMs)],
    ['states', d.states.join(', ') || '-'],
    ['watched', `${iso(d.startMs)} → ${iso(d.endMs)} (${formatDuration(d.endMs - d.startMs)})`],
    ['connections', String(d.connectionCount)],
    ['sockwatch', d.version],
  ];
  return `<table class="meta">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
}

function findingsList(d: ReportData): string {
  if (d.findings.length === 0) return '<p class="none">No finding was raised.</p>';
  const items = d.findings.map((f, i) => {
    const until = f.untilMs === undefined ? 'the end' : `+${formatDuration(f.untilMs - d.startMs)}`;
    const span = `+${formatDuration(f.sinceMs - d.startMs)} → ${until}`;
    const about = f.ids.length > 0 ? ` <span class="ids">(${f.ids.length} connection${f.ids.length === 1 ? '' : 's'})</span>` : '';
    return `<li class="finding k-${escapeHtml(f.kind)}" data-finding="${i}"><b>${escapeHtml(f.kind)}</b> <span class="span">${escapeHtml(span)}</span>${about}<br>${escapeHtml(f.message)}</li>`;
  });
  return `<ul class="findings">${items.join('')}</ul>`;
}

function legend(): string {
  const states = STATE_LEGEND.map(([c, label]) => `<span><svg width="18" height="8"><path class="${c}" d="M0,4h18"/></svg>${escapeHtml(label)}</span>`).join('');
  return (
    `<p class="legend">${states}` +
    `<span><svg width="18" height="8"><path class="E p" d="M0,4h18"/></svg>preexisting (age unknown)</span>` +
    `<span><svg width="18" height="8"><path class="E" d="M0,4h16"/><path class="end" d="M17,0v8"/></svg>still open at the end (reaches the dashed line)</span>` +
    `<span><svg width="18" height="8"><path class="E b" d="M9,0v8"/></svg>brief (shorter than a poll)</span>` +
    `<span><svg width="18" height="8"><path class="E" d="M0,4h18"/><path class="x" d="M9,1v6"/></svg>exchange seen</span></p>`
  );
}

export function renderReportHtml(d: ReportData): string {
  const scale = new TimeScale(d.startMs, d.endMs);
  const timeline = timelineSvg(d, scale);
  const notes: string[] = [];
  if (d.warnings.length > 0) notes.push(`<p class="warn">${d.warnings.length} line(s) of the recording were skipped: ${escapeHtml(d.warnings.slice(0, 5).join('; '))}</p>`);
  if (d.summaryDifferences.length > 0) notes.push(`<p class="warn">The recorded summary differs from the replayed one: ${escapeHtml(d.summaryDifferences.join('; '))}</p>`);
  const title = `sockwatch report — PID ${d.process.pid} (${d.process.command})`;
  return (
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">` +
    // No network: nothing may be fetched, whatever the recording holds.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${REPORT_CSS}</style></head><body>` +
    `<h1>${escapeHtml(title)}</h1>${metaTable(d)}${notes.join('')}` +
    `<h2>Findings</h2>${findingsList(d)}` +
    `<h2>Timeline</h2><p class="hint">One bar per connection from the poll that first saw it to the poll that missed it, grouped by peer. Hover a bar for its details; hover a finding to pick out its connections.</p>${legend()}` +
    `<div class="scroll">${timeline.svg}</div>` +
    `<h2>Live connections</h2><div class="scroll">${liveCountSvg(d, scale)}</div>` +
    `<h2>Opens <span class="o">■</span> and closes <span class="c">■</span> per minute</h2><div class="scroll">${openCloseSvg(d)}</div>` +
    `<h2>Lifetimes</h2><p class="hint">Connections that opened and closed while watched.</p><div class="scroll">${lifetimeHistogramSvg(d)}</div>` +
    `<div id="tip" hidden></div>` +
    // The hover rows gzipped (about a fifth of their JSON: 10,000 connections need ~100 KiB, not
    // 500); the page inflates them with the browser's own DecompressionStream. Base64 cannot close
    // the script element, whatever the recording held.
    `<script type="application/octet-stream" id="data">${gzipSync(JSON.stringify(hoverData(d, timeline.order)), { level: 9 }).toString('base64')}</script>` +
    `<script>${REPORT_SCRIPT}</script></body></html>\n`
  );
}
