// Property tests of the /proc/net/tcp{,6} parser: any text → no throw, and every number it
// emits within what the kernel can print; rows written the way the kernel writes them parse back
// to the values written; fields wider than the kernel prints them make the row malformed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import * as net from 'node:net';
import fc from 'fast-check';
import { parseNetTcpForInodes, parseNetTcpLine } from '../../src/sources/procfs/parse-net-tcp';
import { parseNetTcp } from '../helpers/oracles';
import { TCP_STATES, tcpStateCode, type Connection, type Protocol } from '../../src/model';

const U32 = 0xffffffff;
const RUNS = { numRuns: 3000 };

/** Everything a parsed row may hold, checked against the kernel's own ranges. */
function assertSane(c: Connection): void {
  for (const e of [c.local, c.remote]) {
    assert.ok(Number.isInteger(e.port) && e.port >= 0 && e.port <= 0xffff, `port ${e.port}`);
    assert.ok(net.isIP(e.address) !== 0, `address ${e.address}`);
  }
  assert.ok(TCP_STATES.includes(c.state));
  assert.ok(Number.isSafeInteger(c.inode) && c.inode >= 0, `inode ${c.inode}`);
  for (const n of [c.sendQueue, c.recvQueue, c.retransmits, c.uid]) {
    assert.ok(n !== undefined && Number.isInteger(n) && n >= 0 && n <= U32, `u32 field ${n}`);
  }
  if (c.timer) {
    assert.ok(Number.isInteger(c.timer.expiresMs) && c.timer.expiresMs >= 0 && c.timer.expiresMs <= U32 * 10, `expiresMs ${c.timer.expiresMs}`);
    if (c.timer.probes !== undefined) assert.ok(Number.isInteger(c.timer.probes) && c.timer.probes >= 0 && c.timer.probes <= U32);
  }
}

const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');

/** Address bytes as the kernel prints them: each 32-bit word as a host-order u32, %08X. */
function kernelAddress(bytes: Uint8Array): string {
  const b = Buffer.from(bytes);
  let out = '';
  for (let i = 0; i < b.length; i += 4) out += hex(endianness() === 'LE' ? b.readUInt32LE(i) : b.readUInt32BE(i), 8);
  return out;
}

/** Canonical address text from bytes, by Node (not by the code under test). */
function nodeAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const b = Buffer.from(bytes);
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return `::ffff:${[...b.subarray(12)].join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1); // WHATWG = RFC 5952 here
}

interface Row {
  protocol: Protocol;
  sl: number;
  local: Uint8Array;
  localPort: number;
  remote: Uint8Array;
  remotePort: number;
  state: number;
  tx: number;
  rx: number;
  timerKind: number;
  when: number;
  retrans: number;
  uid: number;
  probes: number;
  inode: number;
}

const rowArb = fc.constantFrom<Protocol>('tcp', 'tcp6').chain((protocol) => {
  const len = protocol === 'tcp' ? 4 : 16;
  return fc.record({
    protocol: fc.constant(protocol),
    sl: fc.nat(100_000),
    local: fc.uint8Array({ minLength: len, maxLength: len }),
    localPort: fc.integer({ min: 0, max: 0xffff }),
    remote: fc.uint8Array({ minLength: len, maxLength: len }),
    remotePort: fc.integer({ min: 0, max: 0xffff }),
    state: fc.constantFrom(...TCP_STATES.map((s) => tcpStateCode(s))),
    tx: fc.integer({ min: 0, max: U32 }),
    rx: fc.integer({ min: 0, max: U32 }),
    timerKind: fc.integer({ min: 0, max: 4 }),
    when: fc.integer({ min: 0, max: U32 }),
    retrans: fc.integer({ min: 0, max: U32 }),
    uid: fc.integer({ min: 0, max: U32 }),
    probes: fc.integer({ min: 0, max: 255 }),
    inode: fc.integer({ min: 1, max: U32 }),
  });
});

/** The kernel's format (get_tcp4_sock / get_tcp6_sock). */
function kernelLine(r: Row): string {
  return (
    `${String(r.sl).padStart(4)}: ${kernelAddress(r.local)}:${hex(r.localPort, 4)} ${kernelAddress(r.remote)}:${hex(r.remotePort, 4)} ` +
    `${hex(r.state, 2)} ${hex(r.tx, 8)}:${hex(r.rx, 8)} ${hex(r.timerKind, 2)}:${hex(r.when, 8)} ${hex(r.retrans, 8)} ` +
    `${String(r.uid).padStart(5)} ${String(r.probes).padStart(8)} ${r.inode} 1 0000000000000000 20 4 30 10 -1`
  );
}

test('any text: no throw, and every row emitted is within the kernel ranges', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), fc.constantFrom<Protocol>('tcp', 'tcp6'), (text, protocol) => {
      const c = parseNetTcpLine(text, protocol);
      if (c) assertSane(c);
      for (const row of parseNetTcp(text, protocol)) assertSane(row);
    }),
    RUNS,
  );
});

test('near-miss lines (a real row with one token replaced by hex/decimal junk): no throw, sane or rejected', () => {
  const junk = fc.oneof(
    fc.stringMatching(/^[0-9A-Fa-f]{1,40}$/),
    fc.stringMatching(/^[0-9]{1,40}$/),
    fc.stringMatching(/^[0-9A-F]{1,20}:[0-9A-F]{1,20}$/),
    fc.constantFrom('', ':', '-1', 'Infinity', 'NaN', '1e400', '0x10', ' '),
  );
  fc.assert(
    fc.property(rowArb, fc.nat(16), junk, (r, at, token) => {
      const fields = kernelLine(r).trim().split(/\s+/);
      fields[at % fields.length] = token;
      const c = parseNetTcpLine(fields.join(' '), r.protocol);
      if (c) assertSane(c);
    }),
    RUNS,
  );
});

test('round trip: a row printed as the kernel prints it parses back to the values printed', () => {
  fc.assert(
    fc.property(rowArb, (r) => {
      const c = parseNetTcpLine(kernelLine(r), r.protocol);
      assert.ok(c, kernelLine(r));
      assertSane(c);
      assert.equal(c.local.address, nodeAddress(r.local));
      assert.equal(c.remote.address, nodeAddress(r.remote));
      assert.deepEqual([c.local.port, c.remote.port, tcpStateCode(c.state), c.sendQueue, c.recvQueue, c.retransmits, c.uid, c.inode], [r.localPort, r.remotePort, r.state, r.tx, r.rx, r.retrans, r.uid, r.inode]);
      assert.equal(c.timer?.expiresMs, r.timerKind === 0 ? 0 : r.when * 10);
    }),
    RUNS,
  );
});

test('a field wider than the kernel prints it makes the row malformed (no 5e151 retransmits, no Infinity queue)', () => {
  // wider than the field even when it is all zeros: width, not value, is what the kernel fixes
  const tooWide = fc.stringMatching(/^[0-9A-F]{9,160}$/);
  fc.assert(
    fc.property(rowArb, tooWide, fc.constantFrom('tx', 'rx', 'retrans', 'when', 'port', 'state'), (r, wide, which) => {
      const fields = kernelLine(r).trim().split(/\s+/);
      const [txq, rxq] = fields[4]!.split(':');
      const tk = fields[5]!.split(':')[0];
      if (which === 'tx') fields[4] = `${wide}:${rxq}`;
      if (which === 'rx') fields[4] = `${txq}:${wide}`;
      if (which === 'when') fields[5] = `${tk}:${wide}`;
      if (which === 'retrans') fields[6] = wide;
      if (which === 'port') fields[1] = `${fields[1]!.split(':')[0]}:${wide.slice(0, 5 + (wide.length % 4))}`;
      if (which === 'state') fields[3] = wide.slice(0, 3 + (wide.length % 4));
      assert.equal(parseNetTcpLine(fields.join(' '), r.protocol), undefined, fields.join(' '));
    }),
    RUNS,
  );
  // the two reported cases, literally
  const base = kernelLine({ protocol: 'tcp', sl: 0, local: new Uint8Array([127, 0, 0, 1]), localPort: 80, remote: new Uint8Array([127, 0, 0, 1]), remotePort: 5000, state: 1, tx: 0, rx: 0, timerKind: 0, when: 0, retrans: 0, uid: 0, probes: 0, inode: 7 });
  const f = base.trim().split(/\s+/);
  assert.equal(parseNetTcpLine([...f.slice(0, 6), 'F'.repeat(126), ...f.slice(7)].join(' '), 'tcp'), undefined);
  assert.equal(parseNetTcpLine([...f.slice(0, 4), `${'F'.repeat(300)}:00000000`, ...f.slice(5)].join(' '), 'tcp'), undefined);
  // decimal fields too: a uid or inode past their ranges
  assert.equal(parseNetTcpLine([...f.slice(0, 7), '4294967296', ...f.slice(8)].join(' '), 'tcp'), undefined);
  assert.equal(parseNetTcpLine([...f.slice(0, 9), '9'.repeat(17), ...f.slice(10)].join(' '), 'tcp'), undefined);
});

test('parseNetTcpForInodes returns exactly parseNetTcp’s rows with the wanted inodes, on any table', () => {
  const table = fc.array(fc.oneof({ weight: 3, arbitrary: rowArb.map(kernelLine) }, { weight: 1, arbitrary: fc.string({ maxLength: 80 }) }), { maxLength: 12 });
  fc.assert(
    fc.property(table, fc.constantFrom<Protocol>('tcp', 'tcp6'), fc.array(fc.nat(20), { maxLength: 4 }), (lines, protocol, picks) => {
      const text = ['  sl  local_address rem_address   st', ...lines].join('\n');
      const all = parseNetTcp(text, protocol);
      const wanted = new Set(picks.map((i) => all[i % Math.max(1, all.length)]?.inode ?? 1));
      const expected = all.filter((c) => wanted.has(c.inode));
      assert.deepEqual(parseNetTcpForInodes(text, protocol, wanted), expected);
      assert.deepEqual(parseNetTcpForInodes(Buffer.from(text, 'latin1'), protocol, wanted), expected);
    }),
    { numRuns: 1000 },
  );
});
