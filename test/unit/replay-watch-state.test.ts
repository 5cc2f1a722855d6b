// A watch written as NDJSON (the very serializer --record uses) and replayed from it arrives at the
// same summary, field for field: the replay feeds the recorded events to the same watch state, and
// the poll events carry what the connection events do not (issue 22). Synthetic polls; the real
// programs' recordings are in test/integration/replay-real-recordings.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import type { SocketEnded } from '../../src/core/lifecycle-types';
import type { Snapshot } from '../../src/model';
import type { Tracker, TrackerEvent } from '../../src/core/tracker-types';
import { EventLens } from '../../src/core/lens';
import { findingMessage } from '../../src/views/output/finding-message';
import { eventJson, startEventJson, summaryJson, type JsonObject } from '../../src/views/output/json-shapes';
import { RecordingBuilder } from '../../src/replay/recording';
import { analyzeRecording } from '../../src/replay/replay-analysis';
import { compareSummaries } from '../../src/replay/summary-check';
import { conn, endpoint, proc, snap, tcp, type ConnSpec } from '../helpers/snapshots';

const T0 = 1_700_000_000_000;

/** a keep-alive connection after `n` exchanges (one data segment each way per exchange) */
function used(spec: ConnSpec, n: number): ReturnType<typeof conn> {
  return { ...conn(spec), tcp: tcp({ cookie: String(spec.inode), bytesSent: 100 * n, segmentsSent: n, segmentsReceived: n }) };
}

function ended(local: string, remote: string, atMs: number, over: Partial<SocketEnded> = {}): SocketEnded {
  return { kind: 'ended', atMs, protocol: 'tcp', local: endpoint(local), remote: endpoint(remote), state: 'LAST_ACK', ...over };
}

/** Records a watch as --record does (through the lens), then replays the recording. */
class Recorded {
  readonly t: Tracker = createTracker({ describeFinding: findingMessage });
  private readonly lines: JsonObject[] = [];
  private readonly lens = new EventLens('all');

  constructor(first: Snapshot) {
    this.take(this.t.poll(first, T0));
    this.lines.unshift(startEventJson({ timeMs: T0, process: first.process, intervalMs: 1000, source: 'procfs', states: 'all' }));
  }

  take(events: readonly TrackerEvent[]): TrackerEvent[] {
    for (const e of this.lens.pass(events)) this.lines.push(eventJson(4242, e));
    return [...events];
  }

  /** the recorded summary and the replayed one */
  finish(endMs: number): { recorded: JsonObject; replayed: JsonObject } {
    const recorded = summaryJson({ pid: 4242, tracker: this.t, nowMs: endMs });
    const b = new RecordingBuilder('synthetic.ndjson');
    for (const l of [...this.lines, recorded]) b.addLine(JSON.stringify(l), 0);
    const rec = b.finish();
    assert.deepEqual(rec.warnings, []);
    return { recorded: JSON.parse(JSON.stringify(recorded)) as JsonObject, replayed: JSON.parse(JSON.stringify(analyzeRecording(rec).summary)) as JsonObject };
  }
}

function assertSame(recorded: JsonObject, replayed: JsonObject): void {
  assert.deepEqual(compareSummaries(recorded, replayed), []);
  for (const k of Object.keys(recorded)) if (k !== 'connections') assert.deepEqual(replayed[k], recorded[k], k);
  const live = (s: JsonObject): unknown[] => (s.connections as JsonObject[]).map((c) => [c.id, c.state, c.exchanges, c.lifetimeMs, c.preexisting]);
  assert.deepEqual(live(replayed), live(recorded));
}

test('reuse, churn, a CLOSE_WAIT leak and the exit that ends it: the replay reproduces the summary', () => {
  const w = new Recorded(snap([used({ inode: 1 }, 0)]));
  const leak = { inode: 500, remote: '10.0.0.3:80' };
  let at = T0;
  for (let i = 1; i <= 12; i++) {
    at = T0 + i * 1000;
    // a new connection per poll to the churn peer, each gone at the next poll; the leak turns CLOSE_WAIT
    const churn = { inode: 100 + i, remote: '10.0.0.9:80' };
    const leaked = i < 4 ? [] : [{ ...leak, state: i < 6 ? ('ESTABLISHED' as const) : ('CLOSE_WAIT' as const) }];
    w.take(w.t.poll(snap([used({ inode: 1 }, i), used(churn, 1), ...leaked]), at));
  }
  const events = w.take(w.t.processGone(at + 500));
  // the leak and the churn stopped because the process exited, and say so
  const ended = events.filter((e) => e.type === 'finding' && e.change === 'cleared');
  assert.ok(ended.length > 0 && ended.every((e) => e.type === 'finding' && e.cause === 'exit'), JSON.stringify(ended));
  assert.ok(events.some((e) => e.type === 'close' && e.cause === 'exit'));
  const { recorded, replayed } = w.finish(at + 500);
  const kinds = (recorded.findings as JsonObject[]).map((f) => f.kind).sort();
  assert.deepEqual(kinds, ['churn', 'close_wait', 'reuse']);
  // the keep-alive connection made one exchange per poll: twelve, from the poll events' counts
  const reuse = (replayed.findings as JsonObject[]).find((f) => f.kind === 'reuse');
  assert.deepEqual([reuse?.id, reuse?.exchanges], ['c1', 12]);
  assertSame(recorded, replayed);
});

test('brief, likely and unattributed connections between polls: the replay reproduces the summary', () => {
  const listener: ConnSpec = { inode: 900, state: 'LISTEN', local: '0.0.0.0:8080', remote: '0.0.0.0:0' };
  const w = new Recorded(snap([listener, { inode: 1, remote: '10.0.0.7:443' }]));
  const hints = { likelyRemotes: new Set(['10.0.0.7:443']) };
  for (let i = 1; i <= 6; i++) {
    const at = T0 + i * 1000;
    const life = [
      // inbound to the listener: the target's (brief closes with exchanges)
      ended('10.0.0.1:8080', `10.0.0.50:${50000 + i}`, at - 400, { startedAtMs: at - 450, tcp: tcp({ cookie: `b${i}`, segmentsSent: 1, segmentsReceived: 1 }) }),
      // outbound, no owner, to an endpoint only the target talks to: likely
      ended(`10.0.0.1:${52000 + i}`, '10.0.0.7:443', at - 300, { state: 'FIN_WAIT2' }),
      // outbound, no owner, elsewhere: unattributed
      ended(`10.0.0.1:${53000 + i}`, '10.0.0.8:25', at - 200),
    ];
    const events = w.take(w.t.poll(snap([listener, { inode: 1, remote: '10.0.0.7:443' }]), at, life, hints));
    const brief = events.find((e) => e.type === 'close' && e.brief === true);
    // the kernel's end state rides along; the close is not read as a stuck LAST_ACK socket
    assert.ok(brief?.type === 'close' && brief.finalState === 'LAST_ACK' && brief.conn.exchanges === 1, JSON.stringify(brief));
  }
  const { recorded, replayed } = w.finish(T0 + 6500);
  assert.deepEqual([recorded.brief, recorded.likelyBrief, recorded.listening], [6, 6, 1]);
  assert.equal((recorded.unattributedBrief as JsonObject[])[0]?.count, 6);
  assertSame(recorded, replayed);
});

test('a PID taken over by a new process under --name (adopted): the counters restart, and so do the replay\'s', () => {
  const w = new Recorded(snap([{ inode: 1 }, { inode: 2 }]));
  w.take(w.t.poll(snap([{ inode: 1 }, { inode: 2 }, { inode: 3 }]), T0 + 1000));
  w.take(w.t.poll(snap([{ inode: 1 }, { inode: 3 }]), T0 + 2000));
  const newcomer = { startTime: '2024-01-01T00:05:00.000Z', command: 'python3' };
  const events = w.take(w.t.poll(snap([{ inode: 7 }, { inode: 8 }], newcomer), T0 + 3000));
  assert.ok(events.some((e) => e.type === 'exit' && e.reason === 'pid_reused'));
  w.take(w.t.poll(snap([{ inode: 7 }, { inode: 8 }, { inode: 9 }], newcomer), T0 + 4000));
  const { recorded, replayed } = w.finish(T0 + 4000);
  assert.deepEqual([recorded.opened, recorded.closed, recorded.durationMs], [1, 0, 1000]);
  assertSame(recorded, replayed);
  assert.equal(proc().pid, 4242);
});
