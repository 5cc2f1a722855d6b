// Between-poll evidence (destroy notifications, eBPF) in the tracker: exact times for connections
// the polls saw, and brief connections the polls could not see, attributed only by a rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import type { SocketEnded, SocketLifecycleEvent, SocketStarted } from '../../src/core/lifecycle-types';
import type { TrackerEvent } from '../../src/core/tracker-types';
import { eventJson, summaryJson } from '../../src/views/output/json-shapes';
import { endpoint, snap, summarize, tcp, type ConnSpec } from '../helpers/snapshots';

const PID = 4242;
const LISTENER: ConnSpec = { inode: 900, state: 'LISTEN', local: '0.0.0.0:8080', remote: '0.0.0.0:0' };

function ended(local: string, remote: string, atMs: number, over: Partial<SocketEnded> = {}): SocketEnded {
  return { kind: 'ended', atMs, protocol: local.startsWith('[') ? 'tcp6' : 'tcp', local: endpoint(local), remote: endpoint(remote), state: 'FIN_WAIT1', ...over };
}
function started(local: string, remote: string, atMs: number, over: Partial<SocketStarted> = {}): SocketStarted {
  return { kind: 'started', atMs, protocol: 'tcp', local: endpoint(local), remote: endpoint(remote), ...over };
}
function closes(events: readonly TrackerEvent[]): Extract<TrackerEvent, { type: 'close' }>[] {
  return events.flatMap((e) => (e.type === 'close' ? [e] : []));
}

test('an ended event matching a live connection (cookie first, else tuple) gives its exact close time', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  t.poll(snap([{ inode: 1, cookie: '77', bytesSent: 10 }, { inode: 2 }]), 1000);
  const life: SocketLifecycleEvent[] = [
    // the cookie decides even when the tuple was given wrong
    ended('9.9.9.9:1', '9.9.9.9:2', 1234, { cookie: '77' }),
    ended('10.0.0.1:40002', '10.0.0.2:80', 1500),
  ];
  const e = t.poll({ ...snap([]), observedAtMs: 2000 }, 1990, life);
  const cs = closes(e);
  assert.deepEqual(cs.map((c) => [c.conn.id, c.atMs, c.lifetimeMs, c.closeTime, c.lifetimeBound]), [
    ['c1', 1234, 234, 'exact', 'lower'],
    ['c2', 1500, 500, 'exact', 'lower'],
  ]);
  const life2 = t.stats(2000).lifetimeMs;
  assert.deepEqual([life2?.p50, life2?.max], [234, 500]);
  assert.ok(Math.abs((life2?.p95 ?? 0) - 500) <= 5, 'p95 within the histogram\'s 1 %');
  const json = eventJson(PID, cs[0]!);
  assert.equal(json.closeTime, 'exact');
  assert.equal(json.lifetimeBound, 'lower');
  // not a brief connection: nothing extra was counted
  assert.deepEqual([t.stats(2000).opened, t.stats(2000).closed, t.stats(2000).brief], [2, 2, 0]);
});

test('an end after the poll\'s observation (an orphan destroyed later) keeps the poll\'s time', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  t.poll(snap([{ inode: 1, cookie: '5' }]), 1000);
  const [c] = closes(t.poll({ ...snap([]), observedAtMs: 2000 }, 2000, [ended('10.0.0.1:40001', '10.0.0.2:80', 2400, { cookie: '5' })]));
  assert.deepEqual([c?.atMs, c?.closeTime], [2000, 'poll']);
  // and its late destroy, drained at the next poll, is not a new brief connection
  const next = t.poll({ ...snap([]), observedAtMs: 3000 }, 3000, [ended('10.0.0.1:40001', '10.0.0.2:80', 2400, { cookie: '5' })]);
  assert.deepEqual(closes(next), []);
  assert.equal(t.stats(3000).brief, 0);
  assert.deepEqual(t.unattributedBrief(), []);
});

test('a started event of the target\'s PID gives a newly seen connection its exact open', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  const e = t.poll(snap([{ inode: 1 }, { inode: 2 }]), 1000, [
    started('10.0.0.1:40001', '10.0.0.2:80', 640, { pid: PID }),
    started('10.0.0.1:40002', '10.0.0.2:80', 700, { pid: 999 }), // another process: no say
  ]);
  const opens = e.flatMap((x) => (x.type === 'open' ? [x] : []));
  assert.deepEqual(opens.map((o) => [o.conn.id, o.conn.firstSeenMs, o.conn.openExact === true]), [
    ['c1', 640, true],
    ['c2', 1000, false],
  ]);
  assert.equal(eventJson(PID, opens[0]!).connection && (eventJson(PID, opens[0]!).connection as Record<string, unknown>).openTime, 'exact');
  // closed by a poll: the lifetime is then an upper bound; exactly ended: exact
  const [c1] = closes(t.poll(snap([{ inode: 2 }]), 2000));
  assert.deepEqual([c1?.lifetimeMs, c1?.lifetimeBound], [1360, 'upper']);
});

test('a started event that arrives a poll before its connection is seen still counts', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  t.poll(snap([]), 1000, [started('10.0.0.1:40001', '10.0.0.2:80', 990, { pid: PID })]);
  const e = t.poll(snap([{ inode: 1 }]), 2000);
  assert.equal(e.find((x) => x.type === 'open')?.type === 'open' && (e.find((x) => x.type === 'open') as Extract<TrackerEvent, { type: 'open' }>).conn.firstSeenMs, 990);
});

test('brief by PID (eBPF): one close event, exact lifetime, counted in opened, closed, lifetimes', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  const e = t.poll({ ...snap([]), observedAtMs: 1000 }, 1000, [
    ended('10.0.0.1:50000', '10.0.0.5:443', 420, { pid: PID, startedAtMs: 419.5, tcp: tcp({ bytesSent: 300, cookie: '1' }) }),
    ended('10.0.0.1:50001', '10.0.0.5:443', 430, { pid: 31337, startedAtMs: 400 }), // someone else's
  ]);
  assert.deepEqual(summarize(e), ['close c1 0.5 brief']);
  const c = closes(e)[0]!;
  assert.deepEqual([c.atMs, c.closeTime, c.lifetimeBound, c.brief, c.conn.exchanges], [420, 'exact', 'exact', true, 1]);
  const s = t.stats(1000);
  assert.deepEqual([s.opened, s.closed, s.brief, s.live, s.peak], [1, 1, 1, 0, 0]);
  assert.deepEqual(s.lifetimeMs, { p50: 0.5, p95: 0.5, max: 0.5 });
  const json = eventJson(PID, c);
  assert.equal(json.brief, true);
  assert.equal(json.lifetimeBound, 'exact');
  assert.deepEqual(t.unattributedBrief(), [], 'another PID\'s connection is not "owner unknown": its owner is known');
});

test('a tuple a poll saw close (no cookie) lives again between polls: the later life counts, a repeat of the old end does not', () => {
  // ab reusing a client port: the first connection on it was polled (no cookie: procfs, or a row
  // without tcp_info) and closed; the next on the same tuple opened and closed between two polls
  const t = createTracker();
  t.poll(snap([]), 0);
  t.poll(snap([{ inode: 1 }]), 1000);
  const first = closes(t.poll({ ...snap([]), observedAtMs: 2000 }, 2000, [ended('10.0.0.1:40001', '10.0.0.2:80', 1500, { pid: PID, member: true, startedAtMs: 900 })]));
  assert.deepEqual(first.map((c) => [c.conn.id, c.atMs, c.closeTime]), [['c1', 1500, 'exact']]);
  const later = t.poll({ ...snap([]), observedAtMs: 3000 }, 3000, [
    ended('10.0.0.1:40001', '10.0.0.2:80', 1500, { pid: PID, member: true, startedAtMs: 900 }), // the first one's end, read again
    ended('10.0.0.1:40001', '10.0.0.2:80', 2520, { pid: PID, member: true, startedAtMs: 2500, cookie: 'ebpf:2500' }),
  ]);
  assert.deepEqual(summarize(later), ['close c2 20 brief']);
  assert.deepEqual([t.stats(3000).opened, t.stats(3000).brief], [2, 1]);
});

test('a polled socket (no cookie) closes and its tuple lives again before the next poll: each end to its own life', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  t.poll(snap([{ inode: 1 }]), 1000);
  const e = t.poll({ ...snap([]), observedAtMs: 2000 }, 2000, [
    ended('10.0.0.1:40001', '10.0.0.2:80', 1200, { pid: PID, member: true, startedAtMs: 900, cookie: '41' }),
    ended('10.0.0.1:40001', '10.0.0.2:80', 1320, { pid: PID, member: true, startedAtMs: 1300, cookie: 'ebpf:1300' }),
  ]);
  const byId = closes(e).sort((a, b) => (a.conn.id < b.conn.id ? -1 : 1));
  assert.deepEqual(
    byId.map((c) => [c.conn.id, c.atMs, c.closeTime, c.brief === true]),
    [
      ['c1', 1200, 'exact', false],
      ['c2', 1320, 'exact', true],
    ],
  );
  assert.deepEqual([t.stats(2000).opened, t.stats(2000).closed, t.stats(2000).brief], [2, 2, 1]);
});

test('destroy notifications (no start times): a polled socket without a cookie closes, its tuple lives again later: counted', () => {
  // without root the ends carry the kernel's cookie but no start; the polled record had no cookie
  const t = createTracker();
  t.poll(snap([LISTENER]), 0);
  t.poll(snap([LISTENER, { inode: 1, local: '127.0.0.1:8080', remote: '127.0.0.1:51000' }]), 1000);
  const first = closes(t.poll({ ...snap([LISTENER]), observedAtMs: 2000 }, 2000, [ended('127.0.0.1:8080', '127.0.0.1:51000', 1500, { cookie: '41' })]));
  assert.deepEqual(first.map((c) => [c.conn.id, c.atMs, c.closeTime]), [['c2', 1500, 'exact']]);
  const later = t.poll({ ...snap([LISTENER]), observedAtMs: 3000 }, 3000, [
    ended('127.0.0.1:8080', '127.0.0.1:51000', 1500, { cookie: '41' }), // the first one's end again
    ended('127.0.0.1:8080', '127.0.0.1:51000', 2600, { cookie: '42' }),
  ]);
  assert.deepEqual(summarize(later), ['close c3 600 brief']); // no start known: bounded by the previous poll
  assert.deepEqual([t.stats(3000).opened, t.stats(3000).brief], [2, 1]);
});

test('brief by listening port: inbound to a port the target listens on (address or wildcard, v4-mapped too)', () => {
  const t = createTracker();
  t.poll(snap([LISTENER, { inode: 901, state: 'LISTEN', local: '127.0.0.1:9000', remote: '0.0.0.0:0' }]), 0);
  const e = t.poll({ ...snap([LISTENER, { inode: 901, state: 'LISTEN', local: '127.0.0.1:9000', remote: '0.0.0.0:0' }]), observedAtMs: 1000 }, 1000, [
    ended('127.0.0.1:8080', '127.0.0.1:51000', 300),
    ended('[::ffff:127.0.0.1]:8080', '[::ffff:127.0.0.1]:51001', 310),
    ended('127.0.0.1:9000', '127.0.0.1:51002', 320),
    ended('10.0.0.7:9000', '10.0.0.8:51003', 330), // 9000 listens on 127.0.0.1 only
    ended('127.0.0.1:51004', '127.0.0.1:8080', 340), // the client's end of a connection to the target: not the target's
    ended('0.0.0.0:8080', '0.0.0.0:0', 350, { state: 'LISTEN' }), // a listener of someone else
  ]);
  assert.deepEqual(summarize(e), ['close c3 300 brief', 'close c4 310 brief', 'close c5 320 brief']);
  for (const c of closes(e)) {
    assert.equal(c.lifetimeBound, 'upper'); // no start known: bounded by the previous poll
    assert.equal(c.atMs, Math.max(c.conn.lastSeenMs, 0));
  }
  assert.deepEqual(t.unattributedBrief(), [{ remote: '10.0.0.8:51003', count: 1 }]);
  const s = t.stats(1000);
  assert.deepEqual([s.opened, s.closed, s.brief, s.listening], [3, 3, 3, 2]);
});

test('never-attributed brief connections are counted apart per remote, bounded, never in the target\'s counts', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  const life: SocketEnded[] = [];
  for (let i = 0; i < 30; i++) life.push(ended(`10.0.0.1:${50000 + i}`, i < 20 ? '10.0.0.9:80' : '10.0.0.9:443', 100 + i));
  t.poll({ ...snap([]), observedAtMs: 1000 }, 1000, life);
  assert.deepEqual(t.unattributedBrief(), [{ remote: '10.0.0.9:80', count: 20 }, { remote: '10.0.0.9:443', count: 10 }]);
  const s = t.stats(1000);
  assert.deepEqual([s.opened, s.closed, s.brief], [0, 0, 0]);
  const summary = summaryJson({ pid: PID, tracker: t, nowMs: 1000 });
  assert.deepEqual(summary.unattributedBrief, [{ remote: '10.0.0.9:80', count: 20 }, { remote: '10.0.0.9:443', count: 10 }]);
  // the peer end of the target's own outbound connection is not owner-unknown either
  const u = createTracker();
  u.poll(snap([]), 0);
  u.poll(snap([{ inode: 1, local: '10.0.0.1:40001', remote: '10.0.0.2:80' }]), 1000);
  u.poll(snap([{ inode: 1, local: '10.0.0.1:40001', remote: '10.0.0.2:80' }]), 2000, [ended('10.0.0.2:80', '10.0.0.1:40001', 1500)]);
  assert.deepEqual(u.unattributedBrief(), []);
});

test('an end that races the poll (the socket still in this snapshot) waits for its close', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  t.poll(snap([{ inode: 1, cookie: '8' }]), 1000);
  t.poll({ ...snap([{ inode: 1, cookie: '8' }]), observedAtMs: 2000 }, 2000, [ended('10.0.0.1:40001', '10.0.0.2:80', 2001, { cookie: '8' })]);
  const [c] = closes(t.poll({ ...snap([]), observedAtMs: 3000 }, 3000));
  assert.deepEqual([c?.atMs, c?.closeTime], [2001, 'exact']);
  assert.equal(t.stats(3000).brief, 0);
});

test('brief connections carrying one exchange each make churn; lifetimes go in the percentiles', () => {
  const t = createTracker();
  t.poll(snap([LISTENER]), 0);
  let port = 50000;
  for (let p = 1; p <= 20; p++) {
    const life: SocketEnded[] = [];
    for (let k = 0; k < 3; k++) life.push(ended('127.0.0.1:8080', `127.0.0.1:${port++}`, p * 1000 - 500 + k * 100, { cookie: String(port), tcp: tcp({ bytesSent: 200, cookie: String(port) }) }));
    t.poll({ ...snap([LISTENER]), observedAtMs: p * 1000 }, p * 1000, life);
  }
  const s = t.stats(20_000);
  assert.deepEqual([s.opened, s.closed, s.brief, s.live, s.peak], [60, 60, 60, 0, 0]);
  const churn = t.findings(20_000).find((f) => f.kind === 'churn');
  assert.ok(churn, JSON.stringify(t.findings(20_000)));
  assert.equal(churn.basis, 'brief');
  assert.equal(churn.perMinute, 180);
  assert.equal(churn.medianExchanges, 1);
  assert.deepEqual(t.findingHistory().map((f) => [f.finding.kind, f.finding.basis]), [['churn', 'brief']]);
});

test('evidence at the first poll is about sockets that ended before the watch: ignored', () => {
  const t = createTracker();
  const e = t.poll(snap([LISTENER]), 0, [ended('127.0.0.1:8080', '127.0.0.1:50000', -5)]);
  assert.deepEqual(summarize(e), ['open c1 pre']);
  assert.equal(t.stats(0).brief, 0);
});

test('an ended event\'s counters count the traffic after the last poll (exchanges, bytes)', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  const seen = { ...snap([{ inode: 1, cookie: '9', bytesSent: 100 }]) };
  seen.connections[0]!.tcp = tcp({ cookie: '9', bytesSent: 100, segmentsSent: 4, segmentsReceived: 4 });
  t.poll(seen, 1000);
  // two more request/response pairs after that poll, then the socket was destroyed
  const last = tcp({ cookie: '9', bytesSent: 150, segmentsSent: 6, segmentsReceived: 6 });
  const [c] = closes(t.poll({ ...snap([]), observedAtMs: 2000 }, 2000, [ended('1.1.1.1:1', '1.1.1.1:2', 1800, { cookie: '9', tcp: last })]));
  assert.equal(c?.conn.exchanges, 6);
  assert.equal(c?.conn.connection.tcp?.bytesSent, 150);
  // counters older than the last poll's (a stale message) change nothing
  const t2 = createTracker();
  t2.poll(snap([]), 0);
  t2.poll(seen, 1000);
  const stale = tcp({ cookie: '9', bytesSent: 50, segmentsSent: 2, segmentsReceived: 2 });
  const [c2] = closes(t2.poll({ ...snap([]), observedAtMs: 2000 }, 2000, [ended('1.1.1.1:1', '1.1.1.1:2', 1800, { cookie: '9', tcp: stale })]));
  assert.equal(c2?.conn.exchanges, 4);
});

test('eBPF totals (no tcp_info) bring exchanges and bytes up to date at close too', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  const seen = { ...snap([{ inode: 1, cookie: '9', bytesSent: 100 }]) };
  seen.connections[0]!.tcp = tcp({ cookie: '9', bytesSent: 100, segmentsSent: 4, segmentsReceived: 4 });
  t.poll(seen, 1000);
  const totals = { bytesSent: 160, bytesReceived: 900, segmentsSent: 7, segmentsReceived: 7 };
  // matched by tuple: eBPF rarely has a cookie
  const [c] = closes(t.poll({ ...snap([]), observedAtMs: 2000 }, 2000, [ended('10.0.0.1:40001', '10.0.0.2:80', 1800, { totals, pid: 4242 })]));
  assert.equal(c?.closeTime, 'exact');
  assert.equal(c?.conn.exchanges, 7);
  assert.equal(c?.conn.connection.tcp?.bytesReceived, 900);
  assert.equal(c?.conn.connection.tcp?.cookie, '9', 'the cookie the polls saw is kept');
});
