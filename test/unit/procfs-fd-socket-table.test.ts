// FdSocketTable: which fds a scan reads again. Runs on this process's own /proc/self/fd.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { readlinkSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { FdSocketTable, updateInodes } from '../../src/sources/procfs/fd-socket-table';

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
  // copies: a scan's map is the table's own, updated by the next scan
  const first = new Map(await table.scan());
  const total = table.lastReadlinks;
  assert.ok(first.size >= 2);
  // nothing confirmed: every fd is read again
  await table.scan(() => false);
  assert.equal(table.lastReadlinks, total);
  // every socket confirmed open: only non-socket fds (and any new ones) are read
  const second = new Map(await table.scan(() => true));
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

// A child whose fds the test moves: its own /proc/self/fd listing would show the listing's own
// directory fd. Commands on stdin, one JSON answer per line with the fd it reports.
const CHILD = String.raw`
const fs = require('node:fs'), net = require('node:net'), rl = require('node:readline');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
rl.createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.split(' ');
  if (cmd === 'open') out({ fd: fs.openSync('/dev/null', 'r') });
  else if (cmd === 'close') { fs.closeSync(Number(arg)); out({ fd: Number(arg) }); }
  else if (cmd === 'listen') { const s = net.createServer().listen(0, '127.0.0.1', () => out({ fd: s._handle.fd })); }
});
process.stdin.on('end', () => process.exit(0));
out({ ready: true });
`;

test('the listing is skipped only while the open-fd count and every known fd say nothing changed', async (t) => {
  if (statSync('/proc/self/fd').size === 0) {
    t.skip('this kernel (before 6.2) reports no fd count in the size of /proc/PID/fd: every pass lists it');
    return;
  }
  const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const ask = async (cmd: string): Promise<number> => {
    if (cmd) child.stdin!.write(`${cmd}\n`);
    return (JSON.parse(String((await lines.next()).value)) as { fd: number }).fd;
  };
  try {
    await ask('');
    const pid = child.pid!;
    const fdCount = (): number => statSync(`/proc/${pid}/fd`).size;
    await ask('open');
    const hole = await ask('open');
    const last = await ask('open');
    // a hole below the last file: a socket opened later takes a number the table has not seen
    await ask(`close ${hole}`);
    const table = new FdSocketTable(pid);
    const first = new Map(await table.scan());
    assert.equal(table.lastListed, true);
    const steady = new Map(await table.scan(() => true));
    assert.equal(table.lastListed, false, 'nothing changed: no listing');
    assert.deepEqual([...steady].sort(), [...first].sort());

    // close a file, open a socket: the count is the same, the set of fds is not
    const before = fdCount();
    await ask(`close ${last}`);
    const fd = await ask('listen');
    assert.equal(fdCount(), before, 'one fd closed, one opened');
    const inode = Number(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1]);
    assert.ok(!first.has(inode), 'the socket is new');

    const after = await table.scan(() => true);
    assert.equal(table.lastListed, true, 'the closed file was noticed, so the directory was listed');
    assert.equal(after.get(inode), fd, 'the new socket is found on the fd the child reports');
    assert.equal(after.size, first.size + 1);

    // an unconfirmed socket is read again, listing or not
    await table.scan(() => false);
    assert.equal(table.lastListed, false);
    assert.ok(table.lastReadlinks >= after.size);
  } finally {
    child.kill('SIGKILL');
  }
});

/** The map a scan means: each socket inode (> 0) at the lowest fd holding it. */
function lowestFds(links: Float64Array): Map<number, number> {
  const m = new Map<number, number>();
  links.forEach((inode, fd) => {
    if (inode > 0 && !m.has(inode)) m.set(inode, fd);
  });
  return m;
}

test('the inode map updated in place from one pass to the next equals one built afresh (dups, closes, reuse, growth)', () => {
  // fd → -1 (not listed), 0 (not a socket) or one of a few inodes, so dups and moves are common
  const pass = fc.array(fc.integer({ min: -1, max: 6 }), { maxLength: 40 }).map((a) => Float64Array.from(a));
  fc.assert(
    fc.property(fc.array(pass, { minLength: 1, maxLength: 6 }), (passes) => {
      const inodes = new Map<number, number>();
      let prev = new Float64Array(0);
      for (const links of passes) {
        updateInodes(inodes, prev, links);
        assert.deepEqual(new Map([...inodes].sort((a, b) => a[0] - b[0])), new Map([...lowestFds(links)].sort((a, b) => a[0] - b[0])));
        prev = links;
      }
    }),
    { numRuns: 500 },
  );
});

test('a scan hands back the same map, updated: a new socket appears in it, a closed one leaves it', async () => {
  const table = new FdSocketTable(process.pid);
  const first = await table.scan();
  const before = new Map(first);
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  try {
    const second = await table.scan();
    assert.equal(second, first, 'the same map');
    const added = [...second.keys()].filter((i) => !before.has(i));
    assert.equal(added.length, 1, 'the listener is the one new socket');
    s.close();
    await once(s, 'close');
    const third = await table.scan();
    assert.deepEqual(new Map([...third].sort((a, b) => a[0] - b[0])), new Map([...before].sort((a, b) => a[0] - b[0])));
  } finally {
    s.close();
  }
});
