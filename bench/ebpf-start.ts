// `node dist/bench/ebpf-start.js [runs]` (root): what the in-process eBPF source costs to start and
// to keep. (1) Attach time from the source's start, each in a fresh Node process as a watch would
// pay it: EbpfLifecycle.start() wall and CPU, koffi's load included (a watch's netlink source has
// usually loaded it already), with the per-boot cache of
// kernel offsets (kernel-offsets.ts) cold and warm. (2) The CPU of an idle 10 s watch of a sleeping
// process, `--brief ebpf` against `--brief none` (the difference is the eBPF source's own).
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { median, timeCommand } from './measure';

const RUNS = Number(process.argv[2] ?? 10);
const ENTRY = path.resolve(__dirname, '../../bin/sockwatch.js');
const FEED = path.resolve(__dirname, '../src/sources/ebpf/ebpf-lifecycle.js');

// In a fresh process: the source's start as the watch calls it, then the numbers.
// (the module is required first: in the CLI it is part of the bundle already loaded)
const STARTER = String.raw`
const { EbpfLifecycle } = require(process.argv[1]);
const t0 = performance.now();
const c0 = process.cpuUsage();
const feed = EbpfLifecycle.start({ pids: [process.pid], follow: true });
const wall = performance.now() - t0;
const cpu = process.cpuUsage(c0);
process.stdout.write(JSON.stringify({ wall, cpu: (cpu.user + cpu.system) / 1000, timings: feed.timings }) + '\n');
feed.close();
`;

interface Start {
  wall: number;
  cpu: number;
  /** koffi, tracefs, formats, kernel offsets / maps, programs, attach */
  timings: { offsetsMs: number; loadMs: number };
}

function starts(cold: boolean): Start[] {
  const out: Start[] = [];
  for (let i = 0; i < RUNS; i++) {
    if (cold) rmSync('/run/sockwatch/kernel-offsets.json', { force: true });
    const r = spawnSync(process.execPath, ['-e', STARTER, FEED], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`the eBPF source did not start: ${r.stderr}`);
    out.push(JSON.parse(r.stdout) as Start);
  }
  return out;
}

function line(what: string, xs: Start[]): string {
  const w = xs.map((x) => x.wall);
  const c = xs.map((x) => x.cpu);
  const prep = median(xs.map((x) => x.timings.offsetsMs));
  const load = median(xs.map((x) => x.timings.loadMs));
  return `${what}: wall median ${median(w).toFixed(1)} ms (min ${Math.min(...w).toFixed(1)}, max ${Math.max(...w).toFixed(1)}; koffi+tracefs+offsets ${prep.toFixed(1)}, maps+programs+attach ${load.toFixed(1)}), CPU median ${median(c).toFixed(1)} ms`;
}

function main(): void {
  if (process.getuid?.() !== 0) throw new Error('run as root');
  console.log(`load average ${spawnSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).stdout.trim()}`);
  console.log(line(`attach, kernel offsets read from BTF (cold), ${RUNS} runs`, starts(true)));
  console.log(line(`attach, kernel offsets cached for this boot (warm), ${RUNS} runs`, starts(false)));

  const target = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    for (const brief of ['ebpf', 'none']) {
      const r = timeCommand(process.execPath, [ENTRY, 'watch', String(target.pid), '--no-tui', '--duration', '10s', '--brief', brief], 60_000);
      console.log(`idle 10 s watch, --brief ${brief}: CPU ${r.cpuMs.toFixed(0)} ms (${((r.cpuMs / r.wallMs) * 100).toFixed(2)} % of a core over ${(r.wallMs / 1000).toFixed(1)} s), peak RSS ${((r.rssKiB ?? 0) / 1024).toFixed(0)} MiB, status ${r.status}`);
    }
  } finally {
    target.kill();
  }
}

main();
