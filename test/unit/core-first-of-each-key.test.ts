import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker, firstOfEachKey } from '../../src/core/tracker';
import { connectionKey } from '../../src/model';
import { conn, snap, summarize } from '../helpers/snapshots';

// What the tracker used before it skipped the key strings: a Map by connectionKey(), first wins.
function byKeyMap(conns: ReturnType<typeof conn>[]): ReturnType<typeof conn>[] {
  const m = new Map<string, ReturnType<typeof conn>>();
  for (const c of conns) if (!m.has(connectionKey(c))) m.set(connectionKey(c), c);
  return [...m.values()];
}

test('connectionKey: inode, local and remote endpoints, IPv6 unbracketed', () => {
  assert.equal(connectionKey(conn({ inode: 7, local: '10.0.0.1:5000', remote: '10.0.0.2:80' })), '7|10.0.0.1:5000|10.0.0.2:80');
  assert.equal(connectionKey(conn({ inode: 0, local: '[::1]:5000', remote: '[::ffff:10.0.0.2]:80' })), '0|::1:5000|::ffff:10.0.0.2:80');
});

test('firstOfEachKey: distinct inodes are kept as they are, in order', () => {
  const conns = [conn({ inode: 30 }), conn({ inode: 10 }), conn({ inode: 20 })];
  const out = firstOfEachKey(conns);
  assert.deepEqual(out, conns);
  assert.deepEqual(firstOfEachKey([]), []);
  const one = [conn({ inode: 0 })];
  assert.deepEqual(firstOfEachKey(one), one);
});

test('firstOfEachKey: the first of each inode and tuple, like a Map by connectionKey', () => {
  const a = conn({ inode: 5, local: '10.0.0.1:1000', remote: '10.0.0.2:80' });
  const dupA = conn({ inode: 5, local: '10.0.0.1:1000', remote: '10.0.0.2:80', state: 'CLOSE_WAIT' });
  const b = conn({ inode: 5, local: '10.0.0.1:1001', remote: '10.0.0.2:80' });
  const c = conn({ inode: 6 });
  const cases = [
    [a, dupA],
    [a, b, dupA, c],
    [c, a, c, b],
    // no inode: the tuple alone (with inode 0) tells them apart
    [conn({ inode: 0, local: '10.0.0.1:1', remote: '10.0.0.2:2' }), conn({ inode: 0, local: '10.0.0.1:1', remote: '10.0.0.2:2' }), conn({ inode: 0, local: '10.0.0.1:3', remote: '10.0.0.2:2' })],
    [conn({ inode: 0 }), c, conn({ inode: 6 })],
    [conn({ inode: 2 ** 40 + 1 }), conn({ inode: 2 ** 40 + 2 }), conn({ inode: 2 ** 40 + 1 })],
  ];
  for (const list of cases) {
    const out = firstOfEachKey(list);
    assert.deepEqual(out, byKeyMap(list));
    for (let i = 0; i < out.length; i++) assert.equal(out[i], byKeyMap(list)[i], 'the first entry itself, not a copy');
  }
  assert.equal(firstOfEachKey([a, dupA]).length, 1);
  assert.equal(firstOfEachKey([a, dupA])[0]?.state, 'ESTABLISHED');
});

test('a socket listed twice at a first poll is one connection, listed first wins', () => {
  const t = createTracker();
  const e = t.poll(snap([{ inode: 1, fd: 3 }, { inode: 2, fd: 4 }, { inode: 1, fd: 9 }]), 0);
  assert.deepEqual(summarize(e), ['open c1 pre', 'open c2 pre']);
  assert.ok(e[0]?.type === 'open');
  assert.equal(e[0].conn.connection.fd, 3);
  assert.equal(e[0].conn.key, '1|10.0.0.1:40001|10.0.0.2:80');
});
