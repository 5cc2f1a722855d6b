import { test } from 'node:test';
import assert from 'node:assert/strict';
import { walkNlmsgs } from '../../src/sources/netlink/nlmsg-walk';
import { HOST_LE, NLMSG_HDRLEN } from '../../src/sources/netlink/sock-diag-constants';

/** Messages of the given (type, payload length), each padded to 4 bytes, then `tail` extra bytes. */
function datagram(msgs: [number, number][], tail = 0, lenOverride?: { index: number; len: number }): DataView {
  const sizes = msgs.map(([, pl]) => (NLMSG_HDRLEN + pl + 3) & ~3);
  const buf = new Uint8Array(sizes.reduce((a, b) => a + b, 0) + tail);
  const dv = new DataView(buf.buffer);
  let off = 0;
  msgs.forEach(([type, pl], i) => {
    dv.setUint32(off, lenOverride?.index === i ? lenOverride.len : NLMSG_HDRLEN + pl, HOST_LE);
    dv.setUint16(off + 4, type, HOST_LE);
    off += sizes[i]!;
  });
  return dv;
}

test('visits every message with its offset and length, aligned to 4 bytes', () => {
  const dv = datagram([[20, 5], [20, 8], [3, 4]]);
  const seen: [number, number, number][] = [];
  const end = walkNlmsgs(dv, dv.byteLength, (type, off, len) => void seen.push([type, off, len]));
  assert.deepEqual(seen, [[20, 0, 21], [20, 24, 24], [3, 48, 20]]);
  assert.deepEqual(end, { how: 'end', trailing: 0 });
});

test('stops when the visitor says so', () => {
  const dv = datagram([[20, 0], [3, 0], [20, 0]]);
  const types: number[] = [];
  assert.deepEqual(walkNlmsgs(dv, dv.byteLength, (type) => (types.push(type), type === 3)), { how: 'stopped' });
  assert.deepEqual(types, [20, 3]);
});

test('a length shorter than a header or past the end is bad; bytes too few for a header are trailing', () => {
  const short = datagram([[20, 4], [20, 4]], 0, { index: 1, len: 8 });
  assert.deepEqual(walkNlmsgs(short, short.byteLength, () => undefined), { how: 'bad', len: 8, at: 20 });
  const long = datagram([[20, 4]], 0, { index: 0, len: 400 });
  assert.deepEqual(walkNlmsgs(long, long.byteLength, () => undefined), { how: 'bad', len: 400, at: 0 });
  const tail = datagram([[20, 4]], 7);
  assert.deepEqual(walkNlmsgs(tail, tail.byteLength, () => undefined), { how: 'end', trailing: 7 });
  const empty = new DataView(new ArrayBuffer(0));
  assert.deepEqual(walkNlmsgs(empty, 0, () => assert.fail('no message')), { how: 'end', trailing: 0 });
});
