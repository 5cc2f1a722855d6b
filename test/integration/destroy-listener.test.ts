// Destroy notifications through koffi (src/sources/netlink/destroy-listener.ts), against real
// loopback children that report their own ports and times: connections that open and close
// within one poll are all reported, with the tuple and byte counts the client saw, as root and as
// uid 65534, stamped by the listener's own reads rather than by the drain that comes one poll
// later; and a process holding a listener ends normally when its event loop runs out while
// notifications keep arriving (the `netlink` addon's listener aborted there: Napi::Error, 134).

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { SocketEnded } from '../../src/core/lifecycle-types';
import { DestroyListener, READ_EVERY_MS } from '../../src/sources/netlink/destroy-listener';
import { JsonChild, startChurnClient, startChurnServer, type ChurnConnection } from '../helpers/churn';
import { startNamespaceChurn } from '../helpers/namespace-churn';

const COUNT = 20;
/** The default poll interval: the drain that takes the events comes this long after the closes. */
const POLL_MS = 1000;
/** The kernel sends a notification from a work queue after the socket is freed. */
const DESTROY_DELAY_MS = 100;
/** Timers of a loaded, shared 2-core machine run late by this much at worst (seen: tens of ms). */
const LAG_MS = 250;
/** Our clock against the children's (the same clock) and Date.now()'s millisecond steps. */
const SLACK_MS = 3;

const LISTENER = path.resolve(__dirname, '../../src/sources/netlink/destroy-listener.js');
const children: JsonChild[] = [];
after(async () => {
  for (const c of children) await c.kill();
});

/** `until` resolves once Date.now() has passed `atMs`: the moment a poll would drain. */
function until(atMs: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, atMs - Date.now())));
}

async function drainUntil(drain: () => Promise<SocketEnded[]>, done: (evs: SocketEnded[]) => boolean, timeoutMs = 5000): Promise<SocketEnded[]> {
  const got: SocketEnded[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    got.push(...(await drain()));
    if (done(got) || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every connection of the client, once from each side, with its tuple, bytes and a close time its read could give. */
function checkBrief(evs: SocketEnded[], conns: ChurnConnection[], serverPort: number): void {
  const ports = new Set(conns.map((c) => c.localPort));
  assert.equal(ports.size, COUNT);
  const clientSide = evs.filter((e) => e.remote.port === serverPort && ports.has(e.local.port));
  const serverSide = evs.filter((e) => e.local.port === serverPort && ports.has(e.remote.port));
  assert.equal(clientSide.length, COUNT, `client side: ${clientSide.length} of ${COUNT}`);
  assert.equal(serverSide.length, COUNT, `server side: ${serverSide.length} of ${COUNT}`);
  for (const c of conns) {
    const e = clientSide.find((x) => x.local.port === c.localPort)!;
    assert.equal(e.kind, 'ended');
    assert.equal(e.pid, undefined, 'destroy notifications name no owner');
    assert.deepEqual(e.remote, { address: '127.0.0.1', port: serverPort });
    // the client wrote one byte and read one; its peer's FIN counts as one more received
    assert.equal(e.totals?.bytesSent, 1);
    assert.equal(e.totals?.bytesReceived, 2);
    assert.match(e.cookie ?? '', /^[1-9]\d*$/);
    // read by the listener's timer, not at the drain a poll later
    const hi = c.closed + DESTROY_DELAY_MS + READ_EVERY_MS + LAG_MS;
    assert.ok(e.atMs >= c.closing - SLACK_MS && e.atMs <= hi, `end of ${c.localPort} stamped ${e.atMs}, closed ${c.closed.toFixed(1)}, at most ${hi.toFixed(1)}`);
  }
}

test('as root: 20 connections opened and closed within one poll are all reported, stamped when read, not when drained', async () => {
  const server = await startChurnServer();
  const client = await startChurnClient();
  children.push(server.child, client.child);
  const listener = new DestroyListener();
  try {
    assert.deepEqual(listener.status, { facility: 'destroy_notifications' });
    const conns = await client.churn('127.0.0.1', server.port, COUNT);
    await until(Math.max(...conns.map((c) => c.closed)) + POLL_MS);
    const evs = await drainUntil(async () => listener.drain(), (e) => e.filter((x) => x.remote.port === server.port).length >= COUNT);
    checkBrief(evs, conns, server.port);
    assert.equal(listener.malformed, 0);
  } finally {
    listener.close();
  }
});

// Holds a DestroyListener as uid 65534; each stdin line asks for a drain, answered on stdout.
const RUNNER = String.raw`
const { DestroyListener } = require(process.argv[1]);
const listener = new DestroyListener();
process.stdout.write(JSON.stringify({ uid: process.getuid(), status: listener.status }) + '\n');
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  for (const line of chunk.split('\n')) if (line !== '') process.stdout.write(JSON.stringify({ events: listener.drain() }) + '\n');
});
process.stdin.on('end', () => { listener.close(); process.exit(0); });
`;

test('as uid 65534: 20 connections opened and closed within one poll are all reported, stamped when read', async () => {
  const nobody = { uid: 65534, gid: 65534, cwd: '/' };
  const server = await startChurnServer('127.0.0.1', nobody);
  const client = await startChurnClient(nobody);
  const runner = JsonChild.spawnNode(['-e', RUNNER, LISTENER], nobody);
  children.push(server.child, client.child, runner);
  const ready = await runner.next();
  assert.equal(ready.uid, 65534);
  assert.deepEqual(ready.status, { facility: 'destroy_notifications' });
  const conns = await client.churn('127.0.0.1', server.port, COUNT);
  await until(Math.max(...conns.map((c) => c.closed)) + POLL_MS);
  const drain = async (): Promise<SocketEnded[]> => {
    const reply = runner.next();
    runner.send({ drain: true });
    return (await reply).events as SocketEnded[];
  };
  const evs = await drainUntil(drain, (e) => e.filter((x) => x.remote.port === server.port).length >= COUNT);
  checkBrief(evs, conns, server.port);
});

// Holds a listener, makes 20 loopback connections, closes them and leaves nothing scheduled: the
// event loop runs out while their notifications (and the churner's) arrive.
const NATURAL_EXIT = String.raw`
const { DestroyListener } = require(process.argv[1]);
const net = require('node:net');
new DestroyListener();
const server = net.createServer((s) => s.on('error', () => {}).resume());
server.listen(0, '127.0.0.1', () => {
  let left = 20;
  for (let i = 0; i < 20; i++) {
    const c = net.connect(server.address().port, '127.0.0.1', () => c.end('x'));
    c.on('error', () => {});
    c.on('close', () => { if (--left === 0) server.close(); });
  }
});
`;

function runToEnd(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.once('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

// With the addon, 11 of 20 such processes aborted while a churner ran (measured before the move).
test('a process holding a listener exits 0 when its event loop runs out while notifications arrive, 10 times in a row', async () => {
  const churn = await startNamespaceChurn();
  try {
    for (let i = 0; i < 10; i++) {
      const r = await runToEnd(['-e', NATURAL_EXIT, LISTENER]);
      assert.deepEqual({ code: r.code, signal: r.signal, stderr: r.stderr }, { code: 0, signal: null, stderr: '' }, `run ${i + 1}`);
    }
    assert.ok(churn.closed() > 200, 'notifications were flowing');
  } finally {
    await churn.stop();
  }
});
