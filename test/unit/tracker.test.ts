import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import { conn, inodes, proc, snap, summarize } from '../helpers/snapshots';

test('a connection opens at the first poll that sees it and closes at the first that misses it', () => {
  const t = createTracker();
  assert.deepEqual(summarize(t.poll(inodes(), 1000)), []);
  const opened = t.poll(inodes(7), 1100);
  assert.deepEqual(summarize(opened), ['open c1']);
  assert.equal(opened[0]?.type === 'open' && opened[0].conn.preexisting, false);
  assert.deepEqual(summarize(t.poll(inodes(7), 1200)), []);
  const closed = t.poll(inodes(), 1350);
  assert.deepEqual(summarize(closed), ['close c1 250']);
  const e = closed[0];
  assert.ok(e?.type === 'close');
  assert.equal(e.conn.firstSeenMs, 1100);
  assert.equal(e.conn.lastSeenMs, 1200);
  assert.equal(e.atMs, 1350);
  assert.equal(t.live().length, 0);
});

test('connections at the first poll open as preexisting and are not counted as opened', () => {
  const t = createTracker();
  const events = t.poll(inodes(1, 2), 0);
  assert.deepEqual(summarize(events), ['open c1 pre', 'open c2 pre']);
  t.poll(inodes(1, 2, 3), 100);
  const s = t.stats(100);
  assert.equal(s.opened, 1);
  assert.equal(s.live, 3);
  assert.deepEqual(
    t.live().map((c) => [c.id, c.preexisting]),
    [['c1', true], ['c2', true], ['c3', false]],
  );
});

test('events come in order: closes, state changes, opens', () => {
  const t = createTracker();
  t.poll(snap([{ inode: 1 }, { inode: 2 }]), 0);
  const events = t.poll(snap([{ inode: 3 }, { inode: 2, state: 'CLOSE_WAIT' }]), 100);
  assert.deepEqual(summarize(events), ['close c1 100', 'state c2 ESTABLISHED>CLOSE_WAIT', 'open c3']);
});

test('a state change is reported once with from/to and recorded in the state history', () => {
  const t = createTracker();
  t.poll(snap([{ inode: 1, state: 'SYN_SENT' }]), 0);
  const e = t.poll(snap([{ inode: 1 }]), 100);
  assert.deepEqual(summarize(e), ['state c1 SYN_SENT>ESTABLISHED']);
  assert.deepEqual(summarize(t.poll(snap([{ inode: 1 }]), 200)), []);
  assert.deepEqual(t.live()[0]?.states, [
    { state: 'SYN_SENT', atMs: 0 },
    { state: 'ESTABLISHED', atMs: 100 },
  ]);
});

test('a flapping connection keeps a bounded state history ending in its current state', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  let stateEvents = 0;
  for (let i = 1; i <= 1000; i++) {
    const state = i % 2 === 0 ? 'CLOSE_WAIT' : 'ESTABLISHED';
    stateEvents += t.poll(snap([{ inode: 1, state }]), i * 10).filter((e) => e.type === 'state').length;
  }
  assert.equal(stateEvents, 999);
  const c = t.live()[0];
  assert.ok(c);
  assert.equal(c.states.length, 16);
  assert.deepEqual(c.states[c.states.length - 1], { state: 'CLOSE_WAIT', atMs: 10_000 });
  assert.equal(c.firstSeenMs, 10);

  const small = createTracker({ stateHistorySize: 3 });
  for (let i = 0; i < 10; i++) small.poll(snap([{ inode: 1, state: i % 2 ? 'CLOSE_WAIT' : 'ESTABLISHED' }]), i);
  assert.equal(small.live()[0]?.states.length, 3);
});

test('emitted events are copies: later polls do not change them', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  const c = conn({ inode: 1, bytesSent: 10 });
  const [open] = t.poll(snap([c]), 100);
  assert.ok(open?.type === 'open');
  // a caller reusing its snapshot objects must not rewrite history either
  c.state = 'CLOSE_WAIT';
  if (c.tcp) c.tcp.bytesSent = 99;
  const [change] = t.poll(snap([c]), 200);
  t.poll(snap([{ inode: 1, state: 'LAST_ACK', bytesSent: 500 }]), 300);
  t.poll(snap([]), 400);
  assert.equal(open.conn.connection.state, 'ESTABLISHED');
  assert.equal(open.conn.connection.tcp?.bytesSent, 10);
  assert.equal(open.conn.lastSeenMs, 100);
  assert.equal(open.conn.states.length, 1);
  assert.equal(open.conn.exchanges, 1);
  assert.ok(change?.type === 'state');
  assert.equal(change.conn.connection.state, 'CLOSE_WAIT');
  assert.equal(change.conn.states.length, 2);
  // live() hands out copies too
  const t2 = createTracker();
  t2.poll(inodes(1), 0);
  const l = t2.live()[0];
  assert.ok(l);
  l.states.push({ state: 'LAST_ACK', atMs: 1 });
  assert.equal(t2.live()[0]?.states.length, 1);
});

test('an inode reused with another tuple is a close and an open', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  t.poll(snap([{ inode: 5, remote: '10.0.0.2:80' }]), 100);
  const e = t.poll(snap([{ inode: 5, remote: '10.0.0.3:443' }]), 200);
  assert.deepEqual(summarize(e), ['close c1 100', 'open c2']);
});

test('a changed socket cookie under the same key is a close and an open', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  t.poll(snap([{ inode: 5, cookie: '111' }]), 100);
  assert.deepEqual(summarize(t.poll(snap([{ inode: 5, cookie: '111' }]), 200)), []);
  assert.deepEqual(summarize(t.poll(snap([{ inode: 5, cookie: '222' }]), 300)), ['close c1 200', 'open c2']);
});

test('duplicate connections in one snapshot are one connection', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  const e = t.poll(snap([{ inode: 1, fd: 3 }, { inode: 1, fd: 9 }, { inode: 2 }]), 100);
  assert.deepEqual(summarize(e), ['open c1', 'open c2']);
  assert.equal(t.live()[0]?.connection.fd, 3);
  assert.equal(t.stats(100).live, 2);
});

test('empty snapshots are fine before, between and after connections', () => {
  const t = createTracker();
  assert.deepEqual(summarize(t.poll(snap([]), 0)), []);
  assert.deepEqual(summarize(t.poll(snap([]), 100)), []);
  t.poll(inodes(1), 200);
  assert.deepEqual(summarize(t.poll(snap([]), 300)), ['close c1 100']);
  assert.equal(t.stats(300).live, 0);
});

test('a stalled poll only widens the bounds: lifetimes come from the poll times passed in', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  t.poll(inodes(1, 2), 100);
  t.poll(inodes(1), 200);
  // the poll loop was stalled for 5 s
  const e = t.poll(inodes(), 5200);
  assert.deepEqual(summarize(e), ['close c1 5100']);
  assert.deepEqual(
    t.history().map((s) => [s.atMs, s.count]),
    [[0, 0], [100, 2], [200, 1], [5200, 0]],
  );
});

test('a clock stepping back never yields a negative lifetime', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  t.poll(inodes(1), 1000);
  const [close] = t.poll(inodes(), 400);
  assert.ok(close?.type === 'close');
  assert.equal(close.lifetimeMs, 0);
  assert.equal(close.atMs, 1000);
});

test('processGone closes every live connection and emits exit; later polls are ignored', () => {
  const t = createTracker();
  t.poll(inodes(1), 0);
  t.poll(inodes(1, 2), 100);
  const e = t.processGone(250);
  assert.deepEqual(summarize(e), ['close c1 250', 'close c2 150', 'exit exited']);
  const exit = e.at(-1);
  assert.ok(exit?.type === 'exit');
  assert.equal(exit.process.pid, 4242);
  assert.equal(t.exited, true);
  assert.equal(t.live().length, 0);
  assert.deepEqual(t.poll(inodes(1, 3), 300), []);
  assert.deepEqual(t.processGone(400), []);
  assert.equal(t.stats(400).closed, 2);
  assert.equal(t.history().at(-1)?.count, 0);
});

test('after an exit, a snapshot of a new process (other start time) starts afresh', () => {
  const t = createTracker();
  t.poll(inodes(1), 0);
  t.processGone(100);
  const e = t.poll(snap([{ inode: 9 }], { startTime: '2024-01-02T00:00:00.000Z' }), 200);
  assert.deepEqual(summarize(e), ['open c2 pre']);
  assert.equal(t.exited, false);
  assert.equal(t.process?.startTime, '2024-01-02T00:00:00.000Z');
  assert.equal(t.stats(200).closed, 0);
  assert.equal(t.stats(300).durationMs, 100);
});

test('processGone before any poll does nothing', () => {
  const t = createTracker();
  assert.deepEqual(t.processGone(0), []);
  assert.equal(t.exited, false);
  assert.deepEqual(summarize(t.poll(inodes(1), 10)), ['open c1 pre']);
});

test('PID reuse: the old process exits, the new one starts afresh with preexisting connections', () => {
  const t = createTracker();
  t.poll(inodes(), 0);
  t.poll(inodes(1, 2), 100);
  t.poll(inodes(1, 2, 3), 200);
  const reused = snap([{ inode: 1 }, { inode: 50 }], { startTime: '2024-01-01T00:05:00.000Z', command: 'python3' });
  const e = t.poll(reused, 300);
  // the same key under the new process is still a new connection: the old socket cannot survive
  assert.deepEqual(summarize(e), ['close c1 200', 'close c2 200', 'close c3 100', 'exit pid_reused', 'open c4 pre', 'open c5 pre']);
  const exit = e.find((x) => x.type === 'exit');
  assert.ok(exit?.type === 'exit');
  assert.equal(exit.process.command, 'node');
  assert.equal(t.process?.command, 'python3');
  assert.equal(t.exited, false);
  const s = t.stats(300);
  assert.deepEqual([s.live, s.opened, s.closed, s.peak, s.durationMs], [2, 0, 0, 2, 0]);
  assert.equal(s.lifetimeMs, null);
  // and it is tracked normally afterwards
  assert.deepEqual(summarize(t.poll(snap([{ inode: 50 }], { startTime: '2024-01-01T00:05:00.000Z' }), 400)), ['close c4 100']);
});

test('an unknown start time is not taken for a new process', () => {
  const t = createTracker();
  t.poll(inodes(1), 0);
  assert.deepEqual(summarize(t.poll(snap([{ inode: 1 }], { startTime: undefined }), 100)), []);
  assert.deepEqual(summarize(t.poll(inodes(1), 200)), []);
  assert.equal(t.process?.pid, proc().pid);
});

test('exchanges are present only with tcp internals', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  t.poll(snap([{ inode: 1 }, { inode: 2, bytesSent: 0 }]), 100);
  const [a, b] = t.live();
  assert.equal(a?.exchanges, undefined);
  assert.equal('exchanges' in (a ?? {}), false);
  assert.equal(b?.exchanges, 0);
});

test('exchanges counted across polls through the tracker', () => {
  const t = createTracker();
  const sent = [0, 100, 100, 100, 250, 300, 300, 400, 400];
  sent.forEach((bytesSent, i) => t.poll(snap([{ inode: 1, bytesSent }]), i * 100));
  // bursts at polls 1, 4-5, 7
  assert.equal(t.live()[0]?.exchanges, 3);
  const [close] = t.poll(snap([]), 1000);
  assert.ok(close?.type === 'close');
  assert.equal(close.conn.exchanges, 3);
});
