// Property tests of the sock_diag reply decoder: any bytes (random, or real replies cut and
// corrupted) → no throw, and only values the wire format can hold; inet_diag_msg records written
// field by field decode back to the fields written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import fc from 'fast-check';
import { decodeInetDiag, type InetDiagRow } from '../../src/sources/netlink/inet-diag-decode';
import { rowToConnection } from '../../src/sources/netlink/inet-diag-connection';
import { AF_INET, AF_INET6, HOST_LE, nlmsgAlign } from '../../src/sources/netlink/sock-diag-constants';

const RUNS = { numRuns: 2000 };
const U32 = 0xffffffff;
const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/netlink');
const REAL = ['tcp4-loopback', 'tcp6-loopback', 'tcp6-mapped'].map((n) => readFileSync(path.join(FIXTURES, `${n}.bin`)));

function assertSaneRow(r: InetDiagRow): void {
  for (const p of [r.srcPort, r.dstPort]) assert.ok(Number.isInteger(p) && p >= 0 && p <= 0xffff);
  for (const n of [r.family, r.state, r.timer, r.retrans]) assert.ok(Number.isInteger(n) && n >= 0 && n <= 0xff);
  for (const n of [r.ifindex, r.expiresMs, r.rqueue, r.wqueue, r.uid, r.inode]) assert.ok(Number.isInteger(n) && n >= 0 && n <= U32);
  assert.match(r.cookie, /^\d{1,20}$/);
  assert.ok(BigInt(r.cookie) < 2n ** 64n);
  for (const a of [r.srcAddress, r.dstAddress]) assert.ok(net.isIP(a) !== 0, a);
  // u64 fields as numbers: ~0 (the kernel's "unlimited" pacing rate) rounds to 2^64 itself
  for (const [k, v] of Object.entries(r.tcpInfo ?? {})) {
    assert.ok(typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 2 ** 64), `tcpInfo.${k} = ${String(v)}`);
  }
  const c = rowToConnection(r, 3);
  if (c) {
    for (const n of [c.sendQueue, c.recvQueue, c.retransmits, c.uid, c.timer?.expiresMs, c.timer?.probes]) {
      if (n !== undefined) assert.ok(Number.isInteger(n) && n >= 0 && n <= U32, `connection field ${n}`);
    }
    for (const [k, v] of Object.entries(c.tcp ?? {})) {
      if (typeof v === 'number') assert.ok(Number.isFinite(v) && v >= 0, `tcp.${k} = ${v}`);
    }
  }
}

function decodeEverything(bufs: Uint8Array[]): void {
  for (const opts of [{}, { batch: true }, { modelTcpInfo: true }]) {
    const r = decodeInetDiag(bufs, opts);
    for (const row of r.rows) assertSaneRow(row);
    if (r.errno !== undefined) assert.ok(Number.isInteger(r.errno));
  }
  // the messages set aside for later decoding (KnownSockets' filtered dump): whole messages only
  decodeInetDiag(bufs, {
    wantedInodes: new Set(),
    unwanted: (inode, message) => {
      assert.ok(inode >= 0 && inode <= U32);
      assert.ok(message.length >= 16 + 72, `a message of ${message.length} bytes`);
      assert.equal(new DataView(message.buffer, message.byteOffset).getUint32(0, true), message.length);
      for (const row of decodeInetDiag(message).rows) assertSaneRow(row);
    },
  });
}

test('random bytes: no throw, sane rows', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 3 }), (bufs) => decodeEverything(bufs)), RUNS);
});

test('real replies, cut and corrupted anywhere: no throw, sane rows', () => {
  const mutated = fc
    .tuple(fc.constantFrom(...REAL), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(), fc.nat())
    .map(([real, flips, cutFrom, cutLen]) => {
      const b = Buffer.from(real);
      for (const [at, v] of flips) b[at % b.length] = v;
      const from = cutFrom % b.length;
      return b.subarray(from, from + 1 + (cutLen % (b.length - from)));
    });
  fc.assert(fc.property(mutated, (buf) => decodeEverything([buf])), RUNS);
});

interface Msg {
  family: number;
  state: number;
  timer: number;
  retrans: number;
  sport: number;
  dport: number;
  src: Uint8Array;
  dst: Uint8Array;
  ifindex: number;
  cookie: bigint;
  expires: number;
  rqueue: number;
  wqueue: number;
  uid: number;
  inode: number;
}

const msgArb: fc.Arbitrary<Msg> = fc.record({
  family: fc.constantFrom(AF_INET, AF_INET6),
  state: fc.integer({ min: 1, max: 12 }),
  timer: fc.integer({ min: 0, max: 4 }),
  retrans: fc.integer({ min: 0, max: 255 }),
  sport: fc.integer({ min: 0, max: 0xffff }),
  dport: fc.integer({ min: 0, max: 0xffff }),
  src: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  dst: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  ifindex: fc.integer({ min: 0, max: U32 }),
  cookie: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  expires: fc.integer({ min: 0, max: U32 }),
  rqueue: fc.integer({ min: 0, max: U32 }),
  wqueue: fc.integer({ min: 0, max: U32 }),
  uid: fc.integer({ min: 0, max: U32 }),
  inode: fc.integer({ min: 0, max: U32 }),
});

/** One SOCK_DIAG_BY_FAMILY message (nlmsghdr + inet_diag_msg, no attributes), as the kernel lays it out. */
function writeMsg(m: Msg): Buffer {
  const b = Buffer.alloc(16 + 72);
  const u32 = (v: number, at: number): number => (HOST_LE ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  u32(b.length, 0);
  (HOST_LE ? b.writeUInt16LE.bind(b) : b.writeUInt16BE.bind(b))(20, 4);
  const p = 16;
  b[p] = m.family;
  b[p + 1] = m.state;
  b[p + 2] = m.timer;
  b[p + 3] = m.retrans;
  b.writeUInt16BE(m.sport, p + 4);
  b.writeUInt16BE(m.dport, p + 6);
  Buffer.from(m.family === AF_INET ? m.src.subarray(0, 4) : m.src).copy(b, p + 8);
  Buffer.from(m.family === AF_INET ? m.dst.subarray(0, 4) : m.dst).copy(b, p + 24);
  u32(m.ifindex, p + 40);
  u32(Number(m.cookie & 0xffffffffn), p + 44);
  u32(Number(m.cookie >> 32n), p + 48);
  u32(m.expires, p + 52);
  u32(m.rqueue, p + 56);
  u32(m.wqueue, p + 60);
  u32(m.uid, p + 64);
  u32(m.inode, p + 68);
  return b;
}

function nodeAddress(family: number, bytes: Uint8Array): string {
  if (family === AF_INET) return [...bytes.subarray(0, 4)].join('.');
  return new net.SocketAddress({ address: [0, 2, 4, 6, 8, 10, 12, 14].map((i) => ((bytes[i]! << 8) | bytes[i + 1]!).toString(16)).join(':'), family: 'ipv6' }).address;
}

test('round trip: messages written field by field decode to those fields', () => {
  fc.assert(
    fc.property(fc.array(msgArb, { minLength: 1, maxLength: 5 }), (msgs) => {
      const buf = Buffer.concat(msgs.map(writeMsg));
      assert.equal(nlmsgAlign(16 + 72), 16 + 72);
      const { rows, problem } = decodeInetDiag(buf);
      assert.equal(problem, undefined);
      assert.equal(rows.length, msgs.length);
      rows.forEach((r, i) => {
        const m = msgs[i]!;
        assertSaneRow(r);
        assert.deepEqual(
          [r.family, r.state, r.timer, r.retrans, r.srcPort, r.dstPort, r.ifindex, r.cookie, r.expiresMs, r.rqueue, r.wqueue, r.uid, r.inode],
          [m.family, m.state, m.timer, m.retrans, m.sport, m.dport, m.ifindex, m.cookie.toString(), m.expires, m.rqueue, m.wqueue, m.uid, m.inode],
        );
        // inet_ntop's text, except IPv4-compatible ::a.b.c.d which RFC 5952 writes in hex
        const expectSrc = nodeAddress(m.family, m.src);
        if (!/^::\d+\.\d+\.\d+\.\d+$/.test(expectSrc)) assert.equal(r.srcAddress, expectSrc);
        assert.ok(net.isIP(r.dstAddress) !== 0);
      });
    }),
    RUNS,
  );
});
