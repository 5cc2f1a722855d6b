// Does serving metrics slow the watch? The real CLI watches a target holding many connections at
// --interval 100ms: without --metrics, with --metrics but never scraped, and scraped every 100 ms
// (from this process, so the scraper's own CPU is not sockwatch's). Runs interleaved, so drift on
// this shared machine hits every mode alike. Reported: sockwatch's CPU per second of watching
// (/proc/PID/stat, after start-up), the mean poll from its own sockwatch_poll_duration_seconds,
// and the scrape's round trip.
// Alone: `node dist/bench/metrics-impact.js [connections] [repeats]`; `npm run bench` includes it.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { median } from './measure';

const CLI = path.join(__dirname, '..', '..', 'bin', 'sockwatch.js');
const SETTLE_MS = 1000;
const RUN_MS = 5000;
const SCRAPE_EVERY_MS = 100;
const CLOCK_TICK_MS = 10; // USER_HZ is 100 on Linux

export interface MetricsImpactRow {
  mode: string;
  /** sockwatch's user+system CPU per second of watching, ms (median of the repeats) */
  cpuMsPerS: number;
  /** every repeat's CPU ms per s, in run order: the run-to-run noise */
  cpuRuns: number[];
  /** mean poll, ms, from sockwatch_poll_duration_seconds (median of the repeats); NaN without --metrics */
  pollMs: number;
  /** median scrape round trip, ms; NaN when not scraped */
  scrapeMs: number;
  scrapes: number;
  repeats: number;
}

type Mode = 'plain' | 'served' | 'scraped';
const LABELS: Record<Mode, string> = {
  plain: 'watch --interval 100ms',
  served: 'watch --interval 100ms --metrics (not scraped)',
  scraped: `watch --interval 100ms --metrics, scraped every ${SCRAPE_EVERY_MS} ms`,
};

function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) * CLOCK_TICK_MS;
}

function get(url: string): Promise<{ ms: number; body: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ ms: performance.now() - t0, body }));
      })
      .on('error', reject);
  });
}

/** mean poll in ms from the histogram's _sum and _count, between two scrapes */
function pollSumCount(text: string): [number, number] {
  const sum = Number(/^sockwatch_poll_duration_seconds_sum\{[^}]*\} (\S+)$/m.exec(text)?.[1]);
  const count = Number(/^sockwatch_poll_duration_seconds_count\{[^}]*\} (\S+)$/m.exec(text)?.[1]);
  return [sum, count];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function runOnce(pid: number, mode: Mode): Promise<{ cpuMsPerS: number; pollMs: number; scrapeMs: number[] }> {
  const args = [CLI, 'watch', String(pid), '--no-tui', '--interval', '100ms', '--state', 'all'];
  if (mode !== 'plain') args.push('--metrics', '127.0.0.1:0');
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  // The start line comes after the first poll (and after the metrics URL): start-up is over.
  const started = new Promise<void>((r) => child.stdout?.once('data', () => r()));
  child.stdout?.resume();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await Promise.race([started, exited]);
    await sleep(SETTLE_MS);
    const url = /serving metrics on (\S+)/.exec(stderr)?.[1];
    if (mode !== 'plain' && url === undefined) throw new Error(`no metrics URL; stderr: ${stderr}`);
    const cpu0 = cpuMs(child.pid!);
    const before = url ? pollSumCount((await get(url)).body) : [NaN, NaN];
    const t0 = performance.now();
    const scrapeMs: number[] = [];
    if (mode === 'scraped') {
      for (let next = t0; performance.now() - t0 < RUN_MS; next += SCRAPE_EVERY_MS) {
        scrapeMs.push((await get(url!)).ms);
        await sleep(Math.max(0, next + SCRAPE_EVERY_MS - performance.now()));
      }
    } else {
      await sleep(RUN_MS);
    }
    const elapsedS = (performance.now() - t0) / 1000;
    const cpu1 = cpuMs(child.pid!);
    const after = url ? pollSumCount((await get(url)).body) : [NaN, NaN];
    return { cpuMsPerS: (cpu1 - cpu0) / elapsedS, pollMs: ((after[0]! - before[0]!) / (after[1]! - before[1]!)) * 1000, scrapeMs };
  } finally {
    child.kill('SIGINT');
    await exited;
  }
}

export async function benchMetricsImpact(pid: number, repeats: number): Promise<MetricsImpactRow[]> {
  const modes: Mode[] = ['plain', 'served', 'scraped'];
  const runs = new Map<Mode, { cpuMsPerS: number; pollMs: number; scrapeMs: number[] }[]>(modes.map((m) => [m, []]));
  for (let i = 0; i < repeats; i++) {
    // rotate the order so no mode always runs first
    for (let j = 0; j < modes.length; j++) {
      const mode = modes[(i + j) % modes.length]!;
      runs.get(mode)!.push(await runOnce(pid, mode));
    }
  }
  return modes.map((mode) => {
    const r = runs.get(mode)!;
    const scrapes = r.flatMap((x) => x.scrapeMs);
    return {
      mode: LABELS[mode],
      cpuMsPerS: median(r.map((x) => x.cpuMsPerS)),
      cpuRuns: r.map((x) => x.cpuMsPerS),
      pollMs: mode === 'plain' ? NaN : median(r.map((x) => x.pollMs)),
      scrapeMs: scrapes.length > 0 ? median(scrapes) : NaN,
      scrapes: scrapes.length,
      repeats,
    };
  });
}

export function metricsImpactTable(rows: readonly MetricsImpactRow[], connections: number): string {
  const f = (x: number): string => (Number.isNaN(x) ? '–' : x.toFixed(1));
  const lines = [
    `| sockwatch, target holding ${connections} connections | CPU ms per s (median) | CPU runs min–max | mean poll ms (median) | scrape round trip ms (median) | runs |`,
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.mode} | ${f(r.cpuMsPerS)} | ${f(Math.min(...r.cpuRuns))}–${f(Math.max(...r.cpuRuns))} | ${f(r.pollMs)} | ${f(r.scrapeMs)}${r.scrapes > 0 ? ` (${r.scrapes} scrapes)` : ''} | ${r.repeats} × ${RUN_MS / 1000} s |`,
    ),
  ];
  return lines.join('\n');
}

/**
 * One scrape in this process, no HTTP: the registry's own cost with `connections` live connections
 * (and per-peer series), CPU ms per scrape averaged over `scrapes`. Less sensitive to a busy machine
 * than the runs above.
 */
export async function scrapeCostInProcess(connections: number, scrapes = 300): Promise<{ cpuMs: number; bytes: number }> {
  const { createTracker } = await import('../src/core/tracker');
  const { SockwatchMetrics } = await import('../src/views/metrics/sockwatch-metrics');
  const { findingMessage } = await import('../src/views/output/finding-message');
  const tracker = createTracker({ describeFinding: findingMessage });
  const conns = Array.from({ length: connections }, (_, i) => ({
    fd: 10 + i,
    protocol: 'tcp' as const,
    local: { address: '127.0.0.1', port: 20000 + (i % 40000) },
    remote: { address: `10.0.${(i >> 8) & 255}.${i & 255}`, port: 80 },
    state: 'ESTABLISHED' as const,
    inode: 1 + i,
  }));
  const process_ = { pid: 1, command: 'bench', cmdline: 'bench', user: 'root', startTime: '2024-01-01T00:00:00.000Z' };
  const m = new SockwatchMetrics({ target: '1', peers: 10 });
  m.setView({ tracker, sourceName: 'procfs', now: () => 2000 });
  m.record(tracker.poll({ process: process_, source: 'procfs', connections: [] }, 0));
  m.record(tracker.poll({ process: process_, source: 'procfs', connections: conns }, 1000));
  let bytes = 0;
  for (let i = 0; i < 20; i++) bytes = (await m.scrape()).body.length; // warm up
  const c0 = process.cpuUsage();
  for (let i = 0; i < scrapes; i++) await m.scrape();
  const c = process.cpuUsage(c0);
  return { cpuMs: (c.user + c.system) / 1000 / scrapes, bytes };
}

if (require.main === module) {
  void (async () => {
    const { buildTarget } = await import('./scene');
    const { stopAll } = await import('./children-registry');
    const wanted = Number(process.argv[2] ?? 1000);
    const repeats = Number(process.argv[3] ?? 3);
    try {
      for (const n of [1000, 20000]) {
        const cost = await scrapeCostInProcess(n);
        process.stdout.write(`in-process scrape, ${n} live connections, --metrics-peers 10: ${cost.cpuMs.toFixed(2)} CPU ms per scrape (${cost.bytes} bytes)\n`);
      }
      const target = await buildTarget(wanted, 100);
      process.stderr.write(`target PID ${target.pid} holds ${target.connections} connections\n`);
      const rows = await benchMetricsImpact(target.pid, repeats);
      process.stdout.write(metricsImpactTable(rows, target.connections) + '\n');
    } finally {
      stopAll();
    }
  })();
}
