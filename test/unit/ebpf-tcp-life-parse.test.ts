// The tcp-life parser on real bpftrace output (test/fixtures/ebpf, see its README) and on
// malformed lines.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseTcpLifeLine, type TcpLifeLine } from '../../src/sources/ebpf/tcp-life-parse';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/ebpf');
interface Truth {
  clientPid: number;
  serverPid: number;
  connections: Array<{ local: { address: string; port: number }; remote: { address: string; port: number }; clientSent: number; clientReceived: number }>;
}
const truth = JSON.parse(readFileSync(path.join(FIXTURES, 'tcp-life.json'), 'utf8')) as Truth;

function parseFile(name: string): TcpLifeLine[] {
  return readFileSync(path.join(FIXTURES, name), 'utf8')
    .split('\n')
    .map(parseTcpLifeLine)
    .filter((l): l is TcpLifeLine => l !== undefined);
}

type Started = Extract<TcpLifeLine, { kind: 'started' }>;
type Ended = Extract<TcpLifeLine, { kind: 'ended' }>;

test('client side: a started and an ended line per connection, with its tuple, pid, times and bytes', () => {
  const lines = parseFile('tcp-life-client.txt');
  assert.deepEqual(lines.filter((l) => l.kind === 'malformed'), []);
  assert.equal(lines[0]?.kind, 'ready');
  assert.ok(lines.filter((l) => l.kind === 'heartbeat').length >= 10);
  const started = lines.filter((l): l is Started => l.kind === 'started');
  const ended = lines.filter((l): l is Ended => l.kind === 'ended');
  assert.equal(started.length, truth.connections.length);
  assert.equal(ended.length, truth.connections.length);
  for (const c of truth.connections) {
    const s = started.find((l) => l.local.port === c.local.port)!;
    const e = ended.find((l) => l.local.port === c.local.port)!;
    assert.ok(s && e, `connection from port ${c.local.port}`);
    for (const l of [s, e]) {
      assert.equal(l.pid, truth.clientPid);
      assert.deepEqual(l.local, c.local);
      assert.deepEqual(l.remote, c.remote);
      assert.equal(l.protocol, c.local.address.includes(':') ? 'tcp6' : 'tcp');
    }
    assert.equal(e.startNs, s.ns, 'the end carries the start it was keyed with');
    assert.ok(e.ns > s.ns);
    assert.equal(e.bytesSent, c.clientSent);
    // bytes_received counts the server's FIN
    assert.equal(e.bytesReceived, c.clientReceived + 1);
    assert.equal(e.segmentsSent, 1);
    assert.equal(e.segmentsReceived, 1);
    assert.ok(e.srttUs > 0);
    assert.equal(e.cookie, undefined, 'no cookie was ever asked for these sockets');
  }
});

test('server side: the accepted sockets are the server\'s by listening port, with exact starts', () => {
  const lines = parseFile('tcp-life-server.txt');
  assert.deepEqual(lines.filter((l) => l.kind === 'malformed'), []);
  const ended = lines.filter((l): l is Ended => l.kind === 'ended');
  assert.equal(ended.length, truth.connections.length);
  for (const c of truth.connections) {
    const e = ended.find((l) => l.remote.port === c.local.port)!;
    assert.ok(e, `accepted from port ${c.local.port}`);
    assert.equal(e.pid, truth.serverPid);
    assert.deepEqual(e.local, c.remote);
    assert.deepEqual(e.remote, c.local);
    assert.equal(e.bytesSent, c.clientReceived);
    assert.equal(e.bytesReceived, c.clientSent + 1);
    assert.ok(e.startNs !== undefined && e.startNs < e.ns);
  }
});

test('malformed lines are reported, never thrown, and never become events', () => {
  const good = 'E 1284893141850 30644 2 127.0.0.1 ::ffff:127.0.0.1 38996 127.0.0.1 ::ffff:127.0.0.1 37271 1284879464069 5 100 102 8 1 1 0 1007 0';
  assert.equal(parseTcpLifeLine(good)?.kind, 'ended');
  const cases: Array<[string, RegExp]> = [
    ['E 1284893141850 30644 2 127.0.0.1', /expected 20 fields/],
    [good.replace(' 30644 ', ' x30644 '), /not a number/],
    [good.replace(' 2 127.0.0.1 ', ' 7 127.0.0.1 '), /address family 7/],
    [good.replace(' 127.0.0.1 ::ffff', ' 127.0.0.999 ::ffff'), /unreadable address/],
    [good.replace(' 38996 ', ' 70000 '), /unreadable address/],
    [good.replace(' 30644 ', ' 0 '), /pid 0/],
    ['S 1 2 10 0.0.0.0 ::1::2 3 0.0.0.0 ::1 4', /unreadable address/],
    ['R', /timestamp/],
    ['H -5', /timestamp/],
    ['ERROR: something bpftrace said', /unknown line/],
    ['Attaching 5 probes...', /unknown line/],
  ];
  for (const [line, why] of cases) {
    const p = parseTcpLifeLine(line);
    assert.equal(p?.kind, 'malformed', line);
    assert.match((p as { why: string }).why, why, line);
  }
  assert.equal(parseTcpLifeLine(''), undefined);
  assert.equal(parseTcpLifeLine('   '), undefined);
  assert.deepEqual(parseTcpLifeLine('Lost 12 events'), { kind: 'lost', count: 12 });
});

test('timestamps beyond 2^53 ns stay exact (bigint); v6 addresses come out in the model\'s spelling', () => {
  const p = parseTcpLifeLine('S 18446744073709551000 42 10 0.0.0.0 0:0:0:0:0:ffff:7f00:1 80 0.0.0.0 fe80:0:0:0:0:0:0:1 443');
  assert.equal(p?.kind, 'started');
  const s = p as Started;
  assert.equal(s.ns, 18446744073709551000n);
  assert.deepEqual(s.local, { address: '::ffff:127.0.0.1', port: 80 });
  assert.deepEqual(s.remote, { address: 'fe80::1', port: 443 });
});
