// `npm run bench`: builds a loopback scene (a host with ~22,000 TCP sockets, a target holding
// 1,000), measures sockwatch's steady-state polls next to lsof, ss and systeminformation, then a
// target holding 100,000 connections, and whether watching slows a busy target down; prints a
// table and writes bench/RESULTS.md.
// `--quick`: 2,000 host sockets, 200 in the target, 5,000 for the big case; a sanity run.
// `--large`: only the large scene (~100,000 host sockets, targets of 10 / 1,000 / 18,000;
// large-run.ts), a separate step of about 5 minutes that writes its own section of RESULTS.md.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { maxFdsPerChild, stopAll, stopLater } from './children-registry';
import { hasCommand, median, repeatCommand, timeCommand, timeToFirstLine, type Summary } from './measure';
import { kernelFloor, type Floor } from './kernel-floor';
import { benchNetlink, benchProcfs, type PollResult } from './poll-bench';
import { buildBackground, buildTarget, countHostTcpSockets } from './scene';
import { benchTargetImpact, type ImpactRow } from './target-impact';
import { benchMetricsImpact, metricsImpactTable, scrapeCostInProcess } from './metrics-impact';
import { tuneHeapForLongRun } from '../src/util/long-run-heap';

const quick = process.argv.includes('--quick');
const HOST_SOCKETS = quick ? 2_000 : 22_000;
const TARGET = quick ? 200 : 1_000;
const BIG_TARGET = quick ? 5_000 : 100_000;
/** Targets measured between the main one and the big one, for the scaling curve. */
const CURVE_TARGETS = quick ? [500, 1_000] : [5_000, 10_000];
/** Steady polls counted: two full-refresh cycles (every 30 s at 1 s) after the warm-up. */
const POLLS = quick ? 15 : 60;
const RUNS = quick ? 3 : 7;
const ROOT = path.resolve(__dirname, '..', '..');
/** What a user runs: the installed entry point. */
const ENTRY = path.join(ROOT, 'bin', 'sockwatch.js');
/**
 * Node reads the certificate file this names at every start-up; a machine-wide setting, not
 * sockwatch's cost. Every command here runs with it unset (the README says so), and one row shows
 * the snapshot with it set.
 */
const EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
delete process.env.NODE_EXTRA_CA_CERTS;

interface Row {
  tool: string;
  wallMs: number;
  cpuMs: number;
  meanCpuMs?: number;
  rssKiB?: number;
  note?: string;
}

const rows: Row[] = [];
const bigRows: Row[] = [];
const log = (s: string): void => void process.stderr.write(`${s}\n`);

/** One point of the scaling curve: a target's steady netlink poll next to the kernel's floor. */
interface CurvePoint {
  connections: number;
  hostSockets: number;
  steady: Summary;
  floor: Floor | string;
}

function floorRow(into: Row[], floor: Floor | string, steady: Summary): void {
  if (typeof floor === 'string') {
    into.push({ tool: 'kernel floor (bench/kernel-floor.c)', wallMs: Number.NaN, cpuMs: Number.NaN, note: floor });
    return;
  }
  into.push({
    tool: 'kernel floor (bench/kernel-floor.c, C: readdir + exact lookups with tcp_info)',
    wallMs: floor.wallMs,
    cpuMs: floor.cpuMs,
    note: `${floor.sockets} lookups ${floor.lookupsCpuMs.toFixed(2)} ms + readdir ${floor.readdirCpuMs.toFixed(2)} ms; netlink steady poll = ${(steady.cpuMs / floor.cpuMs).toFixed(1)}× this (median), ${(steady.meanCpuMs / floor.cpuMs).toFixed(1)}× (amortized)`,
  });
}

function pollRows(into: Row[], name: string, r: PollResult, firstPoll = true): void {
  if (firstPoll) into.push({ tool: `${name} first poll (in-process)`, wallMs: r.first.wallMs, cpuMs: r.first.cpuMs, note: `${r.connections} connections` });
  if (r.warmup) {
    into.push({ tool: `${name} warm-up polls (in-process)`, wallMs: r.warmup.wallMs, cpuMs: r.warmup.cpuMs, meanCpuMs: r.warmup.meanCpuMs, note: `the ${r.warmup.runs} polls after the first, while V8 compiles (once per process); not in the steady rows` });
  }
  into.push({
    tool: `${name} steady poll (in-process)`,
    wallMs: r.steady.wallMs,
    cpuMs: r.steady.cpuMs,
    meanCpuMs: r.steady.meanCpuMs,
    note: `${r.steady.runs} polls at 1 s; ${r.note}`,
  });
}

/**
 * A 5 s watch, as run by default and with --brief none. /usr/bin/time's max RSS is that of the
 * largest process in the run (sockwatch's own: eBPF is loaded in process, as root).
 */
function watchRows(into: Row[], pid: string, timeoutMs: number): void {
  for (const brief of [[], ['--brief', 'none']]) {
    const r = timeCommand(ENTRY, ['watch', pid, '--no-tui', '--duration', '5s', '--interval', '1s', ...brief], timeoutMs);
    into.push({ tool: `sockwatch watch PID --no-tui --duration 5s${brief.length ? ' --brief none' : ''}`, wallMs: r.wallMs, cpuMs: r.cpuMs, ...(r.rssKiB ? { rssKiB: r.rssKiB } : {}), note: brief.length ? "whole run incl. start-up; sockwatch's own RSS" : 'whole run incl. start-up (eBPF in process as root)' });
  }
}

function commandRow(into: Row[], tool: string, cmd: string, args: string[], runs: number): Summary | undefined {
  if (!hasCommand(cmd) && !cmd.includes('/')) {
    into.push({ tool, wallMs: Number.NaN, cpuMs: Number.NaN, note: `${cmd} not installed` });
    return undefined;
  }
  const { summary, last } = repeatCommand(cmd, args, runs);
  const row: Row = { tool, wallMs: summary.wallMs, cpuMs: summary.meanCpuMs, note: `${runs} runs; exit ${last.status}; ${last.stdoutBytes} B out` };
  if (summary.maxRssKiB !== undefined) row.rssKiB = summary.maxRssKiB;
  into.push(row);
  return summary;
}

function sysinfoScript(): string {
  return [
    "const si=require('systeminformation');",
    'const t0=process.hrtime.bigint();',
    'si.networkConnections().then((c)=>{',
    "process.stdout.write(JSON.stringify({n:c.length,ms:Number(process.hrtime.bigint()-t0)/1e6}));});",
  ].join('');
}

async function main(): Promise<void> {
  // the in-process polls below run under the heap settings of `watch`, whose polls they stand for
  tuneHeapForLongRun();
  const started = Date.now();
  log(`bench${quick ? ' --quick' : ''}: building ~${HOST_SOCKETS} host sockets, target ${TARGET}…`);
  const bgConnections = Math.max(0, Math.round((HOST_SOCKETS - 2 * TARGET) / 2));
  const bgMs = await buildBackground(bgConnections);
  const target = await buildTarget(TARGET, 100);
  const hostSockets = countHostTcpSockets();
  log(`  built in ${bgMs} ms + target; host TCP sockets ${hostSockets}, target PID ${target.pid} holds ${target.connections}`);
  const pid = String(target.pid);

  // lsof first: it is the yardstick every ratio divides by.
  const lsofArgs = ['-nP', '-p', pid, '-a', '-iTCP', '-sTCP:ESTABLISHED'];
  const lsof = commandRow(rows, `lsof ${lsofArgs.join(' ')}`, 'lsof', lsofArgs, RUNS);
  log('  polls…');
  const curve: CurvePoint[] = [];
  const mainPoll = await benchNetlink(target.pid, POLLS);
  pollRows(rows, 'sockwatch netlink', mainPoll);
  const mainFloor = kernelFloor(target.pid, POLLS);
  floorRow(rows, mainFloor, mainPoll.steady);
  curve.push({ connections: target.connections, hostSockets, steady: mainPoll.steady, floor: mainFloor });
  pollRows(rows, 'sockwatch procfs', await benchProcfs(target.pid, POLLS));
  log('  one-shot commands…');
  commandRow(rows, 'sockwatch snapshot PID (as root: the fd-socket iterator)', ENTRY, ['snapshot', pid], RUNS);
  commandRow(rows, 'sockwatch snapshot PID --source netlink (the path without root)', ENTRY, ['snapshot', pid, '--source', 'netlink'], RUNS);
  commandRow(rows, 'sockwatch snapshot PID --source procfs', ENTRY, ['snapshot', pid, '--source', 'procfs'], RUNS);
  if (EXTRA_CA_CERTS) {
    commandRow(rows, 'sockwatch snapshot PID with NODE_EXTRA_CA_CERTS set', '/usr/bin/env', [`NODE_EXTRA_CA_CERTS=${EXTRA_CA_CERTS}`, ENTRY, 'snapshot', pid], RUNS);
  }
  commandRow(rows, 'node -e 0 (Node start-up alone)', process.execPath, ['-e', '0'], RUNS);
  commandRow(rows, 'ss -tnp', 'ss', ['-tnp'], RUNS);
  commandRow(rows, 'ss -tnp state established', 'ss', ['-tnp', 'state', 'established'], RUNS);
  const si = timeCommand(process.execPath, ['-e', sysinfoScript()], 120_000);
  rows.push({ tool: 'systeminformation networkConnections() (node + call)', wallMs: si.wallMs, cpuMs: si.cpuMs, note: '1 run; whole host, no PID filter' });
  watchRows(rows, pid, 60_000);
  const startups: number[] = [];
  for (let i = 0; i < 3; i++) startups.push(await timeToFirstLine(ENTRY, ['watch', pid, '--json']));
  rows.push({ tool: 'sockwatch watch PID --json: start-up to the first line', wallMs: median(startups), cpuMs: Number.NaN, note: `3 runs: ${startups.map((x) => x.toFixed(0)).join(', ')} ms (the start event follows the first poll)` });

  log('  target impact (ping-pong alone, under sockwatch, under lsof)…');
  const impact = await benchTargetImpact({ idle: TARGET, runMs: 500, repeats: quick ? 3 : 12, entry: ENTRY, withLsof: hasCommand('lsof') });

  log('  metrics endpoint: watch with and without --metrics, scraped every 100 ms…');
  const scrapeCost = await scrapeCostInProcess(target.connections);
  const metricsImpact =
    metricsImpactTable(await benchMetricsImpact(target.pid, quick ? 2 : 5), target.connections) +
    `\n\nOne scrape in-process (no HTTP), ${target.connections} live connections, --metrics-peers 10: ${scrapeCost.cpuMs.toFixed(2)} CPU ms (${scrapeCost.bytes} bytes of text).`;

  for (const size of CURVE_TARGETS) {
    log(`  scaling curve: ${size} connections…`);
    const stop = stopLater();
    const t = await buildTarget(size, 200);
    const host = countHostTcpSockets();
    const r = await benchNetlink(t.pid, quick ? 6 : 10, { warmupPolls: 5 });
    curve.push({ connections: t.connections, hostSockets: host, steady: r.steady, floor: kernelFloor(t.pid, 10) });
    stop();
  }

  log(`  big target: ${BIG_TARGET} connections…`);
  const big = await buildTarget(BIG_TARGET, 150);
  const bigHost = countHostTcpSockets();
  log(`  target PID ${big.pid} holds ${big.connections}; host TCP sockets ${bigHost}`);
  if (big.connections < BIG_TARGET) log(`  (capped: one process may hold only ${maxFdsPerChild()} fds here and prlimit cannot raise it)`);
  const bigPolls = quick ? 5 : 6;
  const bigPoll = await benchNetlink(big.pid, bigPolls, { warmupPolls: 3 });
  pollRows(bigRows, 'sockwatch netlink', bigPoll);
  const bigFloor = kernelFloor(big.pid, 9);
  floorRow(bigRows, bigFloor, bigPoll.steady);
  curve.push({ connections: big.connections, hostSockets: bigHost, steady: bigPoll.steady, floor: bigFloor });
  pollRows(bigRows, 'sockwatch procfs', await benchProcfs(big.pid, bigPolls, 3));
  const bigLsofArgs = ['-nP', '-p', String(big.pid), '-a', '-iTCP', '-sTCP:ESTABLISHED'];
  const bigLsof = commandRow(bigRows, `lsof ${bigLsofArgs.join(' ')}`, 'lsof', bigLsofArgs, 1);
  watchRows(bigRows, String(big.pid), 120_000);
  stopAll();

  const totalS = (Date.now() - started) / 1000;
  const md = report({ hostSockets, target: target.connections, lsof, bigHost, bigTarget: big.connections, bigLsof, totalS, impact: impact.rows, metricsImpact, curve });
  process.stdout.write(md);
  if (!quick) {
    // the large scene's section (`--large`, a separate step) is kept
    const file = path.join(ROOT, 'bench', 'RESULTS.md');
    let large = '';
    try {
      const old = readFileSync(file, 'utf8');
      const at = old.indexOf('\n## Large scene');
      if (at >= 0) large = `\n${old.slice(at)}`;
    } catch {
      // first run
    }
    writeFileSync(file, md + large);
  }

}

const fmt = (x: number | undefined, digits = 1): string => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));
const ratio = (base: number | undefined, x: number | undefined): string =>
  base === undefined || x === undefined || !(x > 0) || Number.isNaN(base) ? '–' : `${(base / x).toFixed(1)}×`;

function table(list: readonly Row[], lsof: Summary | undefined): string {
  const lines = [
    '| tool | wall ms (median) | CPU ms | CPU ms mean (amortized) | wall vs lsof | CPU vs lsof | max RSS MiB | notes |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of list) {
    const rss = r.rssKiB === undefined ? '–' : (r.rssKiB / 1024).toFixed(0);
    lines.push(
      `| ${r.tool} | ${fmt(r.wallMs)} | ${fmt(r.cpuMs)} | ${fmt(r.meanCpuMs)} | ${ratio(lsof?.wallMs, r.wallMs)} | ${ratio(lsof?.meanCpuMs, r.meanCpuMs ?? r.cpuMs)} | ${rss} | ${r.note ?? ''} |`,
    );
  }
  return lines.join('\n');
}

function curveTable(points: readonly CurvePoint[]): string {
  const lines = [
    '| connections | host TCP sockets | steady poll CPU ms (median) | amortized ms | kernel floor ms | median ÷ floor | µs per connection (median) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const sorted = [...points].sort((a, b) => a.connections - b.connections);
  for (const p of sorted) {
    const f = typeof p.floor === 'string' ? undefined : p.floor.cpuMs;
    lines.push(`| ${p.connections} | ${p.hostSockets} | ${fmt(p.steady.cpuMs)} | ${fmt(p.steady.meanCpuMs)} | ${fmt(f, 2)} | ${f ? `${(p.steady.cpuMs / f).toFixed(1)}×` : '–'} | ${fmt((p.steady.cpuMs * 1000) / p.connections)} |`);
  }
  // 100k: the slope between the two largest targets, carried on (the host grows with the target)
  const [a, b] = sorted.slice(-2);
  let extrapolation = '';
  if (a && b && b.connections > a.connections) {
    const slope = (b.steady.cpuMs - a.steady.cpuMs) / (b.connections - a.connections);
    const at100k = b.steady.cpuMs + slope * (100_000 - b.connections);
    extrapolation = `\n\n100,000 connections, extrapolated from the two largest targets (${(slope * 1000).toFixed(1)} µs per added connection): about ${at100k.toFixed(0)} ms CPU per poll.`;
  }
  return lines.join('\n') + extrapolation;
}

function impactTable(list: readonly ImpactRow[]): string {
  const alone = list.find((r) => r.mode === 'alone')?.roundTripsPerS;
  const lines = ['| target | round trips/s (median) | vs alone | runs p25–p75 |', '| --- | ---: | ---: | ---: |'];
  for (const r of list) {
    const pct = alone === undefined ? 0 : ((r.roundTripsPerS - alone) / alone) * 100;
    const vs = alone === undefined || r.mode === 'alone' ? '–' : `${pct >= 0 ? '+' : ''}${pct.toFixed(1)} %`;
    lines.push(`| ${r.mode} | ${r.roundTripsPerS.toFixed(0)} | ${vs} | ${r.p25.toFixed(0)}–${r.p75.toFixed(0)} |`);
  }
  return `${lines.join('\n')}\n\nA difference smaller than the runs' p25–p75 spread is noise.`;
}

function machine(): string {
  let kernel = os.release();
  try {
    kernel = execFileSync('uname', ['-r']).toString().trim();
  } catch {
    // os.release() is the same thing
  }
  return `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Linux ${kernel}, Node ${process.version}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM`;
}

function report(o: {
  hostSockets: number;
  target: number;
  lsof: Summary | undefined;
  bigHost: number;
  bigTarget: number;
  bigLsof: Summary | undefined;
  totalS: number;
  impact: readonly ImpactRow[];
  metricsImpact: string;
  curve: readonly CurvePoint[];
}): string {
  return `# sockwatch bench results${quick ? ' (--quick)' : ''}

Command: \`npm run bench${quick ? ' -- --quick' : ''}\` (bench/run.ts). Machine: ${machine()}.
Generated ${new Date().toISOString()}; whole run ${o.totalS.toFixed(0)} s.

"CPU ms" for commands is the mean over the runs of user+system time from \`/usr/bin/time\` (child
processes included; 10 ms resolution per run); for in-process polls it is \`process.cpuUsage()\`
per poll (median), and "mean (amortized)" averages every poll after the first, periodic rescans
included, with the sources' clocks advancing 1 s per poll as under \`watch --interval 1s\`.
Ratios are lsof ÷ tool (higher is better for sockwatch); the CPU ratio uses the amortized mean
where there is one.

## Host with ${o.hostSockets} TCP sockets, target holding ${o.target} connections

${table(rows, o.lsof)}

## Does watching slow the target down?

A target holding ${o.target} idle connections plays ping-pong over one more with an echo server
(64 bytes each way, back to back) for 0.5 s at a time, alone and while watched, ${o.impact[0]?.rates.length ?? 0} runs
each, interleaved, on the same host (a watcher starts 1.2 s before its run). Both processes of
the ping-pong keep this machine's 2 cores busy, so whatever CPU a watcher uses is taken from them. sockwatch neither stops nor traces the
target: it reads /proc and asks the kernel (sock_diag), which holds each socket's lock only while
copying its tcp_info.

${impactTable(o.impact)}

## Does serving metrics slow the watch?

The CLI watches the same target at \`--interval 100ms\`: without \`--metrics\`, with it but never
scraped, and scraped every 100 ms (150 times Prometheus's default 15 s), interleaved. CPU is
sockwatch's own (user+system from /proc/PID/stat, after start-up) per second of watching; the
mean poll comes from its sockwatch_poll_duration_seconds.

${o.metricsImpact}

## Target holding ${o.bigTarget} connections (host: ${o.bigHost} TCP sockets)
${o.bigTarget < BIG_TARGET ? `\nAsked for ${BIG_TARGET}; one process may hold only ${maxFdsPerChild()} fds on this machine (hard RLIMIT_NOFILE, and prlimit may not raise it), so this is the largest single target the bench could build.\n` : ''}
${table(bigRows, o.bigLsof)}

## Scaling: steady netlink poll by target size

Each target on top of the same background (its loopback peers add to the host's sockets); the
poll asks for every state, as \`watch\` does; the floor is bench/kernel-floor.c on the same target.

${curveTable(o.curve)}
`;
}

(process.argv.includes('--large') ? (require('./large-run') as typeof import('./large-run')).runLarge() : main())
  .catch((e: unknown) => {
    stopAll();
    log(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 1;
  })
  .finally(() => {
    stopAll();
    // children are killed; sockets of this process (netlink) must not keep it alive
    setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
  });
