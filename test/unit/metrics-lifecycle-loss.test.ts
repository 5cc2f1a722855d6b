// Events the between-poll facility lost become counters that never go down, across feeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import type { LifecycleStatus } from '../../src/core/lifecycle-types';
import { FeedLoss } from '../../src/views/metrics/feed-loss';
import { SockwatchMetrics } from '../../src/views/metrics/sockwatch-metrics';
import { parsePromText, seriesKey } from '../helpers/prom-text';

const target = '4242';

test('FeedLoss: growth within a feed, a new feed counted from its own 0, junk counts as nothing', () => {
  const f = new FeedLoss();
  assert.equal(f.delta('destroy_notifications', undefined), 0);
  assert.equal(f.delta('destroy_notifications', 3), 3);
  assert.equal(f.delta('destroy_notifications', 3), 0);
  assert.equal(f.delta('destroy_notifications', 7), 4);
  assert.equal(f.delta('ebpf', 2), 2, 'eBPF took over: its count starts at its own 0');
  assert.equal(f.delta('ebpf', 1), 1, 'a count that went down is a new feed of the same facility');
  assert.equal(f.delta('destroy_notifications', 0), 0);
  for (const junk of [NaN, -5, Infinity]) assert.equal(f.delta('destroy_notifications', junk), 0, String(junk));
  assert.equal(f.delta('destroy_notifications', 2), 2);
});

test('the lifecycle loss counters follow the session status at each scrape and never go down', async () => {
  const m = new SockwatchMetrics({ target });
  let status: LifecycleStatus = { facility: 'destroy_notifications', reason: 'eBPF is attaching' };
  m.setView({ tracker: createTracker(), sourceName: 'netlink', now: () => 1_700_000_000_000, get briefConnections() { return status; } });
  const read = async (): Promise<[number | undefined, number | undefined]> => {
    const p = parsePromText((await m.scrape()).body);
    return [p.samples.get(seriesKey('sockwatch_lifecycle_events_dropped_total', { target })), p.samples.get(seriesKey('sockwatch_lifecycle_overruns_total', { target }))];
  };
  assert.deepEqual(await read(), [0, 0], 'there at 0 before anything is lost, so increase() sees the first loss');
  status = { ...status, dropped: 5, overruns: 1 };
  assert.deepEqual(await read(), [5, 1]);
  assert.deepEqual(await read(), [5, 1], 'a second scrape with nothing new adds nothing');
  status = { facility: 'ebpf' };
  assert.deepEqual(await read(), [5, 1], 'eBPF took over with nothing lost: the totals stay');
  status = { facility: 'ebpf', dropped: 2, overruns: 40 };
  assert.deepEqual(await read(), [7, 41]);
  status = { facility: 'ebpf', dropped: 2, overruns: 40, missed: 29 };
  const missed = async (): Promise<number | undefined> => parsePromText((await m.scrape()).body).samples.get(seriesKey('sockwatch_lifecycle_events_missed_total', { target }));
  assert.equal(await missed(), 29, 'recursion misses the kernel counted for the eBPF program');
  assert.equal(await missed(), 29);
});

test('a view without a between-poll facility keeps both counters at 0', async () => {
  const m = new SockwatchMetrics({ target });
  m.setView({ tracker: createTracker(), sourceName: 'procfs', now: () => 0 });
  const p = parsePromText((await m.scrape()).body);
  assert.equal(p.samples.get(seriesKey('sockwatch_lifecycle_events_dropped_total', { target })), 0);
  assert.equal(p.samples.get(seriesKey('sockwatch_lifecycle_overruns_total', { target })), 0);
  assert.equal(p.samples.get(seriesKey('sockwatch_lifecycle_events_missed_total', { target })), 0);
});
