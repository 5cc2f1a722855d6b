// Destroy notifications as the kernel sent them (test/fixtures/netlink/tcp-destroy.bin, made by
// capture-destroy.ts: six loopback sockets that moved known bytes and closed), and malformed
// variants of them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { destroyEventsOf } from '../../src/sources/netlink/destroy-listener';
import { nlmsgAlign } from '../../src/sources/netlink/sock-diag-constants';
import type { DestroyFixture } from '../fixtures/netlink/capture-destroy';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/netlink');
const bin = readFileSync(path.join(FIXTURES, 'tcp-destroy.bin'));
const truth = JSON.parse(readFileSync(path.join(FIXTURES, 'tcp-destroy.json'), 'utf8')) as DestroyFixture;

/** The fixture's notifications, one per datagram as the kernel sends them. */
function datagrams(): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < bin.length; ) {
    const len = bin.readUInt32LE(off);
    out.push(Buffer.from(bin.subarray(off, off + nlmsgAlign(len))));
    off += nlmsgAlign(len);
  }
  return out;
}

test('each captured notification becomes one ended event with the tuple, cookie and totals its socket had', () => {
  const grams = datagrams();
  assert.equal(grams.length, truth.messages.length);
  const cookies = new Set<string>();
  grams.forEach((g, i) => {
    const t = truth.messages[i]!;
    const { events, problem } = destroyEventsOf(g, 1_700_000_000_123 + i);
    assert.equal(problem, undefined);
    assert.equal(events.length, 1);
    const ev = events[0]!;
    assert.equal(ev.kind, 'ended');
    assert.equal(ev.atMs, 1_700_000_000_123 + i, 'stamped with the arrival time given');
    assert.equal(ev.protocol, t.protocol);
    assert.deepEqual(ev.local, t.local);
    assert.deepEqual(ev.remote, t.remote);
    assert.equal(ev.pid, undefined, 'destroy notifications name no owner');
    assert.match(ev.cookie ?? '', /^[1-9]\d*$/);
    cookies.add(ev.cookie!);
    // the message's state is always CLOSE: no state before the end is known
    assert.equal(ev.state, undefined);
    assert.equal(ev.totals?.bytesSent, t.bytesSent);
    // bytes_received counts the peer's FIN as one byte; every socket here got a FIN
    assert.equal(ev.totals?.bytesReceived, t.bytesReceived + 1);
    assert.ok((ev.totals?.segmentsSent ?? 0) >= 1 && (ev.totals?.segmentsReceived ?? 0) >= 1);
    assert.equal(ev.tcp?.bytesSent, t.bytesSent);
  });
  assert.equal(cookies.size, grams.length, 'a cookie per socket');
});

test('all six in one buffer decode the same as one by one', () => {
  const { events, problem } = destroyEventsOf(bin, 5);
  assert.equal(problem, undefined);
  assert.deepEqual(
    events.map((e) => `${e.local.port}>${e.remote.port}`),
    truth.messages.map((t) => `${t.local.port}>${t.remote.port}`),
  );
});

test('a socket that never had a peer (a listener, remote port 0) is not a connection', () => {
  const g = datagrams()[0]!;
  g.writeUInt16BE(0, 16 + 6); // idiag_dport
  assert.deepEqual(destroyEventsOf(g, 1).events, []);
});

test('a truncated notification yields no event and says why', () => {
  const g = datagrams()[0]!;
  for (const cut of [0, 8, 15, 16, 40, 87, g.length - 1]) {
    const { events, problem } = destroyEventsOf(g.subarray(0, cut), 1);
    assert.deepEqual(events, [], `cut at ${cut}`);
    if (cut >= 16) assert.ok(problem, `cut at ${cut} is reported`);
  }
});

test('nlmsg_len too small, too large, or an inet_diag_msg shorter than 72 bytes: no event, a problem', () => {
  for (const len of [0, 15, 100_000]) {
    const g = datagrams()[0]!;
    g.writeUInt32LE(len, 0);
    const r = destroyEventsOf(g, 1);
    assert.deepEqual(r.events, []);
    assert.match(r.problem ?? '', /nlmsg_len/);
  }
  const short = Buffer.from(datagrams()[0]!.subarray(0, 16 + 40));
  short.writeUInt32LE(short.length, 0);
  assert.match(destroyEventsOf(short, 1).problem ?? '', /inet_diag_msg of 40 bytes/);
});

test('a broken attribute list costs the totals, not the tuple', () => {
  const g = datagrams()[0]!;
  g.writeUInt16LE(60_000, 16 + 72); // first attribute claims more bytes than the message has
  const { events, problem } = destroyEventsOf(g, 1);
  assert.equal(problem, undefined);
  assert.equal(events.length, 1);
  assert.deepEqual(events[0]!.local, truth.messages[0]!.local);
  assert.equal(events[0]!.totals, undefined);
  assert.equal(events[0]!.tcp, undefined);
});

test('an NLMSG_ERROR or unknown message type is no event', () => {
  const err = Buffer.alloc(36);
  err.writeUInt32LE(36, 0);
  err.writeUInt16LE(2, 4);
  err.writeInt32LE(-105, 16);
  assert.deepEqual(destroyEventsOf(err, 1).events, []);
  assert.match(destroyEventsOf(err, 1).problem ?? '', /105/);
  const other = datagrams()[0]!;
  other.writeUInt16LE(99, 4);
  assert.deepEqual(destroyEventsOf(other, 1), { events: [] });
});
