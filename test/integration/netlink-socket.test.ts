import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { isSockwatchError } from '../../src/errors';
import { decodeInetDiag } from '../../src/sources/netlink/inet-diag-decode';
import { buildAckSentinel, buildInetDiagDumpRequest, buildInetDiagExactRequest, stateMask } from '../../src/sources/netlink/inet-diag-request';
import { openSockDiagSocket } from '../../src/sources/netlink/open-sock-diag';
import { AF_INET, AF_INET6 } from '../../src/sources/netlink/sock-diag-constants';
import { libcNetlinkAvailable } from '../../src/sources/netlink/libc-netlink';

test('koffi loads here (a dependency with prebuilt binaries): the netlink source is available', () => {
  assert.equal(libcNetlinkAvailable(), true, 'koffi did not load');
  openSockDiagSocket().close();
});

// A probe with 1,000 requests in flight on the package's socket aborted the process; the
// wrapper queues them, so the same burst must simply resolve, one dump after another.
test(`a burst of 1,000 concurrent dumps is serialized and every one completes`, async () => {
  const socket = openSockDiagSocket();
  try {
    const listen = stateMask(new Set(['LISTEN']));
    const replies = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => socket.dump(buildInetDiagDumpRequest({ family: i % 2 ? AF_INET6 : AF_INET, states: listen }))),
    );
    for (const chunks of replies) {
      const r = decodeInetDiag(chunks);
      assert.equal(r.done, true);
      assert.ok(r.rows.every((row) => row.state === 10));
    }
  } finally {
    socket.close();
  }
});

test(`dumps pending at close() reject with io_error; later ones too`, async () => {
  const socket = openSockDiagSocket();
  const req = buildInetDiagDumpRequest({ family: AF_INET, states: stateMask('all') });
  const inFlight = [socket.dump(req), socket.dump(req), socket.dump(req)];
  socket.close();
  const settled = await Promise.allSettled(inFlight);
  // the first may already have completed; none may hang, and failures are SockwatchErrors
  for (const s of settled) {
    if (s.status === 'rejected') assert.ok(isSockwatchError(s.reason) && s.reason.code === 'io_error');
  }
  assert.equal(settled.at(-1)?.status, 'rejected');
  await assert.rejects(socket.dump(req), (e: unknown) => isSockwatchError(e) && e.code === 'io_error');
});

// Truth: the ports Node's own sockets report. Many batches, a closed socket in the middle.
test(`exact lookups in batches answer for every open socket, and not for a closed one`, async () => {
  const server = net.createServer((s) => s.on('error', () => undefined));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const clients: net.Socket[] = [];
  for (let i = 0; i < 300; i++) {
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => undefined);
    clients.push(c);
  }
  await Promise.all(clients.map((c) => new Promise((r) => c.once('connect', r))));
  const socket = openSockDiagSocket();
  try {
    const ours = new Set(clients.map((c) => c.localPort));
    const dump = decodeInetDiag(await socket.dump(buildInetDiagDumpRequest({ family: AF_INET, states: stateMask(new Set(['ESTABLISHED'])) })));
    const rows = dump.rows.filter((r) => r.dstPort === port && ours.has(r.srcPort));
    assert.equal(rows.length, 300);
    const closedPort = clients[150]!.localPort!;
    await new Promise<void>((r) => clients[150]!.destroy().once('close', () => r()));
    const capacity = socket.batchCapacity();
    assert.ok(capacity >= 16 && capacity <= 256, `capacity ${capacity}`);
    const answered = new Set<number>();
    for (let i = 0; i < rows.length; i += capacity) {
      const requests = rows.slice(i, i + capacity).map((r) => buildInetDiagExactRequest(AF_INET, r.sockId));
      const d = decodeInetDiag(await socket.batch(requests, buildAckSentinel()), { batch: true });
      assert.equal(d.done, true);
      for (const r of d.rows) if (r.inode !== 0) answered.add(r.srcPort);
    }
    const expected = new Set([...ours].filter((p) => p !== closedPort));
    assert.deepEqual([...answered].sort(), [...expected].sort());
    assert.ok(!answered.has(closedPort));
  } finally {
    socket.close();
    for (const c of clients) c.destroy();
    server.close();
  }
});
