// Findings combine (issue 20 item 4): churn is judged on every close, brief ones with the exchanges
// their end totals give, so a keep-alive connection in the same window cannot hide a
// connection-per-request loop; reuse and churn hold together and each names its peer; the peer
// rows come from the same predicates over the same closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import type { SocketEnded } from '../../src/core/lifecycle-types';
import type { Finding, Tracker } from '../../src/core/tracker-types';
import type { Connection } from '../../src/model';
import { conn, endpoint, snap, tcp } from '../helpers/snapshots';

const PID = 4242;
const POOLED = '127.0.0.1:7001';
const CHURNED = '127.0.0.1:7002';

function only(fs: Finding[], kind: Finding['kind']): Finding | undefined {
  return fs.find((f) => f.kind === kind);
}

/** a polled keep-alive connection to `remote` that carried `n` exchanges so far */
function pooled(inode: number, remote: string, n: number): Connection {
  return { ...conn({ inode, local: `127.0.0.1:${41000 + inode}`, remote }), tcp: tcp({ cookie: `k${inode}`, segmentsSent: n, segmentsReceived: n, bytesSent: 100 * n }) };
}

/** a brief connection of the target (eBPF: its PID, exact times, totals only) */
function brief(i: number, atMs: number, remote = CHURNED): SocketEnded {
  return {
    kind: 'ended',
    atMs,
    protocol: 'tcp',
    local: endpoint(`127.0.0.1:${50000 + i}`),
    remote: endpoint(remote),
    pid: PID,
    cookie: `b${i}`,
    startedAtMs: atMs - 4,
    totals: { bytesSent: 90, bytesReceived: 300, segmentsSent: 1, segmentsReceived: 1 },
  };
}

/** 40 requests on one keep-alive connection, the pool closed, then 40 connections of one request each to `churnTo` */
function window(churnTo: string): Tracker {
  const t = createTracker();
  t.poll(snap([]), 0);
  for (let i = 1; i <= 4; i++) t.poll(snap([pooled(1, POOLED, 10 * i)]), 250 * i);
  // the agent destroyed: its connection closes (with 40 exchanges) in the same window
  const ends: SocketEnded[] = [];
  for (let i = 0; i < 40; i++) ends.push(brief(i, 1100 + 5 * i, churnTo));
  t.poll(snap([]), 1300, ends.slice(0, 20));
  t.poll(snap([]), 1550, ends.slice(20));
  return t;
}

test('a brief connection carries the exchanges of its end totals', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  const e = t.poll(snap([]), 1000, [{ ...brief(1, 500), totals: { bytesSent: 900, bytesReceived: 9000, segmentsSent: 7, segmentsReceived: 9 } }]);
  const close = e.find((x) => x.type === 'close');
  assert.ok(close?.type === 'close');
  assert.equal(close.conn.exchanges, 7);
  // and without data-segment counts there is nothing to count
  const none = t.poll(snap([]), 2000, [{ ...brief(2, 1500), totals: undefined }]).find((x) => x.type === 'close');
  assert.ok(none?.type === 'close');
  assert.equal(none.conn.exchanges, undefined);
});

test('keep-alive to one peer, a connection per request to another: reuse and churn, each naming its peer', () => {
  const t = window(CHURNED);
  const fs = t.findings(1550);
  const reuse = only(fs, 'reuse');
  const churn = only(fs, 'churn');
  assert.ok(reuse, JSON.stringify(fs));
  assert.ok(churn, JSON.stringify(fs));
  assert.deepEqual([reuse.peer, reuse.direction, reuse.exchanges], [POOLED, 'out', 40]);
  assert.deepEqual([churn.peer, churn.direction, churn.medianExchanges, churn.basis], [CHURNED, 'out', 1, 'polled+brief']);
  // the rows say the same
  const rows = new Map(t.peers(1550).map((r) => [r.peer, r.findings]));
  assert.deepEqual(rows.get(POOLED), ['reuse']);
  assert.deepEqual(rows.get(CHURNED), ['churn']);
});

test('the same peer: the keep-alive close does not hide the loop', () => {
  const t = window(POOLED);
  const fs = t.findings(1550);
  assert.ok(only(fs, 'reuse'));
  const churn = only(fs, 'churn');
  assert.ok(churn, JSON.stringify(fs));
  assert.equal(churn.peer, POOLED);
  assert.deepEqual(t.peers(1550).find((r) => r.peer === POOLED)?.findings, ['reuse', 'churn']);
});

test('many busy keep-alive closes to one peer cannot outvote a churning peer', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  // 30 pooled connections, 20 exchanges each, all closing in the window
  const pool = Array.from({ length: 30 }, (_, i) => pooled(100 + i, POOLED, 20));
  t.poll(snap(pool), 500);
  t.poll(snap(pool), 1000);
  const ends = Array.from({ length: 10 }, (_, i) => brief(i, 1100 + 10 * i));
  t.poll(snap([]), 1500, ends);
  // over every close the median carries 20 exchanges; the churned peer's own closes carry 1
  const churn = only(t.findings(1500), 'churn');
  assert.ok(churn);
  assert.deepEqual([churn.peer, churn.closesInWindow, churn.medianExchanges], [CHURNED, 10, 1]);
  assert.deepEqual(t.peers(1500).find((r) => r.peer === CHURNED)?.findings, ['churn']);
  assert.deepEqual(t.peers(1500).find((r) => r.peer === POOLED)?.findings, ['reuse']);
});

test('churn spread over many peers holds for the watch without naming one', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  const ends = Array.from({ length: 12 }, (_, i) => brief(i, 100 + 10 * i, `127.0.0.1:${7100 + i}`));
  t.poll(snap([]), 1000, ends);
  const churn = only(t.findings(1000), 'churn');
  assert.ok(churn);
  assert.equal(churn.peer, undefined);
  assert.equal(churn.closesInWindow, 12);
  assert.ok(t.peers(1000).every((r) => !r.findings.includes('churn')), 'no single peer churns');
});
