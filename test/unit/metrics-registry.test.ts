import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import type { TrackerEvent } from '../../src/core/tracker-types';
import type { Connection } from '../../src/model';
import { EXCHANGE_BUCKETS, LIFETIME_BUCKETS_SECONDS, POLL_BUCKETS_SECONDS, SockwatchMetrics } from '../../src/views/metrics/sockwatch-metrics';
import { testSession } from '../helpers/fake-terminal';
import { testConn, testSnapshot } from '../helpers/snapshots';
import { parsePromText, seriesKey, type ParsedMetrics } from '../helpers/prom-text';

const T0 = 1_700_000_000_000;
const target = '4242';

async function scrape(m: SockwatchMetrics): Promise<ParsedMetrics> {
  return parsePromText((await m.scrape()).body);
}

/** The samples of a histogram with these cumulative bucket counts (the last is +Inf). */
function histogram(name: string, buckets: readonly number[], cumulative: readonly number[], sum: number): Record<string, number> {
  assert.equal(cumulative.length, buckets.length + 1, `${name}: one count per bucket plus +Inf`);
  const out: Record<string, number> = {};
  buckets.forEach((le, i) => (out[seriesKey(`${name}_bucket`, { le: String(le), target })] = cumulative[i]!));
  out[seriesKey(`${name}_bucket`, { le: '+Inf', target })] = cumulative[buckets.length]!;
  out[seriesKey(`${name}_sum`, { target })] = sum;
  out[seriesKey(`${name}_count`, { target })] = cumulative[buckets.length]!;
  return out;
}

const tcp = (bytesSent: number, bytesReceived: number): NonNullable<Connection['tcp']> => ({
  bytesSent,
  bytesReceived,
  rttMs: 1,
  rttVarMs: 0.5,
  retransmits: 0,
  lastSendMs: 0,
  lastReceiveMs: 0,
  cookie: '77',
});

/**
 * A: preexisting, closes; B: preexisting, goes to CLOSE_WAIT and stays; C: opened, 2 exchanges,
 * 250/2600 bytes, lives 400 ms; D: opened, lives until the exit (4 s); E: opened, lives 47 ms;
 * one brief connection (3 ms, 1 exchange) known only by its close; then the target exits.
 */
function runSequence(m: SockwatchMetrics): ReturnType<typeof testSession> {
  const session = testSession({ tracker: createTracker(), startedMs: T0 });
  m.attach(session);
  const A = testConn(1);
  const B = testConn(2);
  const Bcw = testConn(2, { state: 'CLOSE_WAIT' });
  const C1 = testConn(3, { tcp: tcp(100, 1000) });
  const C2 = testConn(3, { tcp: tcp(250, 2600) });
  const D = testConn(4);
  const E = testConn(5);
  session.poll(testSnapshot([A, B]), T0);
  session.poll(testSnapshot([A, B, C1, D]), T0 + 1000);
  session.poll(testSnapshot([Bcw, C1, D, E]), T0 + 1003);
  session.poll(testSnapshot([Bcw, C2, D, E]), T0 + 1010);
  session.poll(testSnapshot([Bcw, C2, D]), T0 + 1050);
  session.poll(testSnapshot([Bcw, D]), T0 + 1400);
  return session;
}

function briefClose(atMs: number): TrackerEvent {
  const conn = { id: 'b1', key: 'brief', connection: testConn(9), firstSeenMs: atMs - 3, lastSeenMs: atMs, preexisting: false, states: [], exchanges: 1 };
  // `brief` is the field the tracker's between-poll evidence adds to close events.
  return { type: 'close', atMs, conn, lifetimeMs: 3, closeTime: 'exact', brief: true };
}

test('every metric after a synthetic sequence of tracker events, exact values', async () => {
  const m = new SockwatchMetrics({ target });
  const session = runSequence(m);
  m.observePoll(0.002);
  m.observePoll(0.03);
  m.observePoll(0.0004, true);

  session.setNow(T0 + 3100); // B has been in CLOSE_WAIT for 2.097 s
  const live = await scrape(m);
  const s = (name: string, labels: Record<string, string> = {}): number | undefined => live.samples.get(seriesKey(name, { target, ...labels }));
  assert.equal(s('sockwatch_connections', { state: 'ESTABLISHED' }), 1, 'D');
  assert.equal(s('sockwatch_connections', { state: 'CLOSE_WAIT' }), 1, 'B');
  assert.equal(s('sockwatch_finding', { kind: 'close_wait' }), 1);
  assert.equal(s('sockwatch_target_up'), 1);
  assert.equal(s('sockwatch_connections_opened_total'), 3, 'C, D, E (A and B were there at the start)');
  assert.equal(s('sockwatch_connections_closed_total'), 3, 'A, E, C');

  m.record([briefClose(T0 + 3000)]);
  session.gone(T0 + 5000);
  const after = await scrape(m);
  const expected: Record<string, number> = {
    [seriesKey('sockwatch_connections_opened_total', { target })]: 4,
    [seriesKey('sockwatch_connections_closed_total', { target })]: 6,
    ...histogram('sockwatch_connection_lifetime_seconds', LIFETIME_BUCKETS_SECONDS, [0, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4], 0.047 + 0.4 + 0.003 + 4),
    ...histogram('sockwatch_connection_exchanges', EXCHANGE_BUCKETS, [0, 1, 2, 2, 2, 2, 2, 2, 2, 2], 3),
    [seriesKey('sockwatch_sent_bytes_total', { target })]: 250,
    [seriesKey('sockwatch_received_bytes_total', { target })]: 2600,
    ...histogram('sockwatch_poll_duration_seconds', POLL_BUCKETS_SECONDS, [1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3], 0.002 + 0.03 + 0.0004),
    [seriesKey('sockwatch_poll_errors_total', { target })]: 1,
    [seriesKey('sockwatch_target_exits_total', { target })]: 1,
    [seriesKey('sockwatch_lifecycle_events_dropped_total', { target })]: 0,
    [seriesKey('sockwatch_lifecycle_overruns_total', { target })]: 0,
    [seriesKey('sockwatch_lifecycle_events_missed_total', { target })]: 0,
    [seriesKey('sockwatch_connections', { target, state: 'ESTABLISHED' })]: 0,
    [seriesKey('sockwatch_connections', { target, state: 'CLOSE_WAIT' })]: 0,
    [seriesKey('sockwatch_finding', { target, kind: 'reuse' })]: 0,
    [seriesKey('sockwatch_finding', { target, kind: 'churn' })]: 0,
    [seriesKey('sockwatch_finding', { target, kind: 'close_wait' })]: 0,
    [seriesKey('sockwatch_finding', { target, kind: 'growth' })]: 0,
    [seriesKey('sockwatch_source_info', { target, source: 'procfs' })]: 1,
    [seriesKey('sockwatch_target_info', { target, pid: '4242', command: 'node', start_time: '2024-01-01T00:00:00.000Z' })]: 1,
    [seriesKey('sockwatch_target_up', { target })]: 0,
    [seriesKey('sockwatch_target_start_time_seconds', { target })]: 1_704_067_200,
  };
  assert.deepEqual(Object.fromEntries(after.samples), expected);
  for (const name of after.types.keys()) {
    assert.ok(name.startsWith('sockwatch_'), name);
    assert.ok((after.help.get(name) ?? '').length > 20, `${name} has HELP text`);
  }
});

test('before the first poll every counter and histogram is there at 0, and no gauge claims a target', async () => {
  const p = await scrape(new SockwatchMetrics({ target }));
  assert.equal(p.samples.get(seriesKey('sockwatch_connections_opened_total', { target })), 0);
  assert.equal(p.samples.get(seriesKey('sockwatch_connection_lifetime_seconds_count', { target })), 0);
  assert.equal(p.samples.get(seriesKey('sockwatch_target_up', { target })), undefined);
  assert.equal([...p.samples.keys()].some((k) => k.startsWith('sockwatch_peer_')), false, 'no peer series without --metrics-peers');
});

test('a new process under the PID: the counters go on, the target info shows the new start time', async () => {
  const m = new SockwatchMetrics({ target });
  const session = testSession({ tracker: createTracker(), startedMs: T0 });
  m.attach(session);
  session.poll(testSnapshot([]), T0);
  session.poll(testSnapshot([testConn(1), testConn(2)]), T0 + 1000);
  session.poll(testSnapshot([testConn(3)], { startTime: '2024-01-02T00:00:00.000Z' }), T0 + 2000);
  session.poll(testSnapshot([testConn(3), testConn(4)], { startTime: '2024-01-02T00:00:00.000Z' }), T0 + 3000);
  const p = await scrape(m);
  assert.equal(session.tracker.stats(T0 + 3000).opened, 1, 'the tracker restarted its own count');
  assert.equal(p.samples.get(seriesKey('sockwatch_connections_opened_total', { target })), 3, '2 before the restart, 1 after');
  assert.equal(p.samples.get(seriesKey('sockwatch_connections_closed_total', { target })), 2);
  assert.equal(p.samples.get(seriesKey('sockwatch_target_exits_total', { target })), 1);
  const info = [...p.samples.keys()].filter((k) => k.startsWith('sockwatch_target_info'));
  assert.deepEqual(info, [seriesKey('sockwatch_target_info', { target, pid: '4242', command: 'node', start_time: '2024-01-02T00:00:00.000Z' })]);
  assert.equal(p.samples.get(seriesKey('sockwatch_target_start_time_seconds', { target })), 1_704_153_600);
});

test('serve of a PID taken over by another process (no --name): target down, the target info stays the original', async () => {
  const m = new SockwatchMetrics({ target });
  const session = testSession({ tracker: createTracker({ adoptNewProcess: false }), startedMs: T0 });
  m.attach(session);
  session.poll(testSnapshot([]), T0);
  session.poll(testSnapshot([testConn(1)]), T0 + 1000);
  session.poll(testSnapshot([testConn(3)], { startTime: '2024-01-02T00:00:00.000Z', command: 'intruder' }), T0 + 2000);
  session.poll(testSnapshot([testConn(3), testConn(4)], { startTime: '2024-01-02T00:00:00.000Z', command: 'intruder' }), T0 + 3000);
  const p = await scrape(m);
  assert.equal(p.samples.get(seriesKey('sockwatch_target_up', { target })), 0);
  assert.equal(p.samples.get(seriesKey('sockwatch_target_exits_total', { target })), 1);
  assert.equal(p.samples.get(seriesKey('sockwatch_connections_opened_total', { target })), 1, 'the newcomer\'s connections are not counted');
  const info = [...p.samples.keys()].filter((k) => k.startsWith('sockwatch_target_info'));
  assert.equal(info.length, 1);
  assert.match(info[0]!, /command="node"/);
  assert.doesNotMatch(info[0]!, /2024-01-02/);
});

test('the TUI resetting its counters does not reset the metrics', async () => {
  const m = new SockwatchMetrics({ target });
  const session = testSession({ tracker: createTracker(), startedMs: T0 });
  m.attach(session);
  session.poll(testSnapshot([]), T0);
  session.poll(testSnapshot([testConn(1)]), T0 + 1000);
  session.tracker.resetBaseline(T0 + 1500);
  session.poll(testSnapshot([testConn(1), testConn(2)]), T0 + 2000);
  const p = await scrape(m);
  assert.equal(p.samples.get(seriesKey('sockwatch_connections_opened_total', { target })), 2);
});

test('each SockwatchMetrics has its own registry (two watches in one process do not collide)', async () => {
  const a = new SockwatchMetrics({ target: '1' });
  const b = new SockwatchMetrics({ target: '2' });
  a.record([briefClose(T0)]);
  const pb = await scrape(b);
  assert.equal(pb.samples.get(seriesKey('sockwatch_connections_opened_total', { target: '2' })), 0);
  assert.equal([...pb.samples.keys()].some((k) => k.includes('target="1"')), false);
});
