import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildUnixLookup, unixInodesIn } from '../../src/sources/netlink/unix-sockets';

function msg(type: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(16 + payload.length);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(type, 4);
  payload.copy(b, 16);
  return b;
}
function unixMsg(inode: number, family = 1): Buffer {
  const p = Buffer.alloc(16);
  p[0] = family;
  p.writeUInt32LE(inode, 4);
  return msg(20, p);
}

test('a unix_diag exact lookup names the inode, every state, no cookie', () => {
  const b = buildUnixLookup(0xdeadbeef);
  assert.equal(b.length, 40);
  assert.equal(b.readUInt32LE(0), 40);
  assert.equal(b.readUInt16LE(4), 20); // SOCK_DIAG_BY_FAMILY
  assert.equal(b.readUInt16LE(6), 1); // NLM_F_REQUEST, no dump
  assert.equal(b[16], 1); // AF_UNIX
  assert.equal(b.readUInt32LE(20), 0xffffffff);
  assert.equal(b.readUInt32LE(24), 0xdeadbeef);
  assert.equal(b.readUInt32LE(32), 0xffffffff);
  assert.equal(b.readUInt32LE(36), 0xffffffff);
});

test('replies: unix messages give their inode; errors, other families and broken tails do not', () => {
  const enoent = Buffer.alloc(20);
  enoent.writeInt32LE(-2, 0);
  const broken = Buffer.alloc(8);
  broken.writeUInt32LE(400, 0); // claims more than there is
  const one = Buffer.concat([unixMsg(7), msg(2, enoent), unixMsg(9, 2), unixMsg(11), broken]);
  assert.deepEqual(unixInodesIn([one, unixMsg(13)]), [7, 11, 13]);
  assert.deepEqual(unixInodesIn([Buffer.alloc(0), Buffer.alloc(3)]), []);
});
