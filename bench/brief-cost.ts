// `node dist/bench/brief-cost.js [rate] [seconds]`: what the brief-connection facilities cost
// under churn. A client child opens and closes `rate` connections per second (default 1000) to a
// server child for `seconds` (default 10) while, in turn, (a) nothing, (b) the destroy listener,
// (c) the in-process eBPF source following the server; reports connections made, events received,
// the eBPF attach time, the CPU sockwatch used (process.cpuUsage: reading and decoding) and the
// programs' own time in the kernel (kernel.bpf_stats_enabled, on for the eBPF phase only).
import { readFileSync, writeFileSync } from 'node:fs';
import { DestroyListener } from '../src/sources/netlink/destroy-listener';
import { EbpfLifecycle } from '../src/sources/ebpf/ebpf-lifecycle';
import { JsonChild, startChurnServer } from '../test/helpers/churn';

const RATE = Number(process.argv[2] ?? 1000);
const SECONDS = Number(process.argv[3] ?? 10);

// A client that opens RATE/100 connections every 10 ms, each: connect, 1 byte, reply, close.
const RATE_CLIENT = String.raw`
const net = require('node:net');
const [host, port, rate, seconds] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4])];
let launched = 0, made = 0, failed = 0;
const t0 = Date.now();
let ms = 0;
const report = () => {
  if (ms > 0 && made + failed === launched) process.stdout.write(JSON.stringify({ made, failed, ms }) + '\n');
};
const timer = setInterval(() => {
  const due = Math.floor(((Date.now() - t0) / 1000) * rate);
  for (; launched < due; launched++) {
    const s = net.connect({ host, port }, () => s.write('x'));
    s.on('data', () => s.end());
    s.on('error', () => {});
    s.on('close', (err) => { if (err) failed++; else made++; report(); });
  }
  if (Date.now() - t0 >= seconds * 1000) {
    clearInterval(timer);
    ms = Date.now() - t0;
    report();
  }
}, 10);
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
`;

async function churn(port: number): Promise<{ made: number; failed: number; ms: number }> {
  const c = JsonChild.spawnNode(['-e', RATE_CLIENT, '127.0.0.1', String(port), String(RATE), String(SECONDS)]);
  await c.next();
  const r = (await c.next(SECONDS * 1000 + 30_000)) as { made: number; failed: number; ms: number };
  await c.kill();
  return r;
}

async function main(): Promise<void> {
  const server = await startChurnServer();
  try {
    const cpu0 = process.cpuUsage();
    const base = await churn(server.port);
    const baseCpu = process.cpuUsage(cpu0);
    console.log(`baseline: ${base.made} connections in ${base.ms} ms (${((base.made * 1000) / base.ms).toFixed(0)}/s); sockwatch-side CPU ${((baseCpu.user + baseCpu.system) / 1000).toFixed(0)} ms`);

    const listener = new DestroyListener();
    const cpu1 = process.cpuUsage();
    const d = await churn(server.port);
    await new Promise((r) => setTimeout(r, 300));
    const dCpu = process.cpuUsage(cpu1);
    const dEvents = listener.drain().length;
    console.log(`destroy listener: ${d.made} connections, ${dEvents} ended events (both ends), status ${JSON.stringify(listener.status)}; sockwatch CPU ${((dCpu.user + dCpu.system) / 1000).toFixed(0)} ms`);
    listener.close();

    // the kernel counts the programs' runs and time only while asked to (restored below)
    const STATS = '/proc/sys/kernel/bpf_stats_enabled';
    const statsWere = readFileSync(STATS, 'utf8').trim();
    writeFileSync(STATS, '1');
    const t0 = performance.now();
    const feed = EbpfLifecycle.start({ pids: [server.child.pid], follow: false, listeners: [{ port: server.port, pid: server.child.pid }] });
    const attachMs = performance.now() - t0;
    console.log(`eBPF attached in ${attachMs.toFixed(1)} ms (${JSON.stringify(feed.timings)})`);
    const cpu2 = process.cpuUsage();
    const e = await churn(server.port);
    await new Promise((r) => setTimeout(r, 300));
    const evs = feed.drain();
    const eCpu = process.cpuUsage(cpu2);
    console.log(
      `eBPF: ${e.made} connections, ${evs.filter((x) => x.kind === 'ended' && x.pid === server.child.pid).length} ended events with the server's PID; sockwatch CPU ${((eCpu.user + eCpu.system) / 1000).toFixed(0)} ms over ${(e.ms / 1000).toFixed(1)} s (${(((eCpu.user + eCpu.system) / 1000 / e.ms) * 100).toFixed(1)} % of a core, ${(((eCpu.user + eCpu.system) / evs.length)).toFixed(1)} µs per event); status ${JSON.stringify(feed.status)}`,
    );
    const k = feed.programStats();
    console.log(`eBPF in the kernel: ${k.runs} program runs (every TCP state change of the host), ${(k.runTimeNs / 1e6).toFixed(1)} ms in all, ${(k.runTimeNs / Math.max(1, k.runs)).toFixed(0)} ns per run`);
    feed.close();
    writeFileSync(STATS, statsWere);
  } finally {
    await server.child.kill();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
