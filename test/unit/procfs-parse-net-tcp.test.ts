import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { TCP_STATES, type Connection, type Protocol } from '../../src/model';
import { parseNetTcpForInodes, parseNetTcpLine } from '../../src/sources/procfs/parse-net-tcp';
import { parseNetTcp } from '../helpers/oracles';

const FIXTURES = path.join(__dirname, '../../../test/fixtures/procfs');
const fixture = (name: string): string => readFileSync(path.join(FIXTURES, name), 'latin1');
// the hex words in the fixtures are as a little-endian kernel prints them
const skip = endianness() !== 'LE' && 'fixtures were captured on a little-endian host';

function byInode(rows: Connection[], inode: number): Connection {
  const row = rows.find((r) => r.inode === inode);
  assert.ok(row, `no row with inode ${inode}`);
  return row;
}

describe('parseNetTcp on rows captured from this kernel', { skip }, () => {
  interface Expected {
    inode: number;
    protocol: Protocol;
    state: string;
    local: { address: string; port: number };
    remote: { address: string; port: number };
  }
  // truth recorded by capture-loopback.js from Node's own view of each socket
  const expected = JSON.parse(fixture('loopback-expected.json')) as Expected[];
  const rows = [...parseNetTcp(fixture('tcp-loopback.txt'), 'tcp'), ...parseNetTcp(fixture('tcp6-loopback.txt'), 'tcp6')];

  it('finds every socket once', () => {
    assert.deepEqual(rows.map((r) => r.inode).sort(), expected.map((e) => e.inode).sort());
  });

  for (const e of expected) {
    it(`decodes inode ${e.inode}: ${e.protocol} ${e.local.address}:${e.local.port} ${e.state}`, () => {
      const row = byInode(rows, e.inode);
      assert.equal(row.protocol, e.protocol);
      assert.equal(row.state, e.state);
      assert.deepEqual(row.local, e.local);
      assert.deepEqual(row.remote, e.remote);
      assert.equal(row.uid, 0);
    });
  }

  it('covers IPv4, ::1 and IPv4-mapped addresses', () => {
    const addresses = new Set(rows.map((r) => r.local.address));
    for (const a of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '::']) assert.ok(addresses.has(a), a);
  });

  it('decodes the keepalive timer set by setKeepAlive(true, 60s)', () => {
    const keepalive = rows.filter((r) => r.timer?.kind === 'keepalive');
    assert.equal(keepalive.length, 1);
    assert.equal(keepalive[0].timer?.expiresMs, 0x1758 * 10);
    assert.equal(keepalive[0].timer?.probes, 0);
  });
});

describe('parseNetTcp states, timers, queues', { skip }, () => {
  const rows = parseNetTcp(fixture('tcp-states.txt'), 'tcp');

  it('maps every state code 01..0C to its name', () => {
    const codes = rows.slice(0, 12).map((r) => r.state);
    assert.deepEqual(codes, [...TCP_STATES]);
  });

  it('decodes addresses, ports, queues, retransmits, uid and inode', () => {
    assert.deepEqual(rows[0], {
      protocol: 'tcp',
      local: { address: '10.0.0.5', port: 443 },
      remote: { address: '192.168.1.20', port: 51000 },
      state: 'ESTABLISHED',
      inode: 1001,
      sendQueue: 0x10,
      recvQueue: 0x20,
      retransmits: 3,
      uid: 1000,
      timer: { kind: 'retransmit', expiresMs: 200 },
    });
    assert.deepEqual(rows[9].local, { address: '0.0.0.0', port: 443 });
    assert.equal(rows[9].recvQueue, 0x80);
  });

  it('decodes each timer kind with its expiry in ms (ticks of 10 ms)', () => {
    const timer = (inode: number, state?: string): Connection['timer'] =>
      rows.find((r) => r.inode === inode && (state === undefined || r.state === state))?.timer;
    assert.deepEqual(timer(1002), { kind: 'retransmit', expiresMs: 1000 });
    assert.deepEqual(timer(1004), { kind: 'zero_window_probe', expiresMs: 500, probes: 2 });
    assert.deepEqual(timer(1005), { kind: 'keepalive', expiresMs: 30_000, probes: 0 });
    assert.deepEqual(timer(0, 'TIME_WAIT'), { kind: 'time_wait', expiresMs: 60_000 });
    assert.deepEqual(timer(1007), { kind: 'none', expiresMs: 0 });
    assert.deepEqual(timer(4294967296), { kind: 'keepalive', expiresMs: 5000, probes: 3 });
  });

  it('keeps time-wait and request sockets, whose inode and uid are 0', () => {
    const tw = rows.find((r) => r.state === 'TIME_WAIT');
    assert.equal(tw?.inode, 0);
    assert.equal(tw?.uid, 0);
    assert.equal(rows.find((r) => r.state === 'SYN_RECV')?.inode, 0);
  });

  it('reads a 64-bit-sized inode and a uid of 65534', () => {
    const row = byInode(rows, 4294967296);
    assert.equal(row.uid, 65534);
    assert.deepEqual(row.remote, { address: '192.168.1.30', port: 60000 });
  });
});

describe('parseNetTcp IPv6 addresses', { skip }, () => {
  const rows = parseNetTcp(fixture('tcp6-addresses.txt'), 'tcp6');
  const cases: Array<[number, string, string]> = [
    [2001, '2001:db8::1', '2001:db8:0:1::abcd'],
    [2002, 'fe80::1:2', 'fe80::aabb:ccff:fedd:eeff'],
    [2003, '::ffff:192.0.2.7', '::ffff:198.51.100.9'],
    [2004, '::', '::'],
    [2005, '2001:db8:1:2:3:4:5:6', '1::'],
    // longest zero run wins; on a tie, the first
    [2006, '2001:0:0:1::1', '2001:db8::1:0:0:1'],
  ];
  for (const [inode, local, remote] of cases) {
    it(`inode ${inode}: ${local} ↔ ${remote}`, () => {
      const row = byInode(rows, inode);
      assert.equal(row.protocol, 'tcp6');
      assert.equal(row.local.address, local);
      assert.equal(row.remote.address, remote);
    });
  }
  it('decodes ports at both ends of the range', () => {
    const row = byInode(rows, 2005);
    assert.equal(row.local.port, 1);
    assert.equal(row.remote.port, 65535);
  });
});

describe('malformed input', { skip }, () => {
  it('skips truncated, non-hex, unknown-state, empty and garbage lines without throwing', () => {
    const rows = parseNetTcp(fixture('tcp-malformed.txt'), 'tcp');
    assert.deepEqual(rows.map((r) => r.inode), [3001, 3002]);
    assert.equal(rows[1].local.address, '::1');
  });

  it('returns nothing for a header only, an empty string, or binary noise', () => {
    assert.deepEqual(parseNetTcp(fixture('tcp-header-only.txt'), 'tcp'), []);
    assert.deepEqual(parseNetTcp('', 'tcp'), []);
    assert.deepEqual(parseNetTcp('\0\xff\n\n::::\n', 'tcp6'), []);
  });

  it('parseNetTcpLine rejects the header', () => {
    assert.equal(parseNetTcpLine(fixture('tcp-header-only.txt').split('\n')[0], 'tcp'), undefined);
  });
});

describe('parseNetTcpForInodes (the polling fast path)', { skip }, () => {
  const files: Array<[string, Protocol]> = [
    ['tcp-loopback.txt', 'tcp'],
    ['tcp6-loopback.txt', 'tcp6'],
    ['tcp-states.txt', 'tcp'],
    ['tcp6-addresses.txt', 'tcp6'],
    ['tcp-malformed.txt', 'tcp'],
  ];

  for (const [name, protocol] of files) {
    it(`returns exactly the full parser's rows for the wanted inodes: ${name}`, () => {
      const text = fixture(name);
      const all = parseNetTcp(text, protocol);
      const inodes = all.map((r) => r.inode).filter((i) => i > 0);
      const wanted = new Set(inodes.filter((_, i) => i % 2 === 0));
      wanted.add(999_999_999); // wanted but absent (e.g. a unix socket's inode)
      const expected = all.filter((r) => wanted.has(r.inode));
      assert.deepEqual(parseNetTcpForInodes(text, protocol, wanted), expected);
      assert.deepEqual(parseNetTcpForInodes(Buffer.from(text, 'latin1'), protocol, wanted), expected);
      assert.deepEqual(parseNetTcpForInodes(text, protocol, new Set(inodes)), all.filter((r) => r.inode > 0));
    });
  }

  it('reads only the first `length` bytes of a reused buffer', () => {
    const text = fixture('tcp-states.txt');
    const buf = Buffer.alloc(text.length * 2, 0x20);
    const firstTwoLines = text.split('\n').slice(0, 2).join('\n') + '\n';
    buf.write(firstTwoLines, 0, 'latin1');
    buf.write(text, firstTwoLines.length, 'latin1'); // stale bytes past `length`
    const rows = parseNetTcpForInodes(buf, 'tcp', new Set([1001, 1002, 1010]), firstTwoLines.length);
    assert.deepEqual(rows.map((r) => r.inode), [1001]);
  });

  it('never matches inode 0 (time-wait, request sockets) and handles an empty wanted set', () => {
    const text = fixture('tcp-states.txt');
    assert.deepEqual(parseNetTcpForInodes(text, 'tcp', new Set([0])), []);
    assert.deepEqual(parseNetTcpForInodes(text, 'tcp', new Set()), []);
  });

  it('handles a last line without newline', () => {
    const text = fixture('tcp-states.txt').trimEnd();
    assert.deepEqual(parseNetTcpForInodes(text, 'tcp', new Set([4294967296])).map((r) => r.inode), [4294967296]);
  });
});
