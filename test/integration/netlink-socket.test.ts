import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSockwatchError } from '../../src/errors';
import { decodeInetDiag } from '../../src/sources/netlink/inet-diag-decode';
import { buildInetDiagDumpRequest, stateMask } from '../../src/sources/netlink/inet-diag-request';
import { SockDiagSocket } from '../../src/sources/netlink/netlink-socket';
import { AF_INET, AF_INET6 } from '../../src/sources/netlink/sock-diag-constants';

// A probe with 1,000 requests in flight on the package's socket aborted the process; the
// wrapper queues them, so the same burst must simply resolve, one dump after another.
test('a burst of 1,000 concurrent dumps is serialized and every one completes', async () => {
  const socket = new SockDiagSocket();
  try {
    const listen = stateMask(new Set(['LISTEN']));
    const replies = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        socket.dump(buildInetDiagDumpRequest({ family: i % 2 ? AF_INET6 : AF_INET, states: listen })),
      ),
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

test('dumps pending at close() reject with io_error; later ones too', async () => {
  const socket = new SockDiagSocket();
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
