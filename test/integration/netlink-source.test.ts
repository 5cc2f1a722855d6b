// The netlink source against real sockets: loopback children from test/helpers/loopback.ts, plus
// in-process sockets where the test must set socket options itself. Truth comes from the
// clients' own sockets and from a plain read of /proc/PID/net/tcp{,6}.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { Connection } from '../../src/model';
import { isSockwatchError } from '../../src/errors';
import { readSocketInodes } from '../../src/sources/procfs/fd-inodes';
import { createNetlinkSource } from '../../src/sources/netlink/netlink-source';
import { canUseNetlink } from '../../src/sources/netlink/netlink-availability';
import { openSockDiagSocket } from '../../src/sources/netlink/open-sock-diag';
import { LOOKUP_DATAGRAM_BYTES, type NetlinkDumpOptions } from '../../src/sources/netlink/sock-diag-requests';
import {
  startLoopbackClient,
  startLoopbackServer,
  stopLoopbackChildren,
  type LoopbackClient,
  type LoopbackServer,
} from '../helpers/loopback';
import { readProcTcp } from '../fixtures/netlink/proc-truth';

let server: LoopbackServer;
let client: LoopbackClient;

before(async () => {
  server = await startLoopbackServer();
  const targets = [{ host: '127.0.0.1', port: server.ipv4Port, count: 2 }];
  if (server.ipv6Port !== undefined) targets.push({ host: '::1', port: server.ipv6Port, count: 2 });
  client = await startLoopbackClient(targets);
});

after(() => stopLoopbackChildren());

function byLocalPort(conns: Connection[], port: number): Connection {
  const c = conns.find((x) => x.local.port === port);
  assert.ok(c, `a connection with local port ${port}`);
  return c;
}

test('every sock_diag socket the source uses comes from the factory it was given, the lookup socket too', async () => {
  const opened: NetlinkDumpOptions[] = [];
  const source = await createNetlinkSource(client.pid, {
    openSocket: (o) => {
      opened.push(o);
      return openSockDiagSocket(o);
    },
  });
  try {
    await source.snapshot('all');
    // nothing new: the known sockets are refreshed by exact lookups, on the lookup socket
    const second = await source.snapshot('all');
    assert.deepEqual(second.connections.map((c) => c.local.port).sort(), client.connections.map((c) => c.localPort).sort());
    assert.deepEqual(opened.map((o) => o.datagramBytes), [undefined, LOOKUP_DATAGRAM_BYTES]);
  } finally {
    source.close();
  }
});

test('a keep-alive client: bytes sent and received grow between snapshots', async () => {
  const source = await createNetlinkSource(client.pid);
  try {
    assert.equal(source.name, 'netlink');
    // a copy: the source refreshes its connection objects in place at the next poll (Source)
    const first = structuredClone(await source.snapshot('all'));
    assert.equal(first.source, 'netlink');
    assert.equal(first.process.pid, client.pid);
    assert.equal(first.connections.length, client.connections.length);

    await client.request();
    await client.request();
    await new Promise((r) => setTimeout(r, 50)); // the server's last ACK
    const second = await source.snapshot('all');

    for (const held of client.connections) {
      const a = byLocalPort(first.connections, held.localPort);
      const b = byLocalPort(second.connections, held.localPort);
      assert.equal(b.remote.port, held.remotePort);
      assert.equal(b.remote.address, held.remoteAddress);
      assert.equal(b.local.address, held.localAddress);
      assert.equal(b.protocol, held.localAddress.includes(':') ? 'tcp6' : 'tcp');
      assert.equal(b.state, 'ESTABLISHED');
      if (held.fd >= 0) assert.equal(b.fd, held.fd);
      assert.ok(a.tcp && b.tcp, 'tcp internals present');
      assert.equal(b.tcp.cookie, a.tcp.cookie, 'same socket, same cookie');
      assert.ok(b.tcp.bytesSent > a.tcp.bytesSent, `bytesSent ${a.tcp.bytesSent} -> ${b.tcp.bytesSent}`);
      assert.ok(b.tcp.bytesReceived > a.tcp.bytesReceived, `bytesReceived ${a.tcp.bytesReceived} -> ${b.tcp.bytesReceived}`);
      assert.ok(b.tcp.rttMs > 0);
    }
  } finally {
    source.close();
  }
});

async function inProcessPair(host: string): Promise<{ client: net.Socket; peer: net.Socket; close(): void }> {
  const srv = net.createServer();
  srv.listen(0, host);
  await once(srv, 'listening');
  const accepted = once(srv, 'connection') as Promise<[net.Socket]>;
  const c = net.connect({ host, port: (srv.address() as net.AddressInfo).port });
  await once(c, 'connect');
  const [peer] = await accepted;
  return {
    client: c,
    peer,
    close: () => {
      c.destroy();
      peer.destroy();
      srv.close();
    },
  };
}

test('an idle ESTABLISHED client with setKeepAlive(true, 1500) shows the keepalive timer', async () => {
  const pair = await inProcessPair('127.0.0.1');
  const source = await createNetlinkSource(process.pid);
  try {
    pair.client.setKeepAlive(true, 1500);
    await new Promise((r) => setTimeout(r, 100));
    const snap = await source.snapshot(new Set(['ESTABLISHED']));
    const mine = byLocalPort(snap.connections, pair.client.localPort!);
    assert.equal(mine.timer?.kind, 'keepalive');
    assert.ok(mine.timer.expiresMs > 0 && mine.timer.expiresMs <= 1500, `expires in ${mine.timer.expiresMs} ms`);
    assert.equal(mine.timer.probes, 0);
    assert.equal(mine.retransmits, 0);
    const peer = byLocalPort(snap.connections, pair.peer.localPort!);
    assert.equal(peer.remote.port, pair.client.localPort);
    assert.equal(peer.timer?.kind, 'none', 'the peer did not ask for keep-alive');
  } finally {
    source.close();
    pair.close();
  }
});

/** inode → state code for PID's TCP sockets, from /proc/PID/net/tcp{,6} joined with its fds. */
async function procTruth(pid: number): Promise<Map<number, number>> {
  const inodes = await readSocketInodes(pid);
  const truth = new Map<number, number>();
  for (const line of readProcTcp(pid)) if (inodes.has(line.inode)) truth.set(line.inode, line.state);
  return truth;
}

test('netlink and /proc/PID/net/tcp agree on the ESTABLISHED set', async () => {
  for (const pid of [client.pid, server.pid]) {
    const source = await createNetlinkSource(pid);
    try {
      const snap = await source.snapshot(new Set(['ESTABLISHED']));
      const truth = await procTruth(pid);
      const expected = [...truth].filter(([, st]) => st === 1).map(([inode]) => inode).sort();
      assert.deepEqual(snap.connections.map((c) => c.inode).sort(), expected, `PID ${pid}`);
      assert.equal(expected.length, client.connections.length);
    } finally {
      source.close();
    }
  }
});

test('the state filter is applied in the kernel: LISTEN alone returns only the listeners', async () => {
  const source = await createNetlinkSource(server.pid);
  try {
    const listen = await source.snapshot(new Set(['LISTEN']));
    const ports = listen.connections.map((c) => c.local.port).sort();
    const expected = [server.ipv4Port, server.ipv6Port].filter((p): p is number => p !== undefined).sort();
    assert.deepEqual(ports, expected);
    assert.ok(listen.connections.every((c) => c.state === 'LISTEN' && c.sendQueue === 0));
    const all = await source.snapshot('all');
    assert.equal(all.connections.length, expected.length + client.connections.length);
    const none = await source.snapshot(new Set());
    assert.deepEqual(none.connections, []);
  } finally {
    source.close();
  }
});

test('canUseNetlink: true for a process in our namespace, false for one outside or gone', async () => {
  assert.equal(await canUseNetlink(process.pid), true);
  assert.equal(await canUseNetlink(client.pid), true);
  assert.equal(await canUseNetlink(2 ** 22 + 7), false);
});

test('a nonexistent PID is no_such_process', async () => {
  await assert.rejects(createNetlinkSource(2 ** 22 + 7), (e: unknown) => isSockwatchError(e) && e.code === 'no_such_process');
});

test('a target in another network namespace is refused with not_supported', async (t) => {
  const child = spawn('unshare', ['-n', 'sleep', '30'], { stdio: 'ignore' });
  const spawned = await Promise.race([
    once(child, 'spawn').then(() => true),
    once(child, 'error').then(() => false),
  ]);
  try {
    // unshare -n needs CAP_SYS_ADMIN: wait until the child is in a namespace of its own
    const ours = fs.readlinkSync('/proc/self/ns/net');
    const theirs = (): string | undefined => {
      try {
        return fs.readlinkSync(`/proc/${child.pid}/ns/net`);
      } catch {
        return undefined;
      }
    };
    for (const until = Date.now() + 5000; spawned && child.exitCode === null && (theirs() ?? ours) === ours && Date.now() < until; ) await new Promise((r) => setTimeout(r, 10));
    if (!spawned || child.exitCode !== null || theirs() === ours) {
      // said in the test output (# SKIP), as docs/testing.md lists
      t.skip('cannot create a network namespace here (unshare -n needs root)');
      return;
    }
    await assert.rejects(createNetlinkSource(child.pid!), (e: unknown) => {
      assert.ok(isSockwatchError(e));
      assert.equal(e.code, 'not_supported');
      assert.match(e.message, new RegExp(`PID ${child.pid} is in another one.*--source procfs`));
      return true;
    });
    assert.equal(await canUseNetlink(child.pid!), false);
  } finally {
    child.kill('SIGKILL');
  }
});

test('close() is idempotent and a snapshot after it rejects instead of crashing', async () => {
  const source = await createNetlinkSource(process.pid);
  source.close();
  source.close();
  await assert.rejects(source.snapshot('all'), (e: unknown) => isSockwatchError(e) && e.code === 'io_error');
});
