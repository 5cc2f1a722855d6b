import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import { LIFETIME_RELATIVE_ERROR } from '../../src/core/lifetime-histogram';
import { inodes, snap, summarize } from '../helpers/snapshots';

function nearestRank(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] ?? NaN;
}

function assertWithin(actual: number, expected: number, relative: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= expected * relative + 1e-9, `${what}: ${actual} vs ${expected}`);
}

test('stats before any poll are empty', () => {
  const s = createTracker().stats(1234);
  assert.deepEqual(
    [s.live, s.peak, s.opened, s.closed, s.opensPerMinute, s.lifetimeMs, s.perRemote.size, s.durationMs],
    [0, 0, 0, 0, 0, null, 0, 0],
  );
});

test('live, peak, opened, closed and duration', () => {
  const t = createTracker();
  t.poll(inodes(1), 1000); // preexisting: live, not opened
  t.poll(inodes(1, 2, 3, 4), 1100);
  t.poll(inodes(1, 4), 1200);
  t.poll(inodes(4, 5), 1300);
  const s = t.stats(1500);
  assert.equal(s.live, 2);
  assert.equal(s.peak, 4);
  assert.equal(s.opened, 4);
  assert.equal(s.closed, 3); // c2, c3 and the preexisting c1
  assert.equal(s.durationMs, 500);
});

test('lifetime percentiles leave out preexisting connections (their lifetimes are lower bounds)', () => {
  const t = createTracker();
  t.poll(inodes(1), 0);
  t.poll(inodes(1, 2), 100);
  t.poll(inodes(), 400);
  const s = t.stats(400);
  assert.equal(s.closed, 2);
  assert.deepEqual(s.lifetimeMs, { p50: 300, p95: 300, max: 300 });
});

test('lifetime percentiles match a brute-force computation within the stated error', () => {
  const t = createTracker();
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  // 3,000 connections with log-uniform lifetimes from 100 ms to ~30 min, polled every 100 ms
  const lifetimes: number[] = [];
  const closeAt = new Map<number, number[]>();
  for (let i = 0; i < 3000; i++) {
    const opensAtPoll = 1 + Math.floor(rand() * 200);
    const lifetimePolls = Math.max(1, Math.round(Math.exp(rand() * Math.log(18_000))));
    const list = closeAt.get(opensAtPoll + lifetimePolls) ?? [];
    list.push(i);
    closeAt.set(opensAtPoll + lifetimePolls, list);
    lifetimes.push(lifetimePolls * 100);
    const opens = closeAt.get(-opensAtPoll) ?? [];
    opens.push(i);
    closeAt.set(-opensAtPoll, opens);
  }
  const live = new Set<number>();
  t.poll(snap([]), 0);
  for (let p = 1; p <= 18_201; p++) {
    for (const i of closeAt.get(-p) ?? []) live.add(i);
    for (const i of closeAt.get(p) ?? []) live.delete(i);
    if (closeAt.has(-p) || closeAt.has(p)) t.poll(snap([...live].map((i) => ({ inode: i + 1 }))), p * 100);
  }
  assert.equal(live.size, 0);
  const s = t.stats(18_201 * 100);
  assert.equal(s.closed, 3000);
  assert.ok(s.lifetimeMs);
  assertWithin(s.lifetimeMs.p50, nearestRank(lifetimes, 0.5), LIFETIME_RELATIVE_ERROR, 'p50');
  assertWithin(s.lifetimeMs.p95, nearestRank(lifetimes, 0.95), LIFETIME_RELATIVE_ERROR, 'p95');
  assert.equal(s.lifetimeMs.max, Math.max(...lifetimes));
});

test('opens per minute: scaled while under a minute (never over less than 10 s), then the last 60 s', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  t.poll(inodes(1, 2), 1000);
  assert.equal(t.stats(1000).opensPerMinute, 12); // 2 opens over max(1 s, 10 s)
  assert.equal(t.stats(30_000).opensPerMinute, 4); // 2 opens over 30 s
  t.poll(inodes(1, 2, 3), 59_000);
  assert.equal(t.stats(60_000).opensPerMinute, 3);
  assert.equal(t.stats(61_000).opensPerMinute, 1); // the opens at 1 s left the window
  assert.equal(t.stats(120_000).opensPerMinute, 0);
});

test('per-remote live counts, IPv6 in brackets, busiest first', () => {
  const t = createTracker();
  t.poll(
    snap([
      { inode: 1, remote: '10.0.0.9:443' },
      { inode: 2, local: '[::1]:5000', remote: '[::1]:8080' },
      { inode: 3, local: '[::1]:5001', remote: '[::1]:8080' },
      { inode: 4, remote: '10.0.0.9:443' },
      { inode: 5, remote: '10.0.0.7:5432' },
      { inode: 6, remote: '10.0.0.9:443' },
    ]),
    0,
  );
  assert.deepEqual([...t.stats(0).perRemote], [
    ['10.0.0.9:443', 3],
    ['[::1]:8080', 2],
    ['10.0.0.7:5432', 1],
  ]);
});

test('history is a bounded ring of (time, live count), oldest first', () => {
  const t = createTracker({ historySize: 5 });
  for (let i = 0; i < 20; i++) t.poll(inodes(...Array.from({ length: i }, (_, k) => k + 1)), i * 100);
  assert.deepEqual(
    t.history().map((s) => [s.atMs, s.count]),
    [[1500, 15], [1600, 16], [1700, 17], [1800, 18], [1900, 19]],
  );
  assert.equal(createTracker().history().length, 0);
  const big = createTracker();
  for (let i = 0; i < 1000; i++) big.poll(inodes(), i);
  assert.equal(big.history().length, 600);
});

test('resetBaseline zeroes the baseline counters only; the watch counters run on', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  t.poll(inodes(1, 2, 3), 100);
  t.poll(inodes(3), 200);
  t.resetBaseline(1000);
  let s = t.stats(1000, 'baseline');
  assert.deepEqual(
    [s.live, s.peak, s.opened, s.closed, s.opensPerMinute, s.lifetimeMs, s.sinceMs],
    [1, 1, 0, 0, 0, null, 1000],
  );
  assert.equal(s.durationMs, 1000); // the watch itself goes on
  const whole = t.stats(1000);
  assert.deepEqual([whole.live, whole.peak, whole.opened, whole.closed, whole.sinceMs], [1, 3, 3, 2, 0]);
  const events = t.poll(inodes(3, 4), 2000);
  assert.deepEqual(summarize(events), ['open c4']); // c3 is not re-opened
  s = t.stats(2000, 'baseline');
  assert.equal(s.opened, 1);
  assert.equal(s.peak, 2);
  assert.equal(s.opensPerMinute, 6); // 1 open over max(1 s since reset, 10 s)
  t.poll(inodes(4), 2500);
  s = t.stats(2500, 'baseline');
  assert.equal(s.closed, 1);
  // c3 opened before the reset, but while watched: its lifetime is known, so it counts
  assert.deepEqual(s.lifetimeMs, { p50: 2400, p95: 2400, max: 2400 });
  const w = t.stats(2500);
  assert.deepEqual([w.opened, w.closed, w.peak], [4, 3, 3]);
  assert.deepEqual(w.lifetimeMs?.max, 2400);
});
