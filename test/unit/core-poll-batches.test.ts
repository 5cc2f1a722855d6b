import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import type { TrackerEvent } from '../../src/core/tracker-types';
import type { Connection } from '../../src/model';
import { EMIT_BATCH } from '../../src/watch/poll-session';
import { proc, snap, summarize, testConn, testSnapshot } from '../helpers/snapshots';
import { startFakeWatch } from '../helpers/fake-watch';

function many(n: number, from = 1): Connection[] {
  return Array.from({ length: n }, (_, i) => testConn(from + i));
}

/** A script that opens, changes, closes and finds: the same polls fed to poll() and to pollBatches(). */
const polls: [number, ReturnType<typeof testSnapshot>][] = [
  [0, testSnapshot(many(7))],
  [100, testSnapshot([...many(3), testConn(4, { state: 'CLOSE_WAIT' }), ...many(9, 20)])],
  [200, testSnapshot([])],
  [300, testSnapshot(many(2), { startTime: '2030-01-01T00:00:00.000Z' })],
];

test('pollBatches: the events of poll(), in order, at most maxOpens opens a batch', () => {
  for (const max of [1, 2, 3, 1000]) {
    const whole = createTracker();
    const batched = createTracker();
    for (const [at, s] of polls) {
      const expected = whole.poll(s, at);
      const batches = batched.pollBatches(s, at);
      const got: TrackerEvent[] = [];
      let calls = 0;
      for (let b = batches.next(max); b !== undefined; b = batches.next(max)) {
        calls++;
        assert.ok(b.filter((e) => e.type === 'open').length <= max);
        got.push(...b);
      }
      assert.deepEqual(got, expected, `max ${max} at ${at}`);
      assert.ok(calls >= 1, 'at least one batch, also for a poll without events');
      assert.equal(batches.next(max), undefined);
    }
    assert.deepEqual(batched.stats(400), whole.stats(400));
    assert.deepEqual(batched.live(), whole.live());
  }
});

test('pollBatches: a poll that changes nothing gives one batch, its poll event alone', () => {
  const t = createTracker();
  t.poll(snap([{ inode: 1 }]), 0);
  const b = t.pollBatches(snap([{ inode: 1 }]), 100);
  assert.deepEqual(b.next(10), [{ type: 'poll', atMs: 100 }]);
  assert.equal(b.next(10), undefined);
});

test('pollBatches: open events show the poll that made them; taking them after a later poll throws', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  const b = t.pollBatches(snap([{ inode: 1, bytesSent: 10 }, { inode: 2 }]), 100);
  const first = b.next(1);
  assert.deepEqual(summarize(first ?? []), ['open c1']);
  t.poll(snap([{ inode: 1, state: 'CLOSE_WAIT' }, { inode: 2 }]), 200);
  assert.throws(() => b.next(1), /after a later poll/);
  // what was taken is not changed by the later poll
  assert.ok(first?.[0]?.type === 'open');
  assert.equal(first[0].conn.connection.state, 'ESTABLISHED');
  assert.equal(first[0].conn.lastSeenMs, 100);
  const gone = t.pollBatches(snap([]), 300);
  t.processGone(400);
  assert.throws(() => gone.next(1), /after a later poll/);
});

test('the poll loop hands a big poll to its listeners in batches, in order, and a quiet poll once', async () => {
  const n = EMIT_BATCH * 2 + 5;
  const calls: TrackerEvent[][] = [];
  const w = await startFakeWatch({
    script: [{ snapshot: testSnapshot(many(n), proc()) }, { snapshot: testSnapshot(many(n), proc()) }, { snapshot: undefined }],
    states: 'all',
    attach: (session) => {
      session.onUpdate((events) => calls.push([...events]));
    },
  });
  await w.run();
  await w.session.ended;
  // the first poll: three batches of opens (its poll event last); the second: its poll event
  // alone; then the closes, the exit's poll event and the exit
  assert.deepEqual(
    calls.map((c) => c.length),
    [EMIT_BATCH, EMIT_BATCH, 5 + 1, 1, n + 2],
  );
  const ids = calls.slice(0, 3).flat().map((e) => (e.type === 'open' ? e.conn.id : e.type));
  assert.deepEqual(ids, [...Array.from({ length: n }, (_, i) => `c${i + 1}`), 'poll']);
  assert.equal(calls[4]?.at(-1)?.type, 'exit');
});

test('an open event has a copy of its own: the record goes on updating in place, the event does not change', () => {
  const t = createTracker();
  const [open] = t.poll(snap([{ inode: 1, bytesSent: 10 }]), 0);
  assert.ok(open?.type === 'open');
  t.poll(snap([{ inode: 1, bytesSent: 20, state: 'CLOSE_WAIT' }]), 100);
  t.poll(snap([{ inode: 1, bytesSent: 30, state: 'CLOSE_WAIT' }]), 200);
  assert.equal(open.conn.connection.tcp?.bytesSent, 10);
  assert.equal(open.conn.connection.state, 'ESTABLISHED');
  assert.equal(t.live()[0]?.connection.tcp?.bytesSent, 30);
});
