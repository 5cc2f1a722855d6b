// Connections shorter than one poll (issue 9 part 3), against real loopback children: a client
// that makes 20 sub-millisecond connections between two polls and reports each one's local port
// and times from its own clock. Runs as root (CI does): eBPF needs it; the unprivileged path is
// run as uid 65534 in a child. The eBPF source is sockwatch's own (no bpftrace): ebpf-source.test.ts
// checks it is used with no bpftrace on the PATH.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';

import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import * as path from 'node:path';
import type { SocketEnded, SocketStarted } from '../../src/core/lifecycle-types';
import { openSource } from '../../src/sources/open-source';
import type { Source } from '../../src/sources/source';
import { drainUntil, within } from '../helpers/lifecycle-evidence';
import { JsonChild, startChurnClient, startChurnServer, type ChurnConnection } from '../helpers/churn';

const COUNT = 20;
/** Our clock against the kernel's, measured once, and Date.now()'s millisecond steps. */
const SLACK_MS = 3;
/** Destroy notifications are sent from a kernel work queue after the socket is freed. */
const DESTROY_DELAY_MS = 100;

const children: JsonChild[] = [];
const sources: Source[] = [];
after(async () => {
  for (const s of sources) s.close();
  for (const c of children) await c.kill();
});


async function setup(): Promise<{ serverPid: number; port: number; clientPid: number; churn(): Promise<ChurnConnection[]> }> {
  const server = await startChurnServer();
  const client = await startChurnClient();
  children.push(server.child, client.child);
  return { serverPid: server.child.pid, port: server.port, clientPid: client.child.pid, churn: () => client.churn('127.0.0.1', server.port, COUNT) };
}


test('eBPF, client target: 20 sub-ms connections between two polls come out as 20 started + 20 ended with its PID and its times', async () => {
  const w = await setup();
  const source = await openSource(w.clientPid, 'netlink', 'ebpf');
  sources.push(source);
  assert.deepEqual(source.lifecycleStatus, { facility: 'ebpf' });
  await source.snapshot('all');
  const conns = await w.churn();
  const second = await source.snapshot('all');
  const ports = new Set(conns.map((c) => c.localPort));
  assert.equal(ports.size, COUNT);
  assert.equal(second.connections.filter((c) => ports.has(c.local.port)).length, 0, 'the polls saw none of them');
  const lifetimes = conns.map((c) => c.closed - c.begin).sort((a, b) => a - b);
  console.log(`client-side lifetimes, ms: median ${lifetimes[COUNT / 2]!.toFixed(3)}, max ${lifetimes[COUNT - 1]!.toFixed(3)}`);

  const evs = await drainUntil(source, (e) => e.filter((x) => x.kind === 'ended' && ports.has(x.local.port)).length >= COUNT);
  const mine = evs.filter((e) => ports.has(e.local.port));
  const started = mine.filter((e): e is SocketStarted => e.kind === 'started');
  const ended = mine.filter((e): e is SocketEnded => e.kind === 'ended');
  assert.equal(started.length, COUNT);
  assert.equal(ended.length, COUNT);
  for (const c of conns) {
    const s = started.find((e) => e.local.port === c.localPort)!;
    const e = ended.find((x) => x.local.port === c.localPort)!;
    assert.equal(s.pid, w.clientPid);
    assert.equal(e.pid, w.clientPid);
    assert.deepEqual(e.remote, { address: '127.0.0.1', port: w.port });
    // started: the handshake completed between connect() and the 'connect' callback
    within(s.atMs, c.begin - SLACK_MS, c.connected + SLACK_MS, `start of ${c.localPort}`);
    // ended: the move to CLOSE (TIME_WAIT) happened between end() and the 'close' callback
    within(e.atMs, c.closing - SLACK_MS, c.closed + SLACK_MS, `end of ${c.localPort}`);
    assert.equal(e.startedAtMs, s.atMs);
    assert.equal(e.totals?.bytesSent, 1);
    assert.ok(e.totals?.bytesReceived === 1 || e.totals?.bytesReceived === 2, 'one byte, plus the FIN when the server closed first');
  }
  for (let i = 1; i < evs.length; i++) assert.ok(evs[i]!.atMs >= evs[i - 1]!.atMs, 'oldest first');

  assert.ok(bpfProgramFds().length >= 1, 'the programs are loaded in this process, no helper process');
  source.close();
  assert.deepEqual(bpfProgramFds(), [], 'closing the source detaches and frees the programs');
});

test('eBPF (auto), server target: attached when the source opens; accepted connections carry the server\'s PID', async () => {
  const w = await setup();
  const t0 = performance.now();
  const source = await openSource(w.serverPid, 'netlink', 'auto');
  sources.push(source);
  console.log(`eBPF attached ${(performance.now() - t0).toFixed(1)} ms after openSource was called (netlink source included)`);
  assert.deepEqual(source.lifecycleStatus, { facility: 'ebpf' });
  const conns = await w.churn();
  const ports = new Set(conns.map((c) => c.localPort));
  const evs = await drainUntil(source, (e) => e.filter((x) => x.kind === 'ended' && ports.has(x.remote.port)).length >= COUNT);
  const ended = evs.filter((e): e is SocketEnded => e.kind === 'ended' && ports.has(e.remote.port));
  assert.equal(ended.length, COUNT);
  for (const c of conns) {
    const e = ended.find((x) => x.remote.port === c.localPort)!;
    assert.equal(e.pid, w.serverPid);
    assert.equal(e.local.port, w.port);
    within(e.startedAtMs, c.begin - SLACK_MS, c.connected + SLACK_MS, `start of ${c.localPort}`);
    // the server's socket reaches CLOSE with the client's last ACK, which a loaded machine may
    // deliver milliseconds after the client's 'close' callback
    within(e.atMs, c.begin - SLACK_MS, c.closed + 50, `end of ${c.localPort}`);
  }
  // nothing of the client's own sockets: they are not the server's
  assert.equal(evs.filter((e) => ports.has(e.local.port)).length, 0);
});

test('eBPF forced off: destroy notifications report every end (no PID) and say why eBPF is not used', async () => {
  const w = await setup();
  const source = await openSource(w.clientPid, 'netlink', 'destroy');
  sources.push(source);
  assert.deepEqual(source.lifecycleStatus, { facility: 'destroy_notifications', reason: 'eBPF turned off (--brief destroy)' });
  const conns = await w.churn();
  const ports = new Set(conns.map((c) => c.localPort));
  const evs = await drainUntil(source, (e) => e.filter((x) => ports.has(x.local.port) || ports.has(x.remote.port)).length >= 2 * COUNT);
  const clientSide = evs.filter((e) => ports.has(e.local.port));
  const serverSide = evs.filter((e) => ports.has(e.remote.port));
  assert.equal(clientSide.length, COUNT);
  assert.equal(serverSide.length, COUNT);
  for (const c of conns) {
    const e = clientSide.find((x) => x.local.port === c.localPort) as SocketEnded;
    assert.equal(e.kind, 'ended');
    assert.equal(e.pid, undefined);
    assert.deepEqual(e.remote, { address: '127.0.0.1', port: w.port });
    within(e.atMs, c.closing - SLACK_MS, c.closed + DESTROY_DELAY_MS, `end of ${c.localPort}`);
    assert.equal(e.totals?.bytesSent, 1);
    assert.match(e.cookie ?? '', /^[1-9]\d*$/);
  }
});

test('destroy listener: a full buffer drops and counts, never grows', async () => {
  const w = await setup();
  const { DestroyListener } = await import('../../src/sources/netlink/destroy-listener');
  const listener = new DestroyListener({ capacity: 5 });
  try {
    const conns = await w.churn();
    const ports = new Set(conns.map((c) => c.localPort));
    const deadline = Date.now() + 3000;
    while ((listener.status.dropped ?? 0) < 2 * COUNT - 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const kept = listener.drain();
    assert.equal(kept.length, 5);
    // the host may close other sockets meanwhile: at least ours were dropped
    assert.ok((listener.status.dropped ?? 0) >= 2 * COUNT - 5, `dropped ${listener.status.dropped}`);
    assert.ok(kept.every((e) => e.kind === 'ended'));
    assert.ok(ports.size === COUNT);
  } finally {
    listener.close();
  }
});

test('as uid 65534: eBPF refuses with the reason, destroy notifications work', async () => {
  const server = await startChurnServer();
  children.push(server.child);
  const nobody = { uid: 65534, gid: 65534, cwd: '/' };
  const client = await startChurnClient(nobody);
  children.push(client.child);
  const runner = JsonChild.spawnNode(['-e', UNPRIVILEGED_RUNNER, path.resolve(__dirname, '../../src/sources/open-source.js'), String(client.child.pid)], nobody);
  children.push(runner);
  const opened = await runner.next();
  assert.equal(opened.uid, 65534);
  assert.equal(opened.forcedError, 'eBPF needs root (sockwatch runs as uid 65534)');
  assert.deepEqual(opened.status, { facility: 'destroy_notifications', reason: 'eBPF needs root (sockwatch runs as uid 65534)' });
  const conns = await client.churn('127.0.0.1', server.port, COUNT);
  const ports = new Set(conns.map((c) => c.localPort));
  await new Promise((r) => setTimeout(r, DESTROY_DELAY_MS * 3));
  runner.send({ drain: true });
  const evs = (await runner.next()).events as SocketEnded[];
  assert.equal(evs.filter((e) => ports.has(e.local.port)).length, COUNT);
  assert.equal(evs.filter((e) => ports.has(e.remote.port)).length, COUNT);
  assert.ok(evs.every((e) => e.pid === undefined));
});

// Runs as uid 65534: opens the source for the given PID as sockwatch would, reports, drains on request.
const UNPRIVILEGED_RUNNER = String.raw`
const { openSource } = require(process.argv[1]);
const pid = Number(process.argv[2]);
(async () => {
  let forcedError = null;
  try { (await openSource(pid, 'procfs', 'ebpf')).close(); } catch (e) { forcedError = e.message; }
  const source = await openSource(pid, 'procfs', 'auto');
  await new Promise((r) => setTimeout(r, 100)); // the eBPF attempt settles asynchronously
  process.stdout.write(JSON.stringify({ uid: process.getuid(), forcedError, status: source.lifecycleStatus }) + '\n');
  process.stdin.on('data', () => {
    process.stdout.write(JSON.stringify({ events: source.drainLifecycle() }) + '\n');
  });
  process.stdin.on('end', () => { source.close(); process.exit(0); });
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

/** This process's file descriptors that are loaded BPF programs. */
function bpfProgramFds(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:bpf-prog') out.push(fd);
    } catch {
      // closed meanwhile (readdir's own descriptor)
    }
  }
  return out;
}


test('a target in another network namespace: destroy notifications cannot see it, and the status says so', async () => {
  const holder = spawn('unshare', ['-n', process.execPath, '-e', 'process.stdout.write(process.pid + "\\n"); process.stdin.resume(); process.stdin.on("end", () => process.exit(0));'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  try {
    const pid = await new Promise<number>((resolve, reject) => {
      holder.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      holder.once('exit', (code) => reject(new Error(`unshare -n (util-linux) failed with ${code}: needs root`)));
    });
    const source = await openSource(pid, 'procfs', 'destroy');
    sources.push(source);
    assert.deepEqual(source.lifecycleStatus, {
      facility: 'none',
      reason: `eBPF turned off (--brief destroy); destroy notifications only cover sockwatch's network namespace and PID ${pid} is in another one`,
    });
    assert.deepEqual(source.drainLifecycle?.(), []);
  } finally {
    holder.kill('SIGKILL');
  }
});
