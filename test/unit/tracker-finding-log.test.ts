// Findings that last: raised when the evidence appears, kept for the whole watch with since and
// until, written as `finding` events; none contradicts the evidence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import { FindingLog, FINDING_HISTORY_MAX } from '../../src/core/finding-log';
import { CLOSE_WAIT_MIN_MS, maxOverlap } from '../../src/core/findings';
import type { Finding, TrackerEvent } from '../../src/core/tracker-types';
import { eventJson, summaryJson } from '../../src/views/output/json-shapes';
import { lifetimeText, summaryLines } from '../../src/views/output/event-lines';
import { inodes, snap, type ConnSpec } from '../helpers/snapshots';

function findingEvents(events: readonly TrackerEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'finding' ? [`${e.change} ${e.finding.finding.kind} @${e.atMs}`] : []));
}

const f = (kind: Finding['kind'], basis: string, numbers: Record<string, number>): Finding => ({ kind, message: kind, basis, ...numbers });

test('the log: raised, updated on a new basis or a doubled/halved number, cleared with until', () => {
  const log = new FindingLog();
  assert.deepEqual(log.update([f('close_wait', 'live', { count: 1 })], 100).map((c) => c.change), ['raised']);
  assert.deepEqual(log.update([f('close_wait', 'live', { count: 1 })], 200), []);
  assert.deepEqual(log.update([f('close_wait', 'live', { count: 1.5 })], 300), [], 'small moves are not written');
  assert.deepEqual(log.update([f('close_wait', 'live', { count: 2 })], 400).map((c) => c.change), ['updated']);
  assert.deepEqual(log.update([f('close_wait', 'live', { count: 3 })], 500), []);
  assert.deepEqual(log.update([f('close_wait', 'live', { count: 1 })], 600).map((c) => c.change), ['updated']);
  const cleared = log.update([f('churn', 'polled', { perMinute: 60 })], 700);
  assert.deepEqual(cleared.map((c) => [c.change, c.finding.finding.kind]), [['raised', 'churn'], ['cleared', 'close_wait']]);
  assert.deepEqual(log.update([f('churn', 'polled+brief', { perMinute: 60 })], 800).map((c) => c.change), ['updated']);
  const all = log.all();
  assert.deepEqual(all.map((e) => [e.finding.kind, e.sinceMs, e.untilMs]), [['close_wait', 100, 700], ['churn', 700, null]]);
  // the remembered numbers are the latest while it held
  assert.equal(all[0]?.finding['count'], 1);
});

test('the log is bounded: past the cap a returning kind reopens its latest episode', () => {
  const log = new FindingLog();
  for (let i = 0; i < FINDING_HISTORY_MAX + 10; i++) {
    log.update([f('churn', 'polled', { perMinute: 60 })], i * 200);
    log.update([], i * 200 + 100);
  }
  const all = log.all();
  assert.equal(all.length, FINDING_HISTORY_MAX);
  assert.equal(all.at(-1)?.untilMs, (FINDING_HISTORY_MAX + 9) * 200 + 100);
});

/** A client that leaks: each connection's peer closes it after `serverIdleMs`, the client never does. */
function leak(t = createTracker(), n = 6, serverIdleMs = 2000): { t: typeof t; events: TrackerEvent[]; endMs: number } {
  const events: TrackerEvent[] = [...t.poll(snap([]), 0)];
  let now = 0;
  for (let step = 1; step <= 40; step++) {
    now = step * 250;
    const conns: ConnSpec[] = [];
    for (let i = 1; i <= n; i++) {
      const opened = i * 500;
      if (now < opened) continue;
      conns.push({ inode: i, state: now - opened >= serverIdleMs ? 'CLOSE_WAIT' : 'ESTABLISHED', bytesSent: 120 });
    }
    events.push(...t.poll(snap(conns), now));
  }
  return { t, events, endMs: now };
}

test('a leak is close_wait, never churn, and its finding outlives the target', () => {
  const { t, events, endMs } = leak();
  assert.deepEqual(findingEvents(events).filter((s) => s.includes('close_wait')).slice(0, 1), [`raised close_wait @${500 + 2000 + CLOSE_WAIT_MIN_MS}`]);
  assert.equal(events.some((e) => e.type === 'close'), false);
  const exitEvents = t.processGone(endMs + 100);
  assert.deepEqual(findingEvents(exitEvents).filter((s) => s.includes('close_wait')), [`cleared close_wait @${endMs + 100}`]);
  const all = t.findingHistory();
  const cw = all.find((x) => x.finding.kind === 'close_wait');
  assert.ok(cw);
  assert.equal(cw.untilMs, endMs + 100);
  assert.equal(cw.finding['count'], 6);
  assert.equal(all.some((x) => x.finding.kind === 'churn'), false);
  const summary = summaryJson({ pid: 4242, tracker: t, nowMs: endMs + 200 });
  const listed = summary.findings as { kind: string; since: string; until: string | null }[];
  assert.deepEqual(listed.map((x) => x.kind).filter((k) => k === 'close_wait'), ['close_wait']);
  assert.equal(listed.find((x) => x.kind === 'close_wait')?.until, new Date(endMs + 100).toISOString());
  // the exit closes them; still no churn (closed by the exit, and they had ended in CLOSE_WAIT)
  assert.equal(t.findings(endMs + 200).some((x) => x.kind === 'churn'), false);
});

test('connections that close after sitting in CLOSE_WAIT are not churn', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  let now = 0;
  for (let i = 1; i <= 12; i++) {
    now = i * 1000;
    t.poll(snap([{ inode: i, bytesSent: 100 }]), now);
    t.poll(snap([{ inode: i, state: 'CLOSE_WAIT', bytesSent: 100 }]), now + 300);
    t.poll(snap([]), now + 600);
  }
  assert.equal(t.stats(now + 600).closed, 12);
  assert.equal(t.findings(now + 600).some((x) => x.kind === 'churn'), false);
});

test('a busy keep-alive pool closing together is not churn, even without exchanges', () => {
  const t = createTracker();
  t.poll(snap([]), 0);
  const pool = [1, 2, 3, 4, 5, 6, 7, 8];
  for (let now = 100; now <= 2000; now += 100) t.poll(inodes(...pool), now);
  t.poll(inodes(), 2100);
  assert.equal(t.stats(2100).closed, 8);
  assert.equal(t.findings(2100).some((x) => x.kind === 'churn'), false);
  assert.equal(maxOverlap([{ atMs: 10, lifetimeMs: 10 }, { atMs: 20, lifetimeMs: 10 }]), 1, 'one replacing another is not two at once');
});

test('finding events: raised, then cleared at exit, in NDJSON with since/until and change', () => {
  const { t, events, endMs } = leak(createTracker(), 3);
  const raised = events.find((e) => e.type === 'finding' && e.finding.finding.kind === 'close_wait');
  assert.ok(raised);
  const json = eventJson(4242, raised);
  assert.equal(json.type, 'finding');
  assert.equal(json.change, 'raised');
  const fj = json.finding as Record<string, unknown>;
  assert.equal(fj.kind, 'close_wait');
  assert.equal(fj.until, null);
  assert.equal(typeof fj.since, 'string');
  assert.equal(fj.basis, 'live');
  const cleared = t.processGone(endMs + 50).find((e) => e.type === 'finding' && e.change === 'cleared');
  assert.ok(cleared);
  assert.equal((eventJson(4242, cleared).finding as Record<string, unknown>).until, new Date(endMs + 50).toISOString());
});

test('the summary lines do not contradict each other', () => {
  // closes that all predate the watch: no lifetimes, and said so
  const t = createTracker();
  t.poll(inodes(1, 2), 0);
  t.poll(inodes(), 1000);
  const st = t.stats(1000);
  assert.deepEqual([st.closed, st.closedPreexisting, st.lifetimeMs], [2, 2, null]);
  assert.equal(lifetimeText(st), '2 closed, all preexisting: lifetimes unknown');
  assert.match(summaryLines(t, 1000)[0] ?? '', /closed 2, .*2 closed, all preexisting: lifetimes unknown/);
  assert.equal(lifetimeText(createTracker().stats(0)), 'no connection closed');
  // a mix: the percentiles say how many they describe and what they leave out
  const m = createTracker();
  m.poll(inodes(1), 0);
  m.poll(inodes(1, 2), 100);
  m.poll(inodes(), 400);
  assert.match(lifetimeText(m.stats(400)), /^lifetime of 1 p50 300ms .*\(1 preexisting left out: ages unknown\)$/);
});

test('the summary lists findings that cleared, with until, and those that still hold', () => {
  const { t, endMs } = leak(createTracker(), 6);
  const lines = summaryLines(t, endMs);
  assert.ok(lines.some((l) => /^finding \[close_wait\]: .* \(since \d\d:\d\d:\d\d\.\d{3}, still holds\)$/.test(l)), lines.join('\n'));
  t.processGone(endMs + 10);
  const after = summaryLines(t, endMs + 20);
  // it ended with the exit, which did not fix the leak: the line says so
  assert.ok(after.some((l) => /^finding \[close_wait\]: .* \(\d\d:\d\d:\d\d\.\d{3}–\d\d:\d\d:\d\d\.\d{3}, until the target exited\)$/.test(l)), after.join('\n'));
});
