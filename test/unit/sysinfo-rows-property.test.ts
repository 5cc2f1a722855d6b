// Property tests of the systeminformation row mapping: any row (any field types and text) → no
// throw, ports 0–65535, addresses Node-valid or kept as given; a row spelled the ways netstat/ss
// spell addresses maps to the canonical address of the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import fc from 'fast-check';
import { connectionFromSysinfo } from '../../src/sources/sysinfo/sysinfo-rows';
import { formatIpv6Groups, parseIpv6Text } from '../../src/sources/procfs/ip-format';

type Row = Parameters<typeof connectionFromSysinfo>[0];
const RUNS = { numRuns: 3000 };
const anyField = fc.oneof(fc.string({ maxLength: 40 }), fc.integer(), fc.double(), fc.constant(undefined), fc.constant(null), fc.ipV4(), fc.ipV6(), fc.stringMatching(/^\d{1,12}$/));

test('any row: no throw; ports in range; addresses valid or the text given', () => {
  const row = fc.record({
    protocol: fc.oneof(fc.constantFrom('tcp', 'tcp6', 'tcp4', 'tcp46', 'udp', 'TCP'), anyField),
    localAddress: anyField,
    localPort: anyField,
    peerAddress: anyField,
    peerPort: anyField,
    state: fc.oneof(fc.constantFrom('ESTABLISHED', 'ESTAB', 'LISTEN', 'TIME-WAIT', 'CLOSED'), anyField),
    pid: fc.integer(),
    process: fc.string(),
  });
  fc.assert(
    fc.property(row, (r) => {
      const c = connectionFromSysinfo(r as unknown as Row);
      if (!c) return;
      for (const [e, given] of [[c.local, r.localAddress], [c.remote, r.peerAddress]] as const) {
        assert.ok(Number.isInteger(e.port) && e.port >= 0 && e.port <= 0xffff, `port ${e.port}`);
        assert.ok(net.isIP(e.address) !== 0 || e.address === String(given ?? '').trim(), `address ${e.address} from ${String(given)}`);
      }
    }),
    RUNS,
  );
});

test('netstat/ss spellings of one address map to its canonical text', () => {
  fc.assert(
    fc.property(fc.ipV6(), fc.ipV4(), fc.integer({ min: 0, max: 0xffff }), fc.constantFrom('plain', 'bracket', 'zone', 'upper'), (v6, v4, port, how) => {
      const spelled = how === 'bracket' ? `[${v6}]` : how === 'zone' ? `${v6}%eth0` : how === 'upper' ? v6.toUpperCase() : v6;
      const c = connectionFromSysinfo({ protocol: 'tcp', localAddress: spelled, localPort: String(port), peerAddress: v4, peerPort: '0080', state: 'ESTAB', pid: 1 } as unknown as Row);
      assert.ok(c, spelled);
      assert.equal(c.local.address, formatIpv6Groups(parseIpv6Text(v6)!));
      assert.equal(net.isIPv6(c.local.address), true);
      assert.equal(c.local.port, port);
      assert.equal(c.remote.port, 80);
      // ss says 'tcp' for both families; netstat's tcp6 with a plain IPv4 address is IPv4-mapped
      const mapped = connectionFromSysinfo({ protocol: 'tcp6', localAddress: v4, localPort: String(port), peerAddress: v4, peerPort: '1', state: 'ESTABLISHED', pid: 1 } as unknown as Row);
      assert.equal(mapped?.local.address, `::ffff:${v4}`);
    }),
    RUNS,
  );
});

test('ports past 65535, negative or not decimal make the row malformed', () => {
  fc.assert(
    fc.property(fc.oneof(fc.integer({ min: 65536, max: Number.MAX_SAFE_INTEGER }).map(String), fc.constantFrom('-1', '1e3', '0x50', '80.0', ' 80x', '99999999999999999999999')), (port) => {
      const c = connectionFromSysinfo({ protocol: 'tcp', localAddress: '127.0.0.1', localPort: port, peerAddress: '127.0.0.1', peerPort: '80', state: 'ESTABLISHED', pid: 1 } as unknown as Row);
      assert.equal(c, undefined, port);
    }),
    RUNS,
  );
});
