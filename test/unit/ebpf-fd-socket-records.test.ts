// The fd-socket iterator's pure parts: the record layout made from BTF offsets, the program's
// shape, and records decoded into the rows inet_diag would give — queues, timers, addresses —
// from fixture bytes laid out as the kernel program writes them (Linux 6.18 x86_64's offsets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordLayout, RECORD_FD, RECORD_INODE, RECORD_JIFFIES, MAX_RECORD, SOCK_FIELDS, type FdSocketOffsets, type SockField } from '../../src/sources/ebpf/fd-socket-layout';
import { FdSocketDecoder, hzFromJiffies } from '../../src/sources/ebpf/fd-socket-records';
import type { Connection } from '../../src/model';
import { fdSocketProgram } from '../../src/sources/ebpf/fd-socket-program';
import { HELPER } from '../../src/sources/ebpf/bpf-insn';

const loc = (offset: number, size: number) => ({ offset, size });
/** Linux 6.18's offsets (x86_64, from its BTF: icsk_timeout gone, the retransmit timer's expiry instead) */
const OFFSETS: FdSocketOffsets = {
  iterFuncBtfId: 123,
  socketSk: 24,
  socketIno: 192,
  sockSize: 784,
  sock: {
    daddr: loc(0, 4),
    rcvSaddr: loc(4, 4),
    dport: loc(12, 2),
    num: loc(14, 2),
    family: loc(16, 2),
    state: loc(18, 1),
    boundDevIf: loc(20, 4),
    v6Daddr: loc(56, 16),
    v6RcvSaddr: loc(72, 16),
    protocol: loc(532, 2),
    type: loc(534, 2),
    uid: loc(528, 4),
    ackBacklog: loc(600, 4),
    maxAckBacklog: loc(604, 4),
    keepaliveTimerPprev: loc(456, 8),
    keepaliveTimerExpires: loc(464, 8),
    icskPending: loc(1250, 1),
    icskRetransmits: loc(1249, 1),
    icskProbesOut: loc(1253, 1),
    retransmitTimerExpires: loc(1120, 8),
    rcvNxt: loc(1664, 4),
    copiedSeq: loc(1464, 4),
    writeSeq: loc(1576, 4),
    sndUna: loc(1672, 4),
  },
};
const LAYOUT = recordLayout(OFFSETS);

/** The connections in `data`'s first `length` bytes, decoded in one chunk. */
function fdSocketConnections(data: Uint8Array, length: number, layout: typeof LAYOUT, hz: number): Connection[] {
  const decoder = new FdSocketDecoder(layout, hz, Math.floor(length / layout.size));
  decoder.push(data, length);
  return decoder.connections;
}
const HZ = 250;
const JIFFIES = 4_300_000_000;

test('the layout copies every field once, in a few spans, into a record the program stack holds', () => {
  assert.ok(LAYOUT.size % 8 === 0 && LAYOUT.size <= MAX_RECORD, `size ${LAYOUT.size}`);
  assert.ok(LAYOUT.spans.length < SOCK_FIELDS.length, 'near fields share a copy');
  for (const f of SOCK_FIELDS) {
    const { offset, size } = OFFSETS.sock[f];
    const span = LAYOUT.spans.find((s) => offset >= s.from && offset + size <= s.from + s.length);
    assert.ok(span, `${f} is copied`);
    assert.equal(LAYOUT.at[f], span.to + (offset - span.from), f);
  }
  // spans never overlap in the record, and none overwrites the header (fd, inode, jiffies)
  const sorted = [...LAYOUT.spans].sort((a, b) => a.to - b.to);
  assert.ok(sorted[0]!.to >= RECORD_JIFFIES + 8);
  for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]!.to >= sorted[i - 1]!.to + sorted[i - 1]!.length);
});

test('a kernel whose field has another size is refused, not misread', () => {
  const odd: FdSocketOffsets = { ...OFFSETS, sock: { ...OFFSETS.sock, state: loc(18, 2) } };
  assert.throws(() => recordLayout(odd), /state is 2 bytes/);
});

test('the program asks for the file’s socket, loads the struct sock fields, probe-reads only past it, and writes the record', () => {
  const bytes = fdSocketProgram(OFFSETS, LAYOUT);
  const insns = Array.from({ length: bytes.length / 8 }, (_, i) => ({ code: bytes[i * 8]!, src: bytes[i * 8 + 1]! >> 4, off: bytes.readInt16LE(i * 8 + 2), imm: bytes.readInt32LE(i * 8 + 4) }));
  const calls = insns.filter((x) => x.code === 0x85).map((x) => x.imm);
  const past = LAYOUT.spans.filter((s) => s.from + s.length > OFFSETS.sockSize).length;
  assert.ok(past > 0 && past < LAYOUT.spans.length);
  assert.equal(calls.filter((h) => h === HELPER.probeReadKernel).length, 1 + past, 'the inode, and the spans past struct sock');
  assert.deepEqual([calls[0], calls.at(-1)], [HELPER.sockFromFile, HELPER.seqWrite]);
  // every field of struct sock loaded from the sock pointer (r8) at its offset
  const loadsFromSock = insns.filter((x) => (x.code & 0x07) === 0x01 && x.src === 8).map((x) => x.off);
  for (const f of SOCK_FIELDS) {
    const { offset, size } = OFFSETS.sock[f];
    if (offset + size <= OFFSETS.sockSize) assert.ok(loadsFromSock.includes(offset), `${f} loaded`);
  }
  assert.equal(insns.at(-1)!.code, 0x95, 'ends in exit');
});

/** One record as the program writes it. */
function record(fields: Partial<Record<SockField, number | number[]>>, fd: number, inode: number, jiffies = JIFFIES): Buffer {
  const b = Buffer.alloc(LAYOUT.size);
  b.writeUInt32LE(fd, RECORD_FD);
  b.writeBigUInt64LE(BigInt(inode), RECORD_INODE);
  b.writeBigUInt64LE(BigInt(jiffies), RECORD_JIFFIES);
  const base: Partial<Record<SockField, number | number[]>> = { protocol: 6, type: 1, ...fields };
  for (const [name, v] of Object.entries(base) as [SockField, number | number[]][]) {
    const at = LAYOUT.at[name];
    const size = OFFSETS.sock[name].size;
    if (Array.isArray(v)) Buffer.from(v).copy(b, at);
    else if (name === 'dport') b.writeUInt16BE(v, at);
    else if (size === 1) b.writeUInt8(v, at);
    else if (size === 2) b.writeUInt16LE(v, at);
    else if (size === 4) b.writeUInt32LE(v >>> 0, at);
    else b.writeBigUInt64LE(BigInt(v), at);
  }
  return b;
}

test('an established IPv4 connection: addresses, ports (local host order, remote network order), queues, no timer', () => {
  const rec = record({ family: 2, state: 1, rcvSaddr: [127, 0, 0, 1], daddr: [10, 1, 2, 3], num: 41000, dport: 8080, rcvNxt: 5000, copiedSeq: 4000, writeSeq: 0x10, sndUna: 0xfffffff0, uid: 1000 }, 7, 991);
  const [c] = fdSocketConnections(rec, rec.length, LAYOUT, HZ);
  assert.deepEqual(
    { ...c },
    { fd: 7, protocol: 'tcp', local: { address: '127.0.0.1', port: 41000 }, remote: { address: '10.1.2.3', port: 8080 }, state: 'ESTABLISHED', inode: 991, sendQueue: 0x20, recvQueue: 1000, timer: { kind: 'none', expiresMs: 0 }, retransmits: 0, uid: 1000 },
  );
});

test('a listener reports its backlog; IPv6 addresses in RFC 5952 spelling; an unread-data clamp at 0', () => {
  const v6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  const listen = record({ family: 10, state: 10, v6RcvSaddr: v6, num: 443, ackBacklog: 3, maxAckBacklog: 511 }, 3, 5);
  const odd = record({ family: 2, state: 1, rcvNxt: 10, copiedSeq: 20 }, 4, 6);
  const conns = fdSocketConnections(Buffer.concat([listen, odd]), listen.length * 2, LAYOUT, HZ);
  assert.deepEqual([conns[0]!.protocol, conns[0]!.local, conns[0]!.remote, conns[0]!.state], ['tcp6', { address: '2001:db8::1', port: 443 }, { address: '::', port: 0 }, 'LISTEN']);
  // the backlog waiting; its limit is not a send queue (procfs prints 0 there too)
  assert.deepEqual([conns[0]!.recvQueue, conns[0]!.sendQueue], [3, 0]);
  assert.equal(conns[1]!.recvQueue, 0, 'copied_seq ahead of rcv_nxt for a moment: 0, as inet_diag clamps');
});

test('timers as inet_diag sets them: retransmit, zero-window probe, keepalive; a due timer is 0 ms', () => {
  const retrans = record({ family: 2, state: 1, icskPending: 1, icskRetransmits: 2, retransmitTimerExpires: JIFFIES + 50 }, 3, 1);
  const probe = record({ family: 2, state: 1, icskPending: 3, icskProbesOut: 4, retransmitTimerExpires: JIFFIES + 250 }, 4, 2);
  const keepalive = record({ family: 2, state: 1, keepaliveTimerPprev: 0xffff8880_0000_0000, icskProbesOut: 1, keepaliveTimerExpires: JIFFIES + 7250 }, 5, 3);
  const due = record({ family: 2, state: 1, keepaliveTimerPprev: 1, keepaliveTimerExpires: JIFFIES - 10 }, 6, 4);
  const delack = record({ family: 2, state: 1, icskPending: 2 }, 7, 5);
  const data = Buffer.concat([retrans, probe, keepalive, due, delack]);
  const timers = fdSocketConnections(data, data.length, LAYOUT, HZ).map((c) => [c.timer?.kind, c.timer?.expiresMs, c.timer?.probes, c.retransmits]);
  assert.deepEqual(timers, [
    ['retransmit', 200, 2, 2],
    ['zero_window_probe', 1000, 4, 0],
    ['keepalive', 29000, 1, 0],
    ['keepalive', 0, 0, 0],
    ['none', 0, undefined, 0],
  ]);
});

test('records of other families, a socket seen again on a higher fd, and a partial record at the end, are skipped', () => {
  const unix = record({ family: 1, state: 1 }, 3, 1);
  const tcp = record({ family: 2, state: 1 }, 4, 2);
  const dup = record({ family: 2, state: 1 }, 9, 2);
  const data = Buffer.concat([unix, tcp, dup, tcp.subarray(0, 40)]);
  assert.deepEqual(fdSocketConnections(data, data.length, LAYOUT, HZ).map((c) => c.fd), [4]);
  assert.deepEqual(fdSocketConnections(data, 0, LAYOUT, HZ), []);
});

test('peers shared by many connections share one endpoint object', () => {
  const a = record({ family: 2, state: 1, daddr: [10, 0, 0, 9], dport: 443, num: 1000 }, 3, 1);
  const b = record({ family: 2, state: 1, daddr: [10, 0, 0, 9], dport: 443, num: 1001 }, 4, 2);
  const [x, y] = fdSocketConnections(Buffer.concat([a, b]), a.length * 2, LAYOUT, HZ);
  assert.equal(x!.remote, y!.remote);
  assert.notEqual(x!.local, y!.local);
});

test('HZ from jiffies beside the monotonic clock: each choice recognised; the minutes around boot+300 s refused', () => {
  const at = (hz: number, seconds: number) => 0x1_0000_0000 - 300 * hz + Math.floor(seconds * hz);
  for (const hz of [100, 250, 300, 1000]) {
    for (const seconds of [20, 1200, 86_400 * 30]) assert.equal(hzFromJiffies(at(hz, seconds) + 1, seconds * 1e9), hz, `${hz} Hz at ${seconds} s`);
  }
  assert.equal(hzFromJiffies(at(250, 300), 300e9), undefined);
  assert.equal(hzFromJiffies(12345, 1200e9), undefined, 'no choice fits');
});

test('chunk by chunk, with no size hint: every socket once, however many, duplicates and inode 0 included', () => {
  const recs: Buffer[] = [];
  for (let i = 0; i < 3000; i++) recs.push(record({ family: 2, state: 1, num: 1000 + (i % 60000) }, 10 + i, i % 2500));
  const data = Buffer.concat(recs);
  const decoder = new FdSocketDecoder(LAYOUT, HZ, 0);
  // three chunks of whole records, as the iterator's reads give them
  const third = Math.floor(recs.length / 3) * LAYOUT.size;
  decoder.push(data.subarray(0, third), third);
  decoder.push(data.subarray(third, 2 * third), third);
  decoder.push(data.subarray(2 * third), data.length - 2 * third);
  const inodes = decoder.connections.map((c) => c.inode);
  assert.equal(inodes.length, 2500);
  assert.equal(new Set(inodes).size, 2500);
  assert.deepEqual(decoder.connections.slice(0, 2).map((c) => c.fd), [10, 11], 'each at its first (lowest) fd');
});

test('a timer’s milliseconds rounded up, as jiffies_to_msecs does where HZ does not divide 1000', () => {
  const rec = record({ family: 2, state: 1, keepaliveTimerPprev: 1, keepaliveTimerExpires: JIFFIES + 1 }, 3, 1);
  assert.equal(fdSocketConnections(rec, rec.length, LAYOUT, 300)[0]!.timer?.expiresMs, 4);
  assert.equal(fdSocketConnections(rec, rec.length, LAYOUT, 250)[0]!.timer?.expiresMs, 4);
  assert.equal(fdSocketConnections(rec, rec.length, LAYOUT, 1000)[0]!.timer?.expiresMs, 1);
});
