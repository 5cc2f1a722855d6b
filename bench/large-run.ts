// `npm run bench -- --large` (run.ts hands over here): the large scene of issue 23. A host of
// ~100,000 TCP sockets (large-scene.ts), then targets of 10, 1,000 and 18,000 connections added
// one at a time on top of it; for each, side by side in one run: `sockwatch snapshot` against
// lsof (and `ss` once, on the smallest target: it takes seconds), a steady netlink poll against
// the kernel floor, and a 5 s `watch`'s peak RSS; `node -e 0` alongside. Writes the "Large scene"
// section of bench/RESULTS.md (the rest of the file, from the usual run, is kept).
import { readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stopAll, stopLater } from './children-registry';
import { kernelFloor, type Floor } from './kernel-floor';
import { buildLargeBackground } from './large-scene';
import { hasCommand, repeatCommand, timeCommand, type Summary } from './measure';
import { benchNetlink } from './poll-bench';
import { buildTarget, countHostTcpSockets } from './scene';

const TARGETS = [10, 1_000, 18_000];
const RUNS = 5;
const ROOT = path.resolve(__dirname, '..', '..');
const ENTRY = path.join(ROOT, 'bin', 'sockwatch.js');
const log = (s: string): void => void process.stderr.write(`${s}\n`);

interface Point {
  connections: number;
  host: number;
  snapshot: Summary;
  netlinkSnapshot: Summary;
  lsof: Summary | undefined;
  ss: Summary | undefined;
  nodeE0: Summary;
  poll: Summary;
  floor: Floor | string;
  watchRssKiB: number | undefined;
  watchCpuMs: number;
  load: string;
}

const loadAvg = (): string => os.loadavg().map((x) => x.toFixed(1)).join(' / ');

async function measure(connections: number): Promise<Point> {
  const stop = stopLater();
  const t = await buildTarget(connections, 160);
  const host = countHostTcpSockets();
  const pid = String(t.pid);
  log(`  target of ${t.connections} (PID ${pid}), host ${host} TCP sockets; load ${loadAvg()}`);
  const lsofRuns = t.connections > 5_000 ? 3 : RUNS;
  // interleaved by command, each a median of its runs
  const nodeE0 = repeatCommand(process.execPath, ['-e', '0'], RUNS).summary;
  const snapshot = repeatCommand(ENTRY, ['snapshot', pid], RUNS).summary;
  // the path without root (or where the iterator cannot load): netlink's dump of the host
  const netlinkSnapshot = repeatCommand(ENTRY, ['snapshot', pid, '--source', 'netlink'], RUNS).summary;
  const lsof = hasCommand('lsof') ? repeatCommand('lsof', ['-nP', '-p', pid, '-a', '-iTCP', '-sTCP:ESTABLISHED'], lsofRuns).summary : undefined;
  // ss lists the whole host with its processes (seconds here): once, on the smallest target
  const ss = connections === TARGETS[0] && hasCommand('ss') ? repeatCommand('ss', ['-tnpH', 'state', 'established'], 1).summary : undefined;
  const poll = (await benchNetlink(t.pid, 10, { warmupPolls: 5 })).steady;
  const floor = kernelFloor(t.pid, 7);
  const w = timeCommand(ENTRY, ['watch', pid, '--no-tui', '--duration', '5s', '--interval', '1s', '--brief', 'none'], 180_000);
  const load = loadAvg();
  stop();
  return { connections: t.connections, host, snapshot, netlinkSnapshot, lsof, ss, nodeE0, poll, floor, watchRssKiB: w.rssKiB, watchCpuMs: w.cpuMs, load };
}

const f = (x: number | undefined, d = 0): string => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(d));
const r = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || !(b > 0) ? '–' : `${(a / b).toFixed(2)}×`);

function section(points: readonly Point[], bgMs: number, totalS: number): string {
  const rows = points.map((p) => {
    const fl = typeof p.floor === 'string' ? undefined : p.floor;
    const floorText = fl ? `${f(fl.cpuMs, 1)} (${fl.dumpCpuMs < 0 || fl.lookupsCpuMs <= fl.dumpCpuMs ? 'lookups' : 'filtered dump'})` : String(p.floor);
    return `| ${p.connections} | ${p.host} | ${f(p.snapshot.wallMs)} / ${f(p.snapshot.meanCpuMs)} | ${f(p.snapshot.wallMs - p.nodeE0.wallMs)} | ${f(p.netlinkSnapshot.wallMs)} | ${f(p.lsof?.wallMs)} / ${f(p.lsof?.meanCpuMs)} | ${r(p.snapshot.wallMs, p.lsof?.wallMs)} | ${r(p.netlinkSnapshot.wallMs, p.lsof?.wallMs)} | ${p.ss ? `${f(p.ss.wallMs)} / ${f(p.ss.meanCpuMs)}` : '–'} | ${f(p.nodeE0.wallMs)} | ${f(p.poll.cpuMs, 1)} | ${floorText} | ${fl ? r(p.poll.cpuMs, fl.cpuMs) : '–'} | ${f(p.watchRssKiB === undefined ? undefined : p.watchRssKiB / 1024)} | ${p.load} |`;
  });
  const floors = points.map((p) => (typeof p.floor === 'string' ? '' : `${p.connections}: readdir ${p.floor.readdirCpuMs.toFixed(1)} + lookups ${p.floor.lookupsCpuMs.toFixed(1)} / filtered dump ${p.floor.dumpCpuMs >= 0 ? p.floor.dumpCpuMs.toFixed(1) : '–'} ms`)).filter(Boolean);
  return `## Large scene (\`npm run bench -- --large\`)

Generated ${new Date().toISOString()}; background of ${LARGE_LABEL} built in ${(bgMs / 1000).toFixed(0)} s; whole step ${totalS.toFixed(0)} s.
Each target is added to the same background and removed after. Wall / CPU in ms (medians of ${RUNS}
runs; lsof 3 runs at 18,000); "snapshot ÷ lsof" is sockwatch's wall over lsof's (lower is better).
\`snapshot\` runs as root, so it reads the target's descriptor table in the kernel (the fd-socket
iterator); \`--source netlink\` is the path without root: one dump of the host's sockets.
poll is a steady netlink poll's CPU (median of 10, in process); floor is bench/kernel-floor.c:
readdir + the cheaper of exact lookups and a port-filtered dump, with tcp_info; watch RSS is
\`watch --duration 5s --brief none\`'s peak. Load average (1 / 5 / 15 min) when the target's
measurements ended: the machine is shared, so compare within a row.

| target connections | host TCP sockets | sockwatch snapshot wall / CPU | snapshot − node -e 0 | snapshot --source netlink wall | lsof wall / CPU | snapshot ÷ lsof (wall) | netlink ÷ lsof | ss -tnpH state established wall / CPU | node -e 0 wall | steady poll CPU | kernel floor CPU | poll ÷ floor | watch RSS MiB | load |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${rows.join('\n')}

Kernel floors, per poll (CPU ms): ${floors.join('; ')}.
`;
}

const LARGE_LABEL = '~100,000 sockets (large-scene.ts)';

export async function runLarge(): Promise<void> {
  const started = Date.now();
  log('bench --large: building the large background…');
  const bgMs = await buildLargeBackground();
  log(`  built in ${bgMs} ms; host TCP sockets ${countHostTcpSockets()}`);
  const points: Point[] = [];
  for (const n of TARGETS) points.push(await measure(n));
  stopAll();
  const md = section(points, bgMs, (Date.now() - started) / 1000);
  process.stdout.write(md);
  const file = path.join(ROOT, 'bench', 'RESULTS.md');
  let old = '';
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    // first run
  }
  const cut = old.indexOf('\n## Large scene');
  writeFileSync(file, `${(cut >= 0 ? old.slice(0, cut) : old).trimEnd()}\n\n${md}`);
}
