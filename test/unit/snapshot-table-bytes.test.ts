// The snapshot table written straight into bytes (tableLinesAscii) against the general layout
// (alignColumns over cell strings) it replaces for plain ASCII: byte for byte, for any mix of
// cells, single process or group; and it steps aside for anything the sanitizer had to touch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TCP_STATES, type Connection, type TimerInfo } from '../../src/model';
import { tableLinesAscii } from '../../src/views/output/snapshot-table-bytes';
import { snapshotTable, tableLines } from '../../src/views/output/snapshot-table';

const HEADER = ['FD', 'PROTO', 'LOCAL', 'REMOTE', 'STATE', 'SEND-Q', 'RECV-Q', 'TIMER'];
const small = fc.oneof(fc.constant(undefined), fc.nat({ max: 9 }), fc.nat({ max: 4_000_000_000 }));
const timer: fc.Arbitrary<TimerInfo | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({ kind: fc.constantFrom('none', 'retransmit', 'keepalive', 'time_wait', 'zero_window_probe'), expiresMs: fc.nat({ max: 10_000_000 }), probes: fc.option(fc.nat({ max: 9 }), { nil: undefined }) }) as fc.Arbitrary<TimerInfo>,
);
const address = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('::ffff:127.0.0.1', '*', 'a\u001bb', 'caf\u00e9', 'x\\y', ''));
const connection: fc.Arbitrary<Connection> = fc.record({
  fd: small,
  protocol: fc.constantFrom('tcp', 'tcp6'),
  local: fc.record({ address, port: fc.nat({ max: 65535 }) }),
  remote: fc.record({ address, port: fc.nat({ max: 65535 }) }),
  state: fc.constantFrom(...TCP_STATES),
  inode: fc.nat(),
  sendQueue: small,
  recvQueue: small,
  timer,
  pid: small,
}) as fc.Arbitrary<Connection>;

test('byte for byte what alignColumns lays out, whenever every cell is plain ASCII', () => {
  let fast = 0;
  fc.assert(
    fc.property(fc.array(connection, { maxLength: 12 }), fc.boolean(), (conns, group) => {
      const header = group ? ['PID', ...HEADER] : HEADER;
      const general = tableLines(conns, group).join('\n') + '\n';
      const ascii = tableLinesAscii(header, conns, group);
      if (ascii === undefined) {
        // only when the general layout holds something beyond printable ASCII, or a backslash
        assert.match(general, /[^\x20-\x7e\n]|\\/);
      } else {
        fast++;
        assert.equal(ascii.toString('latin1'), general);
      }
    }),
    { numRuns: 400 },
  );
  assert.ok(fast > 100, `the fast layout was taken ${fast} times`);
});

test('snapshotTable: colors and a hostile address take the general way, and still print the same rows', () => {
  const conn = (address: string): Connection => ({ fd: 3, protocol: 'tcp', local: { address, port: 80 }, remote: { address: '10.0.0.1', port: 5000 }, state: 'ESTABLISHED', inode: 1, sendQueue: 0, recvQueue: 0 });
  const p = { pid: 1, command: 'caf\u00e9 \u2615', cmdline: 'x', user: 'root' };
  const hostile = snapshotTable(p, 'all', [conn('1.2.3.4\u001b[2J')], false);
  assert.match(hostile, /1\.2\.3\.4\\x1b\[2J:80/);
  const plain = snapshotTable(p, 'all', [conn('1.2.3.4')], false);
  const colored = snapshotTable(p, 'all', [conn('1.2.3.4')], true);
  assert.equal(colored.replace(/\x1b\[[0-9;]*m/g, ''), plain);
  assert.match(plain, /^PID 1 \(caf\u00e9 \u2615\)/, 'a header line beyond ASCII, before the bytes of the table');
});
