// inFdOrder: the order a sort by fd gives, whatever the input (dense, sparse, duplicate or missing
// fds), call after call (it keeps its scratch slots between calls).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { inFdOrder } from '../../src/sources/netlink/in-fd-order';
import { compareByFd, type Connection } from '../../src/model';

function conn(fd: number | undefined, port: number): Connection {
  const c: Connection = { protocol: 'tcp', local: { address: '127.0.0.1', port }, remote: { address: '127.0.0.2', port: 80 }, state: 'ESTABLISHED', inode: port + 1 };
  if (fd !== undefined) c.fd = fd;
  return c;
}

test('inFdOrder orders like a sort by fd, for any fds, repeatedly', () => {
  const fds = fc.array(fc.option(fc.integer({ min: 0, max: 3000 }), { freq: 20 }), { maxLength: 300 });
  fc.assert(
    fc.property(fc.array(fds, { minLength: 1, maxLength: 4 }), (calls) => {
      for (const list of calls) {
        const input = list.map((fd, i) => conn(fd ?? undefined, i));
        const expected = [...input].sort(compareByFd);
        const got = inFdOrder(input);
        assert.deepEqual(got.map((c) => [c.fd, c.local.port]), expected.map((c) => [c.fd, c.local.port]));
      }
    }),
    { numRuns: 300 },
  );
});

test('a large dense target: every connection once, in fd order', () => {
  const n = 5000;
  const shuffled = Array.from({ length: n }, (_, i) => conn(i + 10, i)).sort(() => Math.random() - 0.5);
  const got = inFdOrder(shuffled);
  assert.equal(got.length, n);
  got.forEach((c, i) => assert.equal(c.fd, i + 10));
});
