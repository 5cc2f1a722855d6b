// The port-filter bytecode builder: exact bytes for small programs (checked against the kernel's
// rules in inet_diag_bc_audit / inet_diag_bc_run), and the evaluator over many ports.
import { runPortBytecode } from '../helpers/oracles';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_BYTECODE_BYTES,
  MAX_FILTER_RANGES,
  buildPortFilterBytecode,
  bytecodeLength,
  portRanges,
} from '../../src/sources/netlink/inet-diag-bytecode';
import { planPortFilter } from '../../src/sources/netlink/port-filter-plan';
import { buildInetDiagDumpRequest } from '../../src/sources/netlink/inet-diag-request';

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** {code, yes, no} as the host lays out struct inet_diag_bc_op */
function op(code: number, yes: number, no: number): number[] {
  return LE ? [code, yes, no & 0xff, no >> 8] : [code, yes, no >> 8, no & 0xff];
}

test('one local port: guard, GE leaf, JMP to accept; misses land at end + 4', () => {
  const bc = buildPortFilterBytecode({ local: [{ lo: 8080, hi: 8080 }], remote: [] });
  // total 20 bytes: accept = 20, reject = 24
  const expected = [
    ...op(3, 8, 24), ...op(0, 0, 8080), // S_LE 8080 else reject (24 - 0)
    ...op(2, 8, 16), ...op(0, 0, 8080), // S_GE 8080 else reject (24 - 8)
    ...op(1, 4, 4), // JMP accept (20 - 16)
  ];
  assert.deepEqual([...bc], expected);
  assert.equal(runPortBytecode(bc, 8080, 1), true);
  assert.equal(runPortBytecode(bc, 8079, 1), false);
  assert.equal(runPortBytecode(bc, 8081, 1), false);
});

test('two local ranges and one remote: inner node jumps to the right half, a local miss goes to the remote tree', () => {
  const bc = buildPortFilterBytecode({ local: [{ lo: 10, hi: 12 }, { lo: 20, hi: 20 }], remote: [{ lo: 5432, hi: 5432 }] });
  assert.equal(bc.length, bytecodeLength(2, 1));
  // local tree: guard(8) node(8) leaf(12) leaf(12) = 40; remote tree: guard(8) leaf(12) = 20; total 60
  const expected = [
    ...op(3, 8, 40), ...op(0, 0, 20), // 0: S_LE 20 else → remote tree at 40
    ...op(3, 8, 20), ...op(0, 0, 12), // 8: S_LE 12 else → right leaf at 28
    ...op(2, 8, 24), ...op(0, 0, 10), // 16: S_GE 10 else → 40
    ...op(1, 4, 36), // 24: JMP → 60
    ...op(2, 8, 12), ...op(0, 0, 20), // 28: S_GE 20 else → 40
    ...op(1, 4, 24), // 36: JMP → 60
    ...op(5, 8, 24), ...op(0, 0, 5432), // 40: D_LE 5432 else → reject 64
    ...op(4, 8, 16), ...op(0, 0, 5432), // 48: D_GE 5432 else → 64
    ...op(1, 4, 4), // 56: JMP → 60
  ];
  assert.deepEqual([...bc], expected);
  for (const [l, r, want] of [[10, 1, true], [11, 1, true], [12, 1, true], [13, 1, false], [20, 1, true], [9, 1, false], [21, 1, false], [99, 5432, true], [99, 5431, false]] as const) {
    assert.equal(runPortBytecode(bc, l, r), want, `local ${l} remote ${r}`);
  }
});

test('an empty filter rejects everything with one JMP to end + 4', () => {
  const bc = buildPortFilterBytecode({ local: [], remote: [] });
  assert.deepEqual([...bc], op(1, 4, 8));
  assert.equal(runPortBytecode(bc, 1, 1), false);
});

test('a balanced tree over 3,000 random ports accepts exactly them', () => {
  const ports = new Set<number>();
  // a fixed spread with irregular gaps (no randomness: the test must be reproducible)
  for (let i = 0; ports.size < 3000; i++) ports.add(1024 + ((i * 7919) % 60000) + (i % 3));
  const ranges = portRanges(ports, MAX_FILTER_RANGES);
  const bc = buildPortFilterBytecode({ local: ranges, remote: [] });
  assert.ok(bc.length <= MAX_BYTECODE_BYTES);
  for (let p = 0; p < 65536; p++) assert.equal(runPortBytecode(bc, p, 0), ports.has(p), `port ${p}`);
});

test('portRanges merges neighbours, then the smallest gaps down to the limit', () => {
  assert.deepEqual(portRanges([5, 1, 2, 3, 9], 10), [{ lo: 1, hi: 3 }, { lo: 5, hi: 5 }, { lo: 9, hi: 9 }]);
  assert.deepEqual(portRanges([1, 2, 3, 5, 9], 2), [{ lo: 1, hi: 5 }, { lo: 9, hi: 9 }]);
  assert.deepEqual(portRanges([1, 100, 102, 200], 1), [{ lo: 1, hi: 200 }]);
  assert.throws(() => buildPortFilterBytecode({ local: Array.from({ length: MAX_FILTER_RANGES + 10 }, (_, i) => ({ lo: 2 * i, hi: 2 * i })), remote: [] }), RangeError);
});

test('planPortFilter: listening ports and shared remote ports cover their sockets; others by local port', () => {
  const plan = planPortFilter(
    [
      { localPort: 8080, remotePort: 0, listening: true },
      { localPort: 8080, remotePort: 40001, listening: false },
      { localPort: 8080, remotePort: 40002, listening: false },
      { localPort: 50001, remotePort: 5432, listening: false },
      { localPort: 50002, remotePort: 5432, listening: false },
      { localPort: 50003, remotePort: 443, listening: false },
    ],
    true,
  );
  assert.deepEqual(plan, { local: [{ lo: 8080, hi: 8080 }, { lo: 50003, hi: 50003 }], remote: [{ lo: 5432, hi: 5432 }] });
  const noRemote = planPortFilter([{ localPort: 50001, remotePort: 5432, listening: false }, { localPort: 50002, remotePort: 5432, listening: false }], false);
  assert.deepEqual(noRemote, { local: [{ lo: 50001, hi: 50002 }], remote: [] });
});

test('a dump request carries the bytecode as attribute 1 after inet_diag_req_v2', () => {
  const bc = buildPortFilterBytecode({ local: [{ lo: 1, hi: 1 }], remote: [] });
  const req = buildInetDiagDumpRequest({ family: 2, states: 2, bytecode: bc });
  assert.equal(req.length, 16 + 56 + 4 + bc.length);
  const dv = new DataView(req.buffer, req.byteOffset, req.byteLength);
  assert.equal(dv.getUint32(0, LE), req.length);
  assert.equal(dv.getUint16(72, LE), 4 + bc.length);
  assert.equal(dv.getUint16(74, LE), 1);
  assert.deepEqual([...req.subarray(76)], [...bc]);
});
