// What the between-poll facility lost reaches the person and the script reading the summary: the
// brief counts are then lower bounds (issue 20: "counted and shown, never silent").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import { briefLossText, summaryLines } from '../../src/views/output/event-lines';
import { lifecycleStatusJson, summaryJson } from '../../src/views/output/json-shapes';
import { testSnapshot } from '../helpers/snapshots';

const T0 = 1_700_000_000_000;

test('nothing lost: no loss line, no counts in the JSON', () => {
  const tracker = createTracker();
  tracker.poll(testSnapshot([]), T0);
  const ok = { facility: 'ebpf' as const };
  assert.equal(briefLossText(ok), undefined);
  assert.ok(!summaryLines(tracker, T0 + 1000, undefined, ok).some((l) => l.startsWith('lost:')));
  assert.deepEqual(summaryJson({ pid: 4242, tracker, nowMs: T0 + 1000, briefConnections: ok }).briefConnections, { facility: 'ebpf' });
  assert.deepEqual(lifecycleStatusJson({ facility: 'none', reason: 'turned off', dropped: 0 }), { facility: 'none', reason: 'turned off' });
});

test('each kind of loss is said on a summary line and counted in summary.briefConnections', () => {
  const tracker = createTracker();
  tracker.poll(testSnapshot([]), T0);
  const lossy = { facility: 'ebpf' as const, dropped: 3, missed: 29 };
  const line = summaryLines(tracker, T0 + 1000, undefined, lossy).find((l) => l.startsWith('lost:'));
  assert.ok(line, 'a loss line');
  assert.match(line, /3 between-poll events dropped/);
  assert.match(line, /29 socket events the kernel skipped/);
  assert.match(line, /under-counted/);
  assert.deepEqual(summaryJson({ pid: 4242, tracker, nowMs: T0 + 1000, briefConnections: lossy }).briefConnections, { facility: 'ebpf', dropped: 3, missed: 29 });
  assert.match(briefLossText({ facility: 'destroy_notifications', overruns: 2 }) ?? '', /2 kernel queue overruns/);
  // a replay has no facility: no field at all
  assert.equal(summaryJson({ pid: 4242, tracker, nowMs: T0 + 1000 }).briefConnections, undefined);
});
