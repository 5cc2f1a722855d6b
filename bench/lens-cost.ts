// Does tracking every state cost the steady poll anything? The watch now always asks its source
// for 'all' (--state is a lens of the output); this polls one target both ways, alternating, on
// a host with background sockets. `node dist/bench/lens-cost.js [hostSockets] [target]`.
import type { StateFilter } from '../src/model';
import { createNetlinkSource } from '../src/sources/netlink/netlink-source';
import { createProcfsSource } from '../src/sources/procfs/procfs-source';
import type { Source } from '../src/sources/source';
import { stopAll } from './children-registry';
import { summarize, timeInProcess, type Sample } from './measure';
import { buildBackground, buildTarget, countHostTcpSockets } from './scene';

const ESTABLISHED: StateFilter = new Set(['ESTABLISHED']);
const POLLS = 40;

async function steady(make: () => Promise<Source>, states: StateFilter): Promise<{ cpuMs: number; wallMs: number; meanCpuMs: number }> {
  const source = await make();
  await source.snapshot(states);
  const samples: Sample[] = [];
  for (let i = 0; i < POLLS; i++) samples.push(await timeInProcess(() => source.snapshot(states)));
  source.close();
  const s = summarize(samples);
  return { cpuMs: s.cpuMs, wallMs: s.wallMs, meanCpuMs: s.meanCpuMs };
}

async function main(): Promise<void> {
  const host = Number(process.argv[2] ?? 22_000);
  const wanted = Number(process.argv[3] ?? 1_000);
  await buildBackground(Math.max(0, Math.round((host - 2 * wanted) / 2)));
  const target = await buildTarget(wanted, 100);
  process.stdout.write(`host TCP sockets ${countHostTcpSockets()}, target ${target.connections}\n`);
  for (const [name, make] of [
    ['procfs', () => { let now = 0; return createProcfsSource(target.pid, { nowMs: () => (now += 1000) }); }],
    ['netlink', () => { let now = 0; return createNetlinkSource(target.pid, { nowMs: () => (now += 1000) }); }],
  ] as const) {
    for (let round = 0; round < 2; round++) {
      for (const [label, states] of [['established', ESTABLISHED], ['all', 'all']] as const) {
        const r = await steady(make, states);
        process.stdout.write(`${name} ${label.padEnd(11)} median wall ${r.wallMs.toFixed(2)} ms, cpu ${r.cpuMs.toFixed(2)} ms, mean cpu ${r.meanCpuMs.toFixed(2)} ms\n`);
      }
    }
  }
}

main()
  .catch((e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(stopAll);
