// FdSocketTable: which fds a scan reads again. Runs on this process's own /proc/self/fd.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { FdSocketTable } from '../../src/sources/procfs/fd-socket-table';

const servers: net.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

async function listen(): Promise<void> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  servers.push(s);
}

test('confirmed-open sockets are not read again; everything else is', async () => {
  await listen();
  await listen();
  const table = new FdSocketTable(process.pid);
  const first = await table.scan();
  const total = table.lastReadlinks;
  assert.ok(first.size >= 2);
  // nothing confirmed: every fd is read again
  await table.scan(() => false);
  assert.equal(table.lastReadlinks, total);
  // every socket confirmed open: only non-socket fds (and any new ones) are read
  const second = await table.scan(() => true);
  assert.deepEqual([...second].sort(), [...first].sort());
  assert.ok(table.lastReadlinks <= total - countFdsOf(first));
  // a new socket's fd is read and found even though every known socket is confirmed
  await listen();
  const third = await table.scan(() => true);
  assert.equal(third.size, first.size + 1);
  // after reset, every link is read again
  table.reset();
  await table.scan(() => true);
  assert.ok(table.lastReadlinks >= total);
});

/** fds holding sockets in a scan result (a socket dup'ed onto several fds counts once here) */
function countFdsOf(inodes: ReadonlyMap<number, number>): number {
  return inodes.size;
}
