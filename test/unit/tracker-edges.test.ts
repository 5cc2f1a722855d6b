// The edges of a watch in the tracker: the exit takes in the evidence gathered up to it (exact
// close times, final counters, the connections opened since the last poll), and a PID taken over
// by another process ends the watch of that PID unless the watch follows a name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import type { SocketEnded, SocketStarted } from '../../src/core/lifecycle-types';
import type { TrackerEvent } from '../../src/core/tracker-types';
import type { Connection, ProcessInfo, Snapshot } from '../../src/model';
import { conn, endpoint, proc, snap, summarize, tcp } from '../helpers/snapshots';

const PID = 4242;
const SERVER = '127.0.0.1:8080';

function ended(local: string, atMs: number, over: Partial<SocketEnded> = {}): SocketEnded {
  return { kind: 'ended', atMs, protocol: 'tcp', local: endpoint(local), remote: endpoint(SERVER), ...over };
}
function started(local: string, atMs: number, over: Partial<SocketStarted> = {}): SocketStarted {
  return { kind: 'started', atMs, protocol: 'tcp', local: endpoint(local), remote: endpoint(SERVER), ...over };
}
function closes(events: readonly TrackerEvent[]): Extract<TrackerEvent, { type: 'close' }>[] {
  return events.flatMap((e) => (e.type === 'close' ? [e] : []));
}
const totals = (n: number): SocketEnded['totals'] => ({ bytesSent: 100 * n, bytesReceived: 1000 * n, segmentsSent: n, segmentsReceived: n });

test('a program that did all its work after the last poll and exited is counted in full (eBPF ends with its PID)', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  // 40 connections, one request each, all between the first poll and the exit
  const life = [];
  for (let i = 0; i < 40; i++) {
    const local = `127.0.0.1:${50000 + i}`;
    life.push(started(local, 100 + 10 * i, { pid: PID, cookie: String(i) }));
    life.push(ended(local, 105 + 10 * i, { pid: PID, cookie: String(i), startedAtMs: 100 + 10 * i, totals: totals(1) }));
  }
  // another process's connection to the same server: not the target's
  life.push(ended('127.0.0.1:60000', 300, { pid: 999, cookie: 'x' }));
  const e = t.processGone(1000, life);
  const cs = closes(e);
  assert.equal(cs.length, 40);
  assert.ok(cs.every((c) => c.brief === true && c.closeTime === 'exact' && c.lifetimeBound === 'exact' && c.lifetimeMs === 5));
  assert.ok(cs.every((c) => c.conn.exchanges === 1), 'exchanges from the end totals');
  assert.equal(e.at(-1)?.type, 'exit');
  const s = t.stats(1000);
  assert.deepEqual([s.opened, s.closed, s.brief, s.live], [40, 40, 40, 0]);
  assert.equal(t.exited, true);
});

test('a child no poll ever saw: its ends count when the kernel proved it a member (eBPF), with its PID; without that proof they do not', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  // `run -- sh -c 'curl …; curl …'`: each curl forks, connects and exits between two polls
  const life = [
    started('127.0.0.1:51001', 100, { pid: 7001, member: true, cookie: 'k1' }),
    ended('127.0.0.1:51001', 140, { pid: 7001, member: true, cookie: 'k1', startedAtMs: 100, totals: totals(1) }),
    ended('127.0.0.1:51002', 240, { pid: 7002, member: true, cookie: 'k2', startedAtMs: 200, totals: totals(1) }),
    // a PID the kernel did not vouch for and no poll saw: another process's
    ended('127.0.0.1:51003', 300, { pid: 7003, cookie: 'k3', startedAtMs: 290 }),
  ];
  const cs = closes(t.poll(snap([]), 1000, life));
  assert.deepEqual(cs.map((c) => [c.conn.connection.local.port, c.conn.connection.pid, c.lifetimeMs, c.conn.openExact]), [
    [51001, 7001, 40, true],
    [51002, 7002, 40, true],
  ]);
  assert.deepEqual([t.stats(1000).opened, t.stats(1000).brief], [2, 2]);
});

test('connections open at the exit close at the kernel\'s time with its final counters; without an end, at the exit poll', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  const a: Connection = { ...conn({ inode: 1, local: '127.0.0.1:50001', remote: SERVER }), tcp: tcp({ cookie: 'a', segmentsSent: 2, segmentsReceived: 2, bytesSent: 20 }) };
  const b: Connection = { ...conn({ inode: 2, local: '127.0.0.1:50002', remote: SERVER }), tcp: tcp({ cookie: 'b', segmentsSent: 1, segmentsReceived: 1, bytesSent: 10 }) };
  t.poll(snap([a, b]), 1000);
  const e = t.processGone(2000, [ended('127.0.0.1:50001', 1700, { cookie: 'a', totals: { bytesSent: 90, bytesReceived: 900, segmentsSent: 9, segmentsReceived: 9 } })]);
  const [ca, cb] = closes(e);
  assert.deepEqual([ca?.conn.id, ca?.atMs, ca?.closeTime, ca?.lifetimeMs], ['c1', 1700, 'exact', 700]);
  assert.equal(ca?.conn.connection.tcp?.bytesSent, 90, 'final counters, not the last poll\'s');
  assert.equal(ca?.conn.exchanges, 9, 'the exchanges after the last poll count');
  assert.deepEqual([cb?.conn.id, cb?.atMs, cb?.closeTime], ['c2', 2000, 'poll']);
  assert.deepEqual(summarize(e).slice(-1), ['exit exited']);
  // the exit's closes are not churn, exact or not
  assert.equal(t.findings(2000).some((f) => f.kind === 'churn'), false);
});

test('an end at the exit of a socket nobody can name (destroy notification, no PID) is not counted as the target\'s', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  t.poll(snap([]), 1000);
  t.processGone(2000, [ended('127.0.0.1:50001', 1500, { cookie: 'z' })]);
  assert.deepEqual([t.stats(2000).opened, t.stats(2000).brief], [0, 0]);
  assert.deepEqual(t.unattributedBrief(), [{ remote: SERVER, count: 1 }]);
});

test('an inbound brief connection at exit is the target\'s by its listening port', () => {
  const t = createTracker();
  t.poll(snap([{ inode: 9, state: 'LISTEN', local: '0.0.0.0:8080', remote: '0.0.0.0:0' }]), 0);
  const e = t.processGone(1000, [{ kind: 'ended', atMs: 500, protocol: 'tcp', local: endpoint(SERVER), remote: endpoint('127.0.0.1:50009'), cookie: 'q' }]);
  assert.equal(closes(e).filter((c) => c.brief === true).length, 1);
  assert.equal(t.stats(1000).brief, 1);
});

test('a group member that leaves: its own ends (by its PID) are still its connections', () => {
  const a = proc({ pid: 100, startTime: '2024-01-01T00:00:00.000Z' });
  const b = proc({ pid: 101, startTime: '2024-01-01T00:00:00.000Z' });
  const group = (ps: ProcessInfo[]): Snapshot => ({ process: ps[0]!, processes: ps, source: 'procfs', connections: [] });
  const t = createTracker();
  t.poll(group([a, b]), 0);
  const e = t.poll(group([a]), 1000, [started('127.0.0.1:50001', 200, { pid: 101 }), ended('127.0.0.1:50001', 300, { pid: 101, startedAtMs: 200 })]);
  assert.deepEqual(summarize(e), ['close c1 100 brief', 'exit exited']);
});

const REUSED = { startTime: '2024-01-01T00:05:00.000Z', command: 'python3' };

test('PID reuse without adoption: the original exits (pid_reused) with its data, the newcomer is never watched', () => {
  const t = createTracker({ adoptNewProcess: false });
  t.poll(snap([]), 0);
  t.poll(snap([{ inode: 1, local: '127.0.0.1:50001', remote: SERVER, cookie: 'a' }]), 1000);
  // the original's last brief connection and the end of its live one come with the poll that finds the newcomer
  const life = [
    ended('127.0.0.1:50002', 1400, { pid: PID, cookie: 'b', startedAtMs: 1300 }),
    ended('127.0.0.1:50001', 1500, { cookie: 'a' }),
  ];
  const e = t.poll(snap([{ inode: 50, local: '127.0.0.1:51000', remote: SERVER }], REUSED), 2000, life);
  assert.deepEqual(summarize(e), ['close c2 100 brief', 'close c1 500', 'exit pid_reused']);
  const exit = e.find((x) => x.type === 'exit');
  assert.ok(exit?.type === 'exit');
  assert.equal(exit.process.command, 'node');
  assert.equal(closes(e)[1]?.closeTime, 'exact');
  assert.equal(t.exited, true);
  assert.equal(t.process?.command, 'node', 'the target stays the original');
  assert.equal(t.live().length, 0);
  const s = t.stats(2000);
  assert.deepEqual([s.opened, s.closed, s.brief, s.durationMs], [2, 2, 1, 2000]);
  // the newcomer's later polls change nothing
  assert.deepEqual(t.poll(snap([{ inode: 50 }, { inode: 51 }], REUSED), 3000), []);
  assert.deepEqual(t.processGone(4000), []);
  assert.equal(t.stats(4000).opened, 2);
  assert.equal(t.process?.command, 'node');
});

test('PID reuse in a group without adoption: the newcomer is refused, the others go on; all gone ends it', () => {
  const a = proc({ pid: 100, startTime: '2024-01-01T00:00:00.000Z' });
  const b = proc({ pid: 101, startTime: '2024-01-01T00:00:00.000Z' });
  const b2 = proc({ pid: 101, startTime: '2024-01-01T00:09:00.000Z', command: 'intruder' });
  const a2 = proc({ pid: 100, startTime: '2024-01-01T00:09:30.000Z', command: 'intruder' });
  const held = (pid: number, inode: number): Connection => ({ ...conn({ inode }), pid });
  const group = (ps: ProcessInfo[], cs: Connection[]): Snapshot => ({ process: ps[0]!, processes: ps, source: 'procfs', connections: cs });
  const t = createTracker({ adoptNewProcess: false });
  t.poll(group([a, b], [held(100, 1), held(101, 2)]), 0);
  const e = t.poll(group([a, b2], [held(100, 1), held(101, 7)]), 1000);
  assert.deepEqual(summarize(e), ['close c2 1000', 'exit pid_reused']);
  assert.deepEqual(t.processes.map((p) => p.pid), [100]);
  assert.deepEqual(summarize(t.poll(group([a, b2], [held(100, 1), held(101, 8)]), 2000)), [], 'the newcomer\'s sockets are not the target\'s');
  assert.equal(t.exited, false);
  const last = t.poll(group([a2, b2], [held(100, 9), held(101, 8)]), 3000);
  assert.deepEqual(summarize(last), ['close c1 3000', 'exit pid_reused']);
  assert.equal(t.exited, true);
  assert.equal(t.process?.command, 'node');
  assert.deepEqual(t.poll(group([a2, b2], [held(100, 9)]), 4000), []);
});

test('PID reuse with adoption (a watch that follows a name): the newcomer is watched afresh', () => {
  const t = createTracker({ adoptNewProcess: true });
  t.poll(snap([{ inode: 1 }]), 0);
  const e = t.poll(snap([{ inode: 50 }], REUSED), 1000);
  assert.deepEqual(summarize(e), ['close c1 1000', 'exit pid_reused', 'open c2 pre']);
  assert.equal(t.exited, false);
  assert.equal(t.process?.command, 'python3');
});

// likelyBrief (issue 20 item 5): an unowned brief connection to an endpoint the target talks to,
// which no socket outside its fd table connects to, is counted apart, never in the proven counts.
test('likelyBrief: unowned ends to a remote only the target talks to are counted apart, and churn says it rests on them', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  // the polls caught one of the client's connections to the server
  t.poll(snap([{ inode: 1, local: '127.0.0.1:50001', remote: SERVER }]), 1000);
  assert.deepEqual([...t.talksTo([endpoint(SERVER), endpoint('127.0.0.1:9999')])], [SERVER]);
  const hints = { likelyRemotes: new Set([SERVER]) };
  const e = t.poll(snap([]), 1100, [], hints);
  assert.deepEqual(closes(e).map((c) => c.conn.id), ['c1']);
  // then one connection per request, one between each two polls
  for (let i = 0; i < 20; i++) {
    const end = ended(`127.0.0.1:${51000 + i}`, 1150 + 40 * i, { cookie: `u${i}`, tcp: tcp({ cookie: `u${i}`, segmentsSent: 1, segmentsReceived: 1 }) });
    assert.deepEqual(t.poll(snap([]), 1200 + 40 * i, [end], hints).filter((x) => x.type === 'close'), [], 'no event for a connection whose owner is not proven');
  }
  const s = t.stats(2000);
  assert.deepEqual([s.opened, s.closed, s.brief, s.likelyBrief], [1, 1, 0, 20]);
  assert.deepEqual(t.unattributedBrief(), []);
  const churn = t.findings(2000).find((f) => f.kind === 'churn');
  assert.ok(churn);
  assert.equal(churn.likelyInWindow, 20);
  // the proven peer counts stay proven
  assert.deepEqual(t.peers(2000).map((p) => [p.peer, p.opened, p.closed]), [[SERVER, 1, 1]]);
});

test('likelyBrief: without the hint (a foreign socket to it, or no dump) the end stays owner unknown', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  t.poll(snap([{ inode: 1, local: '127.0.0.1:50001', remote: SERVER }]), 1000);
  t.poll(snap([{ inode: 1, local: '127.0.0.1:50001', remote: SERVER }]), 2000, [ended('127.0.0.1:51000', 1500, { cookie: 'z' })], { likelyRemotes: new Set() });
  t.poll(snap([{ inode: 1, local: '127.0.0.1:50001', remote: SERVER }]), 3000, [ended('127.0.0.1:51001', 2500, { cookie: 'y' })]);
  assert.equal(t.stats(3000).likelyBrief, 0);
  assert.deepEqual(t.unattributedBrief(), [{ remote: SERVER, count: 2 }]);
  // an end by the target's PID is proven, never "likely"
  t.poll(snap([{ inode: 1, local: '127.0.0.1:50001', remote: SERVER }]), 4000, [ended('127.0.0.1:51002', 3500, { cookie: 'x', pid: PID })], { likelyRemotes: new Set([SERVER]) });
  assert.deepEqual([t.stats(4000).brief, t.stats(4000).likelyBrief], [1, 0]);
});

test('likelyBrief at the exit: the ends taken in with the exit count apart too', () => {
  const t = createTracker();
  t.poll(snap([{ inode: 1, local: '127.0.0.1:50001', remote: SERVER }]), 0);
  t.processGone(1000, [ended('127.0.0.1:51000', 500, { cookie: 'a' }), ended('127.0.0.1:51001', 600, { cookie: 'b' })], { likelyRemotes: new Set([SERVER]) });
  assert.deepEqual([t.stats(1000).brief, t.stats(1000).likelyBrief], [0, 2]);
});
