import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import { findingMessage } from '../../src/views/output/finding-message';
import type { Finding, Tracker } from '../../src/core/tracker-types';
import { CLOSE_WAIT_MIN_MS, linearFit, median } from '../../src/core/findings';
import { inodes, snap, type ConnSpec } from '../helpers/snapshots';

function only(findings: Finding[], kind: Finding['kind']): Finding | undefined {
  return findings.find((f) => f.kind === kind);
}

/**
 * A client that opens a connection every `everyMs`, sends `requests` requests on it (one per poll,
 * with a quiet poll between) and closes it `lifetimeMs` after opening. Polled every 100 ms.
 */
function churnRun(opts: { everyMs: number; lifetimeMs: number; requests: number; untilMs: number; tcp?: boolean }): Tracker {
  const t = createTracker({ describeFinding: findingMessage });
  t.poll(snap([]), 0);
  for (let now = 100; now <= opts.untilMs; now += 100) {
    const conns: ConnSpec[] = [];
    for (let opened = 100, inode = 1; opened <= now; opened += opts.everyMs, inode++) {
      const age = now - opened;
      if (age >= opts.lifetimeMs) continue;
      const pollsIn = age / 100;
      const requestsSoFar = Math.min(opts.requests, Math.floor(pollsIn / 2) + 1);
      conns.push(opts.tcp === false ? { inode } : { inode, bytesSent: requestsSoFar * 200 });
    }
    t.poll(snap(conns), now);
  }
  return t;
}

test('reuse: a connection that carried 3+ exchanges is reported with its lifetime', () => {
  const t = createTracker({ describeFinding: findingMessage });
  t.poll(snap([]), 0);
  const sends = [100, 100, 200, 200, 300, 300, 400];
  sends.forEach((bytesSent, i) => t.poll(snap([{ inode: 1, bytesSent }, { inode: 2, bytesSent: 50 }]), 100 + i * 1000));
  const f = only(t.findings(7000), 'reuse');
  assert.ok(f);
  assert.equal(f.exchanges, 4);
  assert.equal(f.lifetimeMs, 6900);
  assert.equal(f.id, 'c1');
  assert.equal(f.reusedConnections, 1);
  assert.equal(f.message, 'connection 10.0.0.1:40001→10.0.0.2:80 carried 4 exchanges over 6.9s — keep-alive is working');
  // it is remembered after the connection closed
  t.poll(snap([{ inode: 2, bytesSent: 50 }]), 8000);
  const after = only(t.findings(9000), 'reuse');
  assert.equal(after?.exchanges, 4);
  assert.equal(after?.lifetimeMs, 7900);
});

test('reuse: not reported for two exchanges, nor without tcp internals', () => {
  const t = createTracker({ describeFinding: findingMessage });
  t.poll(snap([]), 0);
  [100, 100, 200, 200, 200].forEach((bytesSent, i) => t.poll(snap([{ inode: 1, bytesSent }, { inode: 2 }]), 100 + i * 100));
  assert.equal(only(t.findings(1000), 'reuse'), undefined);
  assert.equal(only(churnRun({ everyMs: 100_000, lifetimeMs: 100_000, requests: 10, untilMs: 5000, tcp: false }).findings(5000), 'reuse'), undefined);
});

test('reuse: a preexisting connection\'s lifetime is shown as a lower bound', () => {
  const t = createTracker({ describeFinding: findingMessage });
  [100, 100, 200, 200, 300].forEach((bytesSent, i) => t.poll(snap([{ inode: 1, bytesSent }]), i * 1000));
  assert.match(only(t.findings(4000), 'reuse')?.message ?? '', /over ≥4s/);
});

test('churn: many short connections carrying one exchange each', () => {
  const t = churnRun({ everyMs: 1000, lifetimeMs: 300, requests: 1, untilMs: 20_000 });
  const f = only(t.findings(20_000), 'churn');
  assert.ok(f);
  assert.equal(f.medianLifetimeMs, 300);
  assert.equal(f.medianExchanges, 1);
  assert.equal(f.closesInWindow, 20);
  assert.equal(f.perMinute, 60);
  assert.equal(
    f.message,
    '60 new connections per minute to 10.0.0.2:80, median lifetime 300ms, ~1 exchange each — keep-alive is not in effect (bodies not drained/closed, or the client disables it)',
  );
  // it names its peer (issue 20 item 4)
  assert.deepEqual([f.peer, f.direction], ['10.0.0.2:80', 'out']);
  assert.equal(only(t.findings(20_000), 'reuse'), undefined);
});

test('churn: judged on lifetimes alone when there are no tcp internals', () => {
  const t = churnRun({ everyMs: 500, lifetimeMs: 200, requests: 1, untilMs: 10_000, tcp: false });
  const f = only(t.findings(10_000), 'churn');
  assert.ok(f);
  assert.equal(f.medianExchanges, undefined);
  assert.match(String(f.message), /^120 new connections per minute to 10\.0\.0\.2:80, median lifetime 200ms — keep-alive is not in effect/);
});

test('churn: not reported for long-lived connections, multi-exchange ones, or a few closes', () => {
  const longLived = churnRun({ everyMs: 1000, lifetimeMs: 8000, requests: 1, untilMs: 30_000 });
  assert.equal(only(longLived.findings(30_000), 'churn'), undefined);
  const reused = churnRun({ everyMs: 1000, lifetimeMs: 1000, requests: 4, untilMs: 20_000 });
  assert.equal(only(reused.findings(20_000), 'churn'), undefined);
  assert.ok(only(reused.findings(20_000), 'reuse'));
  const few = churnRun({ everyMs: 3000, lifetimeMs: 300, requests: 1, untilMs: 12_000 });
  assert.equal(only(few.findings(12_000), 'churn'), undefined);
  // and the closes age out of the window
  const t = churnRun({ everyMs: 1000, lifetimeMs: 300, requests: 1, untilMs: 10_000 });
  assert.ok(only(t.findings(10_000), 'churn'));
  t.poll(snap([]), 75_000);
  assert.equal(only(t.findings(75_000), 'churn'), undefined);
});

test('churn: preexisting connections closing do not count', () => {
  const t = createTracker({ describeFinding: findingMessage });
  t.poll(inodes(1, 2, 3, 4, 5, 6, 7, 8), 0);
  t.poll(inodes(), 100);
  assert.equal(only(t.findings(100), 'churn'), undefined);
});

test('churn: connections closed by the process exiting are not churn', () => {
  const t = createTracker({ describeFinding: findingMessage });
  t.poll(snap([]), 0);
  t.poll(inodes(1, 2, 3, 4, 5, 6, 7, 8), 100);
  t.processGone(1000);
  assert.equal(t.stats(1000).closed, 8);
  assert.equal(t.stats(1000).lifetimeMs?.p50, 900);
  assert.equal(only(t.findings(1000), 'churn'), undefined);
});

test(`close_wait: live connections in CLOSE_WAIT for ${CLOSE_WAIT_MIN_MS} ms or more`, () => {
  const t = createTracker({ describeFinding: findingMessage });
  t.poll(snap([]), 0);
  t.poll(snap([{ inode: 1 }, { inode: 2 }, { inode: 3 }]), 100);
  t.poll(snap([{ inode: 1, state: 'CLOSE_WAIT' }, { inode: 2, state: 'CLOSE_WAIT' }, { inode: 3 }]), 1000);
  assert.equal(only(t.findings(2900), 'close_wait'), undefined);
  t.poll(snap([{ inode: 1, state: 'CLOSE_WAIT' }, { inode: 2, state: 'CLOSE_WAIT' }, { inode: 3 }]), 3000);
  const f = only(t.findings(4500), 'close_wait');
  assert.ok(f);
  assert.equal(f.count, 2);
  assert.equal(f.longestMs, 3500);
  assert.deepEqual(f.ids, ['c1', 'c2']);
  assert.equal(f.message, '2 connections in CLOSE_WAIT for over 2s (longest 3.5s): the peer closed them but the process has not — a leak');
});

test('close_wait: not reported once the process closes them, nor for other states', () => {
  const t = createTracker({ describeFinding: findingMessage });
  t.poll(snap([]), 0);
  t.poll(snap([{ inode: 1, state: 'CLOSE_WAIT' }, { inode: 2, state: 'FIN_WAIT2' }]), 100);
  t.poll(snap([{ inode: 1, state: 'LAST_ACK' }, { inode: 2, state: 'FIN_WAIT2' }]), 500);
  t.poll(snap([{ inode: 2, state: 'FIN_WAIT2' }]), 5000);
  assert.equal(only(t.findings(10_000), 'close_wait'), undefined);
});

test('close_wait: a preexisting connection counts from when it was first seen', () => {
  const t = createTracker({ describeFinding: findingMessage });
  t.poll(snap([{ inode: 1, state: 'CLOSE_WAIT' }]), 0);
  assert.equal(only(t.findings(1999), 'close_wait'), undefined);
  assert.equal(only(t.findings(2000), 'close_wait')?.count, 1);
});

function liveCounts(counts: number[], stepMs: number): Tracker {
  const t = createTracker({ describeFinding: findingMessage });
  counts.forEach((n, i) => t.poll(inodes(...Array.from({ length: n }, (_, k) => k + 1)), i * stepMs));
  return t;
}

test('growth: a live count that keeps rising', () => {
  const counts = Array.from({ length: 21 }, (_, i) => 10 + Math.floor(i / 2)); // +1 per second
  const t = liveCounts(counts, 500);
  const f = only(t.findings(10_000), 'growth');
  assert.ok(f);
  assert.equal(f.from, 10);
  assert.equal(f.to, 20);
  assert.equal(f.spanMs, 10_000);
  assert.equal(f.message, 'live connections grew from 10 to 20 over 10s — connections are being held, not released');
});

test('growth: noisy but steady growth is still growth', () => {
  const counts = Array.from({ length: 60 }, (_, i) => 5 + Math.floor(i / 4) + [0, 2, -1, 1][i % 4]);
  assert.ok(only(liveCounts(counts, 500).findings(30_000), 'growth'));
});

test('growth: not reported for a flat count, churn noise, a warm-up burst, or too short a history', () => {
  assert.equal(only(liveCounts(Array(30).fill(8), 500).findings(15_000), 'growth'), undefined);
  const noise = Array.from({ length: 60 }, (_, i) => 10 + [0, 3, 1, 4, 0, 2][i % 6]);
  assert.equal(only(liveCounts(noise, 500).findings(30_000), 'growth'), undefined);
  const warmUp = [0, 4, 8, 10, ...Array(56).fill(10)];
  assert.equal(only(liveCounts(warmUp, 500).findings(30_000), 'growth'), undefined);
  const short = Array.from({ length: 9 }, (_, i) => i * 2);
  assert.equal(only(liveCounts(short, 1000).findings(8000), 'growth'), undefined);
  const quick = Array.from({ length: 40 }, (_, i) => i);
  assert.equal(only(liveCounts(quick, 100).findings(3900), 'growth'), undefined);
  const small = Array.from({ length: 40 }, (_, i) => Math.floor(i / 10));
  assert.equal(only(liveCounts(small, 500).findings(20_000), 'growth'), undefined);
});

test('no findings before the first poll or for a quiet process', () => {
  assert.deepEqual(createTracker({ describeFinding: findingMessage }).findings(0), []);
  const t = createTracker({ describeFinding: findingMessage });
  for (let i = 0; i < 50; i++) t.poll(inodes(1, 2), i * 200);
  assert.deepEqual(t.findings(10_000), []);
});

test('resetBaseline (the TUI\'s r) changes no finding', () => {
  const t = churnRun({ everyMs: 1000, lifetimeMs: 300, requests: 1, untilMs: 20_000 });
  const before = t.findings(20_000);
  assert.ok(only(before, 'churn'));
  t.resetBaseline(20_000);
  assert.deepEqual(t.findings(20_000), before);
  assert.deepEqual(t.findingHistory().map((f) => [f.finding.kind, f.untilMs]), [['churn', null]]);
});

test('findings order: problems first', () => {
  const t = createTracker({ describeFinding: findingMessage });
  t.poll(snap([]), 0);
  for (let i = 1; i <= 40; i++) {
    const conns: ConnSpec[] = [{ inode: 1000, state: 'CLOSE_WAIT' }];
    for (let k = 1; k <= i; k++) conns.push({ inode: k, bytesSent: 100 * Math.ceil((i - k + 1) / 2) });
    t.poll(snap(conns), i * 500);
  }
  assert.deepEqual(t.findings(20_000).map((f) => f.kind), ['close_wait', 'growth', 'reuse']);
});

test('median and linear fit helpers', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  const fit = linearFit([0, 1, 2, 3], [1, 3, 5, 7]);
  assert.deepEqual(fit, { slope: 2, r2: 1 });
  assert.equal(linearFit([0, 1, 2], [4, 4, 4]), undefined);
});

test('core draws numbers, views the words: without a describer the message is only the kind, the numbers are the same', () => {
  const polls: [number, ReturnType<typeof snap>][] = [[0, snap([])]];
  for (let now = 100; now <= 3000; now += 100) polls.push([now, snap([{ inode: 1, state: now >= 500 ? 'CLOSE_WAIT' : 'ESTABLISHED' }])]);
  const plain = createTracker();
  const worded = createTracker({ describeFinding: findingMessage });
  for (const [at, s] of polls) {
    plain.poll(s, at);
    worded.poll(s, at);
  }
  const a = only(plain.findings(3000), 'close_wait');
  const b = only(worded.findings(3000), 'close_wait');
  assert.ok(a && b);
  assert.equal(a.message, 'close_wait');
  assert.match(b.message, /^1 connection in CLOSE_WAIT for over 2s/);
  assert.deepEqual({ ...a, message: '' }, { ...b, message: '' });
  assert.deepEqual(Object.keys(b).slice(0, 3), ['kind', 'message', 'basis'], 'the JSON keeps its key order');
});

test('reuse raised at the poll that first saw a connection with history: no "over 0ms", the message says when it was counted', () => {
  const msg = findingMessage({ kind: 'reuse', basis: 'exchanges', id: 'c1', exchanges: 47, lifetimeMs: 0, reusedConnections: 1 }, undefined);
  assert.equal(msg, 'a connection carried 47 exchanges by the poll that first saw it — keep-alive is working');
  assert.doesNotMatch(msg, /over 0ms/);
});
