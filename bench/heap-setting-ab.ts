// What the long-running commands' heap settings (src/util/long-run-heap.ts) cost a steady netlink
// poll: the same poll loop as bench/poll-bench.ts, in fresh processes with and without them
// (`tuned`: as `watch` sets them; `small`: the young generation kept small whatever the target's
// size), alternated, on a target that is already up (e.g. `node dist/bench/hold-scene.js`).
//
//   node dist/bench/heap-setting-ab.js PID [runs=3]
import { spawnSync } from 'node:child_process';
import { tuneHeapForLongRun, tuneYoungGenerationFor } from '../src/util/long-run-heap';
import { createNetlinkSource } from '../src/sources/netlink/netlink-source';
import { median } from './measure';

const WARM_UP = 21;
const POLLS = 60;

/** One process's measurement: steady poll CPU ms, median and mean. */
async function child(pid: number, how: string): Promise<void> {
  if (how !== 'default') tuneHeapForLongRun();
  let now = 0;
  const source = await createNetlinkSource(pid, { nowMs: () => (now += 1000) });
  try {
    const first = await source.snapshot('all');
    if (how === 'tuned') tuneYoungGenerationFor(first.connections.length);
    for (let i = 1; i < WARM_UP; i++) await source.snapshot('all');
    const ms: number[] = [];
    for (let i = 0; i < POLLS; i++) {
      const c0 = process.cpuUsage();
      await source.snapshot('all');
      const c = process.cpuUsage(c0);
      ms.push((c.user + c.system) / 1000);
    }
    process.stdout.write(JSON.stringify({ median: median(ms), mean: ms.reduce((a, b) => a + b, 0) / ms.length }));
  } finally {
    source.close();
  }
}

function main(): void {
  const [pidText, runsText] = process.argv.slice(2);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) {
    process.stderr.write('usage: node dist/bench/heap-setting-ab.js PID [runs=3]\n');
    process.exit(2);
  }
  if (process.env.HEAP_AB_CHILD !== undefined) {
    void child(pid, process.env.HEAP_AB_CHILD);
    return;
  }
  const runs = Number(runsText ?? 3);
  for (let r = 0; r < runs; r++) {
    for (const how of ['default', 'tuned', 'small']) {
      const out = spawnSync(process.execPath, [__filename, String(pid), '1'], { env: { ...process.env, HEAP_AB_CHILD: how }, encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`child failed: ${out.stderr}`);
      const m = JSON.parse(out.stdout) as { median: number; mean: number };
      process.stdout.write(`${how.padEnd(8)} steady poll CPU median ${m.median.toFixed(2)} ms, mean ${m.mean.toFixed(2)} ms\n`);
    }
  }
}

main();
