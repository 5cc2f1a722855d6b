import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import type { Connection } from '../../src/model';
import { SockwatchMetrics } from '../../src/views/metrics/sockwatch-metrics';
import { OTHER_PEER, PEER_MIN_CONNECTIONS, PeerFolder } from '../../src/views/metrics/peer-folder';
import { testSession } from '../helpers/fake-terminal';
import { testConn, testSnapshot } from '../helpers/snapshots';
import { parsePromText } from '../helpers/prom-text';

const T0 = 1_700_000_000_000;

/** per-peer series of one family, as {peer: value} */
async function perPeer(m: SockwatchMetrics, name: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [k, v] of parsePromText((await m.scrape()).body).samples) {
    if (!k.startsWith(`${name}{`)) continue;
    const peer = /peer="([^"]*)"/.exec(k)?.[1];
    assert.ok(peer !== undefined, k);
    out[peer] = v;
  }
  return out;
}

const P = (n: number): string => `10.0.0.${n}:80`;

test('N=2 with 5 peers: the first two to reach the threshold get series, the rest fold into other, counters never go down', async () => {
  assert.equal(PEER_MIN_CONNECTIONS, 3, 'the expectations below assume a peer needs 3 connections');
  const m = new SockwatchMetrics({ target: '7', peers: 2 });
  const session = testSession({ tracker: createTracker(), startedMs: T0 });
  m.attach(session);
  let inode = 0;
  const conn = (peer: number): Connection => testConn(++inode, { remote: { address: `10.0.0.${peer}`, port: 80 } });
  const held: Connection[] = [];
  let now = T0;
  const poll = (add: Connection[], closeIds: number[] = []): void => {
    held.push(...add);
    for (const i of closeIds) held.splice(held.findIndex((c) => c.inode === 100000 + i), 1);
    session.poll(testSnapshot([...held]), (now += 1000));
  };

  const pre = conn(5); // preexisting: counts towards a slot, not as opened
  poll([pre]);
  poll([conn(1), conn(2), conn(3), conn(4), conn(5)]); // inodes 2..6: every peer has 1 (peer 5: 2)
  assert.deepEqual(await perPeer(m, 'sockwatch_peer_connections_opened_total'), { [OTHER_PEER]: 5 });

  poll([conn(3), conn(3), conn(1), conn(1)]); // inodes 7..10: peers 3 and 1 reach 3 on their second
  const opened1 = await perPeer(m, 'sockwatch_peer_connections_opened_total');
  assert.deepEqual(opened1, { [OTHER_PEER]: 7, [P(3)]: 1, [P(1)]: 1 });

  // Peer 5 becomes by far the busiest, and peer 3 goes quiet: the slots stay as they are.
  const burst = Array.from({ length: 10 }, () => conn(5)); // inodes 11..20
  poll([...burst, conn(1)], [7, 8]); // close peer 3's two newest
  const opened2 = await perPeer(m, 'sockwatch_peer_connections_opened_total');
  assert.deepEqual(opened2, { [OTHER_PEER]: 17, [P(3)]: 1, [P(1)]: 2 });
  for (const [peer, v] of Object.entries(opened1)) assert.ok((opened2[peer] ?? -1) >= v, `${peer} went down`);
  // Each close goes to the series its open went to: inode 7 was counted under other, 8 under peer 3.
  assert.deepEqual(await perPeer(m, 'sockwatch_peer_connections_closed_total'), { [OTHER_PEER]: 1, [P(3)]: 1 });
  assert.deepEqual(await perPeer(m, 'sockwatch_peer_connections'), { [OTHER_PEER]: 17, [P(3)]: 0, [P(1)]: 2 });

  session.gone((now += 1000));
  const opened3 = await perPeer(m, 'sockwatch_peer_connections_opened_total');
  const closed3 = await perPeer(m, 'sockwatch_peer_connections_closed_total');
  assert.deepEqual(opened3, opened2);
  // Everything closed: per series, closes = opens (+1 in other: the preexisting one, never counted as opened).
  assert.deepEqual(closed3, { [OTHER_PEER]: 18, [P(3)]: 1, [P(1)]: 2 });
  assert.deepEqual(await perPeer(m, 'sockwatch_peer_connections'), { [OTHER_PEER]: 0, [P(3)]: 0, [P(1)]: 0 });
});

test('cardinality stays at N+1 whatever the traffic', async () => {
  const m = new SockwatchMetrics({ target: '7', peers: 3 });
  const session = testSession({ tracker: createTracker(), startedMs: T0 });
  m.attach(session);
  session.poll(testSnapshot([]), T0);
  let inode = 0;
  for (let round = 0; round < 20; round++) {
    const conns = Array.from({ length: 500 }, (_, i) => testConn(++inode, { remote: { address: `10.${round}.${i >> 8}.${i & 255}`, port: 1000 + (i % 7) } }));
    session.poll(testSnapshot(conns), T0 + 1000 * (round + 1));
  }
  for (const name of ['sockwatch_peer_connections_opened_total', 'sockwatch_peer_connections_closed_total', 'sockwatch_peer_connections']) {
    assert.ok(Object.keys(await perPeer(m, name)).length <= 4, name);
  }
  assert.equal((await perPeer(m, 'sockwatch_peer_connections_opened_total'))[OTHER_PEER], 10_000);
});

test('PeerFolder: slots, threshold, and forgetting the oldest candidates', () => {
  const f = new PeerFolder(1, 2, 3);
  assert.equal(f.count('a'), OTHER_PEER);
  assert.equal(f.count('b'), OTHER_PEER);
  assert.equal(f.count('c'), OTHER_PEER);
  assert.equal(f.count('d'), OTHER_PEER); // 4 candidates > 3: 'a' is forgotten
  assert.equal(f.count('a'), OTHER_PEER, 'a starts again from 1');
  assert.equal(f.count('d'), 'd');
  assert.equal(f.count('b'), OTHER_PEER, 'the only slot is taken');
  assert.equal(f.labelOf('d'), 'd');
  assert.equal(f.labelOf('b'), OTHER_PEER);
  assert.deepEqual(f.labels(), ['d', OTHER_PEER]);
  assert.throws(() => new PeerFolder(-1), RangeError);
  assert.deepEqual(new PeerFolder(0).labels(), [OTHER_PEER]);
});
