// The tracker following a group of processes (an nginx master and its workers, `-p a,b`, --name):
// snapshots carry `processes`, connections carry the `pid` holding them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import type { Connection, ProcessInfo, Snapshot } from '../../src/model';
import { conn, proc, summarize, type ConnSpec } from '../helpers/snapshots';

const MASTER = proc({ pid: 100, command: 'nginx', startTime: '2024-01-01T00:00:00.000Z' });
const W1 = proc({ pid: 101, command: 'nginx', startTime: '2024-01-01T00:00:01.000Z' });
const W2 = proc({ pid: 102, command: 'nginx', startTime: '2024-01-01T00:00:01.000Z' });
/** a worker born during the watch (the watch began at 2024-01-01T01:00:00Z in these tests) */
const W3 = proc({ pid: 103, command: 'nginx', startTime: '2024-01-01T01:00:05.000Z' });
const WATCH_START = '2024-01-01T01:00:00.000Z';

function held(pid: number, spec: ConnSpec & { direction?: 'in' | 'out' }, pids?: number[]): Connection {
  const c = conn(spec);
  c.pid = pid;
  if (pids !== undefined) c.pids = pids;
  if (spec.direction !== undefined) c.direction = spec.direction;
  return c;
}

function group(processes: ProcessInfo[], connections: Connection[]): Snapshot {
  return { process: processes[0] ?? MASTER, processes, source: 'procfs', connections };
}

test('a process that leaves the group exits by name; the others are still watched', () => {
  const t = createTracker({ watchStart: WATCH_START });
  const first = t.poll(group([MASTER, W1, W2], [held(101, { inode: 1 }), held(102, { inode: 2 })]), 1000);
  assert.deepEqual(summarize(first), ['open c1 pre', 'open c2 pre']);
  const next = t.poll(group([MASTER, W2], [held(102, { inode: 2 })]), 2000);
  assert.deepEqual(summarize(next), ['close c1 1000', 'exit exited']);
  const exit = next.find((e) => e.type === 'exit');
  assert.ok(exit?.type === 'exit');
  assert.equal(exit.process.pid, 101);
  assert.equal(t.exited, false);
  assert.deepEqual(t.processes.map((p) => p.pid), [100, 102]);
  // the worker still watched keeps its connection, and its close is a normal one
  assert.deepEqual(summarize(t.poll(group([MASTER, W2], []), 3000)), ['close c2 2000']);
  // a close that came with its process's exit is not a close seen by a poll: not churn material
  assert.equal(t.stats(3000).closed, 2);
});

test('a worker born during the watch holds nothing preexisting, its first connections count as opened', () => {
  const t = createTracker({ watchStart: WATCH_START });
  t.poll(group([MASTER, W1], [held(101, { inode: 1 })]), 1000);
  const e = t.poll(group([MASTER, W1, W3], [held(101, { inode: 1 }), held(103, { inode: 3 })]), 2000);
  assert.deepEqual(summarize(e), ['open c2']);
  assert.equal(t.stats(2000).opened, 1);
});

test('a process started after the watch began is not preexisting even at the first poll (sockwatch run)', () => {
  const t = createTracker({ watchStart: WATCH_START });
  const e = t.poll(group([W3], [held(103, { inode: 3 })]), 1000);
  assert.deepEqual(summarize(e), ['open c1']);
  assert.equal(t.stats(1000).opened, 1);
  // the same for a single process
  const single = createTracker({ watchStart: WATCH_START });
  const s = single.poll({ process: W3, source: 'procfs', connections: [conn({ inode: 3 })] }, 1000);
  assert.deepEqual(summarize(s), ['open c1']);
});

test('a socket shared through fork stays one connection when its lowest holder exits', () => {
  const t = createTracker({ watchStart: WATCH_START });
  t.poll(group([MASTER, W1], [held(100, { inode: 9 }, [100, 101])]), 1000);
  const e = t.poll(group([W1], [held(101, { inode: 9 })]), 2000);
  assert.deepEqual(summarize(e), ['exit exited']);
  assert.equal(t.live()[0]?.connection.pid, 101);
  assert.equal(t.process?.pid, 101);
});

test('a PID taken by another process inside a group: exit pid_reused for the old, the new one joins', () => {
  const t = createTracker({ watchStart: WATCH_START });
  t.poll(group([MASTER, W1], [held(101, { inode: 1 })]), 1000);
  const reborn = proc({ pid: 101, command: 'nginx', startTime: '2024-01-01T01:00:07.000Z' });
  const e = t.poll(group([MASTER, reborn], [held(101, { inode: 5 })]), 2000);
  assert.deepEqual(summarize(e), ['close c1 1000', 'exit pid_reused', 'open c2']);
});

test('processGone names every process that was watched; a group that comes back carries on (serve --name)', () => {
  const t = createTracker({ watchStart: WATCH_START });
  t.poll(group([MASTER, W1], [held(101, { inode: 1 })]), 1000);
  const gone = t.processGone(2000);
  assert.deepEqual(summarize(gone), ['close c1 1000', 'exit exited', 'exit exited']);
  assert.deepEqual(gone.flatMap((e) => (e.type === 'exit' ? [e.process.pid] : [])), [100, 101]);
  assert.equal(t.exited, true);
  const restarted = proc({ pid: 200, command: 'nginx', startTime: '2024-01-01T01:01:00.000Z' });
  const back = t.poll(group([restarted], [held(200, { inode: 7 })]), 3000);
  assert.deepEqual(summarize(back), ['open c2']);
  assert.equal(t.exited, false);
  // counters ran on: the close before and the open after are both counted
  assert.equal(t.stats(3000).closed, 1);
  assert.equal(t.stats(3000).opened, 1);
});

test('peers: one row per remote endpoint out and per local endpoint in, with their own counts', () => {
  const t = createTracker({ watchStart: WATCH_START });
  const listener = held(100, { inode: 50, local: '127.0.0.1:8080', remote: '0.0.0.0:0', state: 'LISTEN' });
  const a = (inode: number): Connection => held(100, { inode, remote: '10.0.0.9:5432', direction: 'out' });
  const b = (inode: number): Connection => held(100, { inode, remote: '10.0.0.8:6379', direction: 'out' });
  const client = (inode: number): Connection => held(100, { inode, local: '127.0.0.1:8080', remote: `127.0.0.1:${50000 + inode}`, direction: 'in' });
  t.poll(group([MASTER], [listener]), 1000);
  t.poll(group([MASTER], [listener, a(1), b(2), b(3), client(4)]), 2000);
  t.poll(group([MASTER], [listener, a(1), b(3)]), 3000);
  t.poll(group([MASTER], [listener, a(1), b(3), b(5)]), 4000);
  const rows = t.peers(4000);
  const byPeer = new Map(rows.map((r) => [`${r.direction} ${r.peer}`, r]));
  assert.deepEqual([...byPeer.keys()], ['out 10.0.0.8:6379', 'out 10.0.0.9:5432', 'in 127.0.0.1:8080']);
  const redis = byPeer.get('out 10.0.0.8:6379')!;
  assert.equal(redis.opened, 3);
  assert.equal(redis.closed, 1);
  assert.equal(redis.live, 2);
  assert.deepEqual(redis.lifetimeMs, { p50: 1000 });
  const inbound = byPeer.get('in 127.0.0.1:8080')!;
  assert.deepEqual([inbound.opened, inbound.closed, inbound.live], [1, 1, 0]);
  const pg = byPeer.get('out 10.0.0.9:5432')!;
  assert.deepEqual([pg.opened, pg.closed, pg.live, pg.lifetimeMs], [1, 0, 1, null]);
});

test('peers: bounded, the rest folded into one other row', () => {
  const t = createTracker();
  const conns = Array.from({ length: 8 }, (_, i) => held(100, { inode: i + 1, remote: `10.0.1.${i + 1}:80`, direction: 'out' }));
  t.poll(group([MASTER], []), 1000);
  t.poll(group([MASTER], conns), 2000);
  const rows = t.peers(2000, 5);
  assert.equal(rows.length, 6);
  assert.equal(rows[5]?.peer, 'other');
  assert.equal(rows[5]?.live, 3);
  assert.equal(rows.reduce((s, r) => s + r.opened, 0), 8);
});
