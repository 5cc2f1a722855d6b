// `npm run bench:lifetimes`: how close sockwatch's open/close times and lifetimes are to the
// truth. A churning target (children/churner.ts) holds connections to a local sink for a random
// 5–500 ms each and logs its own connect/close times; `sockwatch watch PID --json` follows it at
// each interval; events are matched to the target's log by local port (and nearest open time).
// A measurement, not a test: it prints a table (and --json prints the raw figures).
// Options: --seconds N (per interval, default 15), --concurrency N (default 4).
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import * as readline from 'node:readline';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'sockwatch.js');
const CHURNER = path.join(__dirname, 'children', 'churner.js');
const INTERVALS_MS = [20, 100, 1000];

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const SECONDS = option('--seconds', 15);
const CONCURRENCY = option('--concurrency', 4);

interface Life {
  localPort: number;
  openMs: number;
  closeMs: number;
  heldMs: number;
}
interface SwEvent {
  type: string;
  time: string;
  lifetimeMs?: number;
  /** a connection no poll saw: one close, no open (between-poll evidence) */
  brief?: boolean;
  connection?: { local: { port: number }; preexisting?: boolean };
}

export interface IntervalResult {
  intervalMs: number;
  connections: number;
  missed: number;
  matched: number;
  /** of the matched: connections no poll saw, known from one brief close (eBPF or destroy notification) */
  brief: number;
  /** share of matched lifetimes within ±interval / ±20 ms of the truth */
  withinInterval: number;
  within20ms: number;
  openErrMs: { median: number; p95: number };
  closeErrMs: { median: number; p95: number };
  lifetimeErrMs: { median: number; p95: number };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
function medP95(values: number[]): { median: number; p95: number } {
  const s = values.map(Math.abs).sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p95: quantile(s, 0.95) };
}

function lines(stream: NodeJS.ReadableStream, each: (line: string) => void): void {
  readline.createInterface({ input: stream }).on('line', each);
}

async function runOne(intervalMs: number): Promise<IntervalResult> {
  const sink = net.createServer((s) => {
    s.on('error', () => undefined);
    s.resume();
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const port = (sink.address() as net.AddressInfo).port;

  const churner = spawn(process.execPath, [CHURNER, String(port), String(SECONDS * 1000), String(CONCURRENCY)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const truth: Life[] = [];
  let churnerPid = 0;
  const churnerReady = new Promise<void>((resolve) =>
    lines(churner.stdout!, (l) => {
      const o = JSON.parse(l) as { ready?: boolean; pid?: number; done?: boolean } & Partial<Life>;
      if (o.ready) {
        churnerPid = o.pid!;
        resolve();
      } else if (!o.done) truth.push(o as Life);
    }),
  );
  const churnerDone = new Promise<void>((r) => churner.once('exit', () => r()));
  await churnerReady;

  // As root, eBPF from the first poll (auto would attach a few seconds in); otherwise what any user gets.
  const brief = process.getuid?.() === 0 ? 'ebpf' : 'auto';
  const watch = spawn(process.execPath, [CLI, 'watch', String(churnerPid), '--json', '--no-tui', '--interval', `${intervalMs}ms`, '--brief', brief], { stdio: ['ignore', 'pipe', 'inherit'] });
  const events: SwEvent[] = [];
  const started = new Promise<void>((resolve) =>
    lines(watch.stdout!, (l) => {
      const e = JSON.parse(l) as SwEvent;
      events.push(e);
      if (e.type === 'start') resolve();
    }),
  );
  const watchDone = new Promise<void>((r) => watch.once('close', () => r()));
  await started;
  churner.stdin!.write('go\n');
  await churnerDone; // the target exits when done: sockwatch sees the exit and ends by itself
  const killer = setTimeout(() => watch.kill('SIGINT'), Math.max(5000, 3 * intervalMs));
  await watchDone;
  clearTimeout(killer);
  sink.close();
  return score(intervalMs, truth, events);
}

function score(intervalMs: number, truth: Life[], events: SwEvent[]): IntervalResult {
  const opens = events.filter((e) => e.type === 'open' && e.connection && !e.connection.preexisting);
  const closes = events.filter((e) => e.type === 'close' && e.connection);
  const used = new Set<SwEvent>();
  const nearest = (pool: SwEvent[], port: number, atMs: number): SwEvent | undefined => {
    let best: SwEvent | undefined;
    for (const e of pool) {
      if (used.has(e) || e.connection!.local.port !== port) continue;
      if (!best || Math.abs(Date.parse(e.time) - atMs) < Math.abs(Date.parse(best.time) - atMs)) best = e;
    }
    return best;
  };
  const openErr: number[] = [];
  const closeErr: number[] = [];
  const lifeErr: number[] = [];
  let missed = 0;
  let brief = 0;
  for (const t of truth) {
    const c = nearest(closes, t.localPort, t.closeMs);
    // a match more than a few intervals off is another connection on a reused port
    const slack = 3 * intervalMs + 200;
    if (c?.brief === true && c.lifetimeMs !== undefined && Math.abs(Date.parse(c.time) - t.closeMs) <= slack) {
      // one close carries both ends: its time and its lifetime
      used.add(c);
      brief++;
      openErr.push(Date.parse(c.time) - c.lifetimeMs - t.openMs);
      closeErr.push(Date.parse(c.time) - t.closeMs);
      lifeErr.push(c.lifetimeMs - t.heldMs);
      continue;
    }
    const o = nearest(opens, t.localPort, t.openMs);
    if (!o || !c || Math.abs(Date.parse(o.time) - t.openMs) > slack || Math.abs(Date.parse(c.time) - t.closeMs) > slack) {
      missed++;
      continue;
    }
    used.add(o).add(c);
    openErr.push(Date.parse(o.time) - t.openMs);
    closeErr.push(Date.parse(c.time) - t.closeMs);
    lifeErr.push((c.lifetimeMs ?? Date.parse(c.time) - Date.parse(o.time)) - t.heldMs);
  }
  const matched = lifeErr.length;
  const share = (limit: number): number => (matched === 0 ? Number.NaN : lifeErr.filter((e) => Math.abs(e) <= limit).length / matched);
  return {
    intervalMs,
    connections: truth.length,
    missed,
    matched,
    brief,
    withinInterval: share(intervalMs),
    within20ms: share(20),
    openErrMs: medP95(openErr),
    closeErrMs: medP95(closeErr),
    lifetimeErrMs: medP95(lifeErr),
  };
}

function table(results: IntervalResult[]): string {
  const pct = (x: number): string => (Number.isNaN(x) ? '-' : `${(100 * x).toFixed(0)} %`);
  const ms = (x: number): string => (Number.isNaN(x) ? '-' : `${x.toFixed(0)}`);
  const head = '| interval | connections | missed | brief | lifetime within ±interval | within ±20 ms | open error median / p95 (ms) | close error median / p95 (ms) | lifetime error median / p95 (ms) |';
  const rows = results.map(
    (r) =>
      `| ${r.intervalMs} ms | ${r.connections} | ${r.missed} | ${r.brief} | ${pct(r.withinInterval)} | ${pct(r.within20ms)} | ${ms(r.openErrMs.median)} / ${ms(r.openErrMs.p95)} | ${ms(r.closeErrMs.median)} / ${ms(r.closeErrMs.p95)} | ${ms(r.lifetimeErrMs.median)} / ${ms(r.lifetimeErrMs.p95)} |`,
  );
  return [head, '| --- | --- | --- | --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}

async function main(): Promise<void> {
  const results: IntervalResult[] = [];
  for (const i of INTERVALS_MS) {
    process.stderr.write(`lifetimes: --interval ${i}ms, ${SECONDS} s, ${CONCURRENCY} connections at a time, held 5–500 ms...\n`);
    results.push(await runOne(i));
  }
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(results)}\n`);
  else process.stdout.write(`${table(results)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:lifetimes: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
