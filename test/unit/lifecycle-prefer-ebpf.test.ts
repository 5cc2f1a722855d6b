// The 'auto' facility's switch from destroy notifications to eBPF, with fake feeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LifecycleStatus, SocketLifecycleEvent } from '../../src/core/lifecycle-types';
import type { LifecycleFeed } from '../../src/sources/lifecycle/lifecycle-feed';
import { PreferEbpf } from '../../src/sources/lifecycle/open-lifecycle';
import { SockwatchError } from '../../src/errors';

class FakeFeed implements LifecycleFeed {
  queue: SocketLifecycleEvent[] = [];
  closed = false;
  constructor(
    public status: LifecycleStatus,
    readonly sinceMs?: number,
    readonly stopped?: Promise<string>,
  ) {}
  drain(): SocketLifecycleEvent[] {
    const q = this.queue;
    this.queue = [];
    return q;
  }
  close(): void {
    this.closed = true;
  }
}

const ended = (atMs: number, port: number, pid?: number): SocketLifecycleEvent => ({
  kind: 'ended',
  atMs,
  protocol: 'tcp',
  local: { address: '127.0.0.1', port },
  remote: { address: '127.0.0.1', port: 80 },
  ...(pid === undefined ? {} : { pid }),
});

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => {
    resolve = a;
    reject = b;
  });
  return { promise, resolve, reject };
}

test('until eBPF attaches, destroy notifications; at the switch, their events from the attach on are dropped', async () => {
  const destroy = new FakeFeed({ facility: 'destroy_notifications', reason: 'eBPF is attaching' });
  const ebpf = new FakeFeed({ facility: 'ebpf' }, 1000);
  const d = deferred<LifecycleFeed>();
  const feed = new PreferEbpf(destroy, d.promise, {}, new AbortController());
  assert.deepEqual(feed.status, { facility: 'destroy_notifications', reason: 'eBPF is attaching' });
  destroy.queue.push(ended(900, 1));
  assert.deepEqual(feed.drain().map((e) => e.local.port), [1]);
  destroy.queue.push(ended(990, 2), ended(1000, 3), ended(1010, 4));
  ebpf.queue.push(ended(1005, 5, 42));
  d.resolve(ebpf);
  await d.promise;
  await Promise.resolve();
  assert.ok(destroy.closed, 'the destroy listener is closed at the switch');
  assert.deepEqual(feed.status, { facility: 'ebpf' });
  assert.deepEqual(feed.drain().map((e) => e.local.port), [2, 5], 'before the attach from destroy, after it from eBPF only');
  ebpf.queue.push(ended(2000, 6, 42));
  assert.deepEqual(feed.drain().map((e) => e.local.port), [6]);
  feed.close();
  assert.ok(ebpf.closed);
});

test('when eBPF fails, its reason replaces "attaching" and destroy notifications go on', async () => {
  const destroy = new FakeFeed({ facility: 'destroy_notifications', reason: 'eBPF is attaching' });
  const d = deferred<LifecycleFeed>();
  const feed = new PreferEbpf(destroy, d.promise, {}, new AbortController());
  d.reject(new SockwatchError('not_supported', 'eBPF needs root (sockwatch runs as uid 1000)'));
  await d.promise.catch(() => undefined);
  await Promise.resolve();
  assert.deepEqual(feed.status, { facility: 'destroy_notifications', reason: 'eBPF needs root (sockwatch runs as uid 1000)' });
  destroy.status = { facility: 'none', reason: 'eBPF is attaching; destroy notifications only cover sockwatch\'s network namespace and PID 7 is in another one' };
  assert.deepEqual(feed.status, {
    facility: 'none',
    reason: 'eBPF needs root (sockwatch runs as uid 1000); destroy notifications only cover sockwatch\'s network namespace and PID 7 is in another one',
  });
  assert.ok(!destroy.closed);
});

test('closing while bpftrace still attaches aborts it, and a late attach is closed at once', async () => {
  const destroy = new FakeFeed({ facility: 'destroy_notifications', reason: 'eBPF is attaching' });
  const ebpf = new FakeFeed({ facility: 'ebpf' }, 1);
  const d = deferred<LifecycleFeed>();
  const abort = new AbortController();
  const feed = new PreferEbpf(destroy, d.promise, {}, abort);
  feed.close();
  assert.ok(abort.signal.aborted);
  assert.ok(destroy.closed);
  d.resolve(ebpf);
  await d.promise;
  await Promise.resolve();
  assert.ok(ebpf.closed);
});

test('bpftrace stopping after the switch: its last events are kept and destroy notifications come back, saying why', async () => {
  const destroy = new FakeFeed({ facility: 'destroy_notifications', reason: 'eBPF is attaching' });
  const stop = deferred<string>();
  const ebpf = new FakeFeed({ facility: 'ebpf' }, 1000, stop.promise);
  const again = new FakeFeed({ facility: 'destroy_notifications', reason: 'eBPF is attaching' });
  const d = deferred<LifecycleFeed>();
  const feed = new PreferEbpf(destroy, d.promise, {}, new AbortController(), async () => again);
  d.resolve(ebpf);
  await d.promise;
  await Promise.resolve();
  assert.deepEqual(feed.status, { facility: 'ebpf' });
  ebpf.queue.push(ended(1500, 7, 42));
  stop.resolve('bpftrace exited (exit 137)');
  await stop.promise;
  for (let i = 0; i < 5; i++) await Promise.resolve();
  assert.ok(ebpf.closed);
  assert.deepEqual(feed.status, { facility: 'destroy_notifications', reason: 'bpftrace exited (exit 137)' });
  again.queue.push(ended(1600, 8));
  assert.deepEqual(feed.drain().map((e) => e.local.port), [7, 8]);
});
