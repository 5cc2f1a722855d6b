// The tcp-life ring record decoder: records laid out as the program writes them (RECORD).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTcpLifeRecord } from '../../src/sources/ebpf/tcp-life-record';
import { KIND_ENDED, KIND_STARTED, RECORD } from '../../src/sources/ebpf/tcp-life-program';
import { createTracker } from '../../src/core/tracker';
import type { SocketLifecycleEvent } from '../../src/core/lifecycle-types';
import { snap, summarize } from '../helpers/snapshots';

const toMs = (ns: bigint): number => Number(ns / 1000n) / 1000 + 1_000_000;

function rec(o: { kind: number; family: number; pid?: number; ns?: bigint; startNs?: bigint; oldState?: number; cookie?: bigint; v4?: [number[], number[]]; v6?: [string, string] }): DataView {
  const v = new DataView(new ArrayBuffer(RECORD.size + 16));
  const at = 8; // records are read at an offset inside the ring
  v.setBigUint64(at + RECORD.ns, o.ns ?? 5_000_000n, true);
  v.setBigUint64(at + RECORD.startNs, o.startNs ?? 0n, true);
  v.setUint32(at + RECORD.pid, o.pid ?? 4242, true);
  v.setUint8(at + RECORD.kind, o.kind);
  v.setUint8(at + RECORD.oldState, o.oldState ?? 1);
  v.setUint16(at + RECORD.family, o.family, true);
  v.setUint16(at + RECORD.sport, 40000, true);
  v.setUint16(at + RECORD.dport, 8080, true);
  if (o.v4) o.v4[0].forEach((b, i) => { v.setUint8(at + RECORD.saddr + i, b); v.setUint8(at + RECORD.daddr + i, o.v4![1][i]!); });
  if (o.v6) {
    Buffer.from(o.v6[0], 'hex').forEach((b, i) => v.setUint8(at + RECORD.saddrV6 + i, b));
    Buffer.from(o.v6[1], 'hex').forEach((b, i) => v.setUint8(at + RECORD.daddrV6 + i, b));
  }
  v.setBigUint64(at + RECORD.bytesSent, 100n, true);
  v.setBigUint64(at + RECORD.bytesAcked, 100n, true);
  v.setBigUint64(at + RECORD.bytesReceived, 7n, true);
  v.setUint32(at + RECORD.segsOut, 1, true);
  v.setUint32(at + RECORD.segsIn, 2, true);
  v.setBigUint64(at + RECORD.cookie, o.cookie ?? 0n, true);
  return v;
}

test('IPv4 start and IPv6 end, with times, owner, old state, totals and cookie', () => {
  const s = decodeTcpLifeRecord(rec({ kind: KIND_STARTED, family: 2, v4: [[127, 0, 0, 1], [10, 1, 2, 3]] }), 8, RECORD.size, toMs);
  assert.deepEqual(s, { kind: 'started', atMs: 1_000_005, protocol: 'tcp', local: { address: '127.0.0.1', port: 40000 }, remote: { address: '10.1.2.3', port: 8080 }, pid: 4242, member: true });
  const loop6 = '00000000000000000000000000000001';
  const mapped = '00000000000000000000ffff7f000001';
  const e = decodeTcpLifeRecord(rec({ kind: KIND_ENDED, family: 10, startNs: 2_000_000n, oldState: 8, cookie: 12345678901234567890n, v6: [loop6, mapped] }), 8, RECORD.size, toMs);
  assert.deepEqual(e, {
    kind: 'ended',
    atMs: 1_000_005,
    protocol: 'tcp6',
    local: { address: '::1', port: 40000 },
    remote: { address: '::ffff:127.0.0.1', port: 8080 },
    pid: 4242,
    member: true,
    cookie: '12345678901234567890',
    state: 'CLOSE_WAIT',
    startedAtMs: 1_000_002,
    totals: { bytesSent: 100, bytesReceived: 7, segmentsSent: 1, segmentsReceived: 2 },
  });
});

test('an end without a start (preexisting) or cookie leaves them out', () => {
  const e = decodeTcpLifeRecord(rec({ kind: KIND_ENDED, family: 2, v4: [[127, 0, 0, 1], [127, 0, 0, 1]] }), 8, RECORD.size, toMs);
  assert.ok(typeof e !== 'string' && e.kind === 'ended');
  assert.equal('startedAtMs' in e, false);
  assert.equal('cookie' in e, false);
});

test('a socket seen starting whose cookie the kernel never made: an identity of its own, one per start', () => {
  const end = (startNs: bigint): ReturnType<typeof decodeTcpLifeRecord> => decodeTcpLifeRecord(rec({ kind: KIND_ENDED, family: 2, startNs, v4: [[127, 0, 0, 1], [127, 0, 0, 1]] }), 8, RECORD.size, toMs);
  const a = end(2_000_000n);
  const b = end(3_000_000n);
  assert.ok(typeof a !== 'string' && typeof b !== 'string');
  assert.equal(a.cookie, 'ebpf:2000000');
  assert.notEqual(a.cookie, b.cookie);
  // never mistaken for a kernel cookie, which is decimal
  assert.doesNotMatch(a.cookie!, /^[0-9]+$/);
  // a kernel cookie, when there is one, is what the record says
  const c = decodeTcpLifeRecord(rec({ kind: KIND_ENDED, family: 2, startNs: 2_000_000n, cookie: 77n, v4: [[127, 0, 0, 1], [127, 0, 0, 1]] }), 8, RECORD.size, toMs);
  assert.ok(typeof c !== 'string' && c.kind === 'ended');
  assert.equal(c.cookie, '77');
});

test('a client reusing its port: every connection with that tuple is counted, in one poll and the next', () => {
  // ab against a server that closes first reuses client ports within milliseconds, and the kernel
  // made no cookie for sockets no dump saw: three ends of one tuple, then a fourth a poll later
  const end = (startMs: number): SocketLifecycleEvent => {
    const e = decodeTcpLifeRecord(rec({ kind: KIND_ENDED, family: 2, startNs: BigInt(startMs) * 1_000_000n, ns: BigInt(startMs + 5) * 1_000_000n, oldState: 5, v4: [[127, 0, 0, 1], [127, 0, 0, 1]] }), 8, RECORD.size, (ns) => Number(ns / 1_000_000n));
    assert.ok(typeof e !== 'string', e as string);
    return e;
  };
  const t = createTracker();
  t.poll(snap([]), 0);
  assert.deepEqual(summarize(t.poll({ ...snap([]), observedAtMs: 1000 }, 1000, [end(100), end(200), end(300)])), ['close c1 5 brief', 'close c2 5 brief', 'close c3 5 brief']);
  assert.deepEqual(summarize(t.poll({ ...snap([]), observedAtMs: 2000 }, 2000, [end(1100)])), ['close c4 5 brief']);
  // one end read twice is still one connection
  assert.deepEqual(summarize(t.poll({ ...snap([]), observedAtMs: 3000 }, 3000, [end(1100)])), []);
  assert.deepEqual([t.stats(3000).opened, t.stats(3000).brief], [4, 4]);
});

test('records that cannot be right are refused with the reason', () => {
  assert.equal(decodeTcpLifeRecord(rec({ kind: 9, family: 2 }), 8, RECORD.size, toMs), 'record kind 9');
  assert.equal(decodeTcpLifeRecord(rec({ kind: KIND_STARTED, family: 1 }), 8, RECORD.size, toMs), 'address family 1');
  assert.equal(decodeTcpLifeRecord(rec({ kind: KIND_STARTED, family: 2, pid: 0 }), 8, RECORD.size, toMs), 'pid 0');
  assert.equal(decodeTcpLifeRecord(rec({ kind: KIND_STARTED, family: 2 }), 8, 64, toMs), 'record of 64 bytes');
});
