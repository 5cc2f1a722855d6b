// Line output's columns stay aligned when a dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d;
// a close reads as closed and a finding the exit ended says so (issue 22).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import type { Connection } from '../../src/model';
import { EventStream } from '../../src/watch/event-stream';
import { testSession } from '../helpers/fake-terminal';
import { testConn, testSnapshot } from '../helpers/snapshots';
import { eventLine, hasLine } from '../../src/views/output/event-lines';

const T0 = 1_700_000_000_000;

/** the watch's line output (header and event lines) for these polls */
function lines(polls: Connection[][]): string[] {
  const tracker = createTracker();
  const session = testSession({ tracker, startedMs: T0 });
  const out: string[] = [];
  session.poll(testSnapshot(polls[0] ?? []), T0);
  const stream = new EventStream(session, { json: () => undefined, line: (l) => out.push(l) });
  stream.start(tracker.process!, T0);
  out.push(stream.header());
  polls.slice(1).forEach((p, n) => session.poll(testSnapshot(p), T0 + (n + 1) * 1000));
  stream.dispose();
  return out.filter((l) => /^\S+ +(TIME|EVENT|open|close|state)\b|^TIME /.test(l));
}

/** where each column starts: the index after each run of 2+ spaces or of one space after a word */
function stateColumn(line: string): number {
  const m = /(ESTABLISHED|CLOSE_WAIT|LISTEN|CLOSED|STATE)/.exec(line);
  assert.ok(m, line);
  return m.index;
}

const mapped = (i: number, port = 40000 + i): Partial<Connection> => ({ local: { address: '::ffff:127.0.0.1', port: 8080 }, remote: { address: '::ffff:127.0.0.1', port } });

test('IPv4-mapped endpoints keep the STATE and LIFETIME columns under their headings', () => {
  const listener = testConn(0, { local: { address: '::', port: 8080 }, remote: { address: '::', port: 0 }, state: 'LISTEN' });
  const a = testConn(1, mapped(1, 39184));
  const b = testConn(2, mapped(2, 5));
  const v4 = testConn(3);
  const out = lines([[listener], [listener, a, b, v4], [listener, a]]);
  assert.ok(out.length >= 6, out.join('\n'));
  const header = out.find((l) => l.startsWith('TIME'))!;
  const at = stateColumn(header);
  for (const l of out) assert.equal(stateColumn(l), at, `misaligned:\n${header}\n${l}`);
  assert.ok(out.some((l) => l.includes('[::ffff:127.0.0.1]:39184')));
  // the REMOTE column starts at the same place too
  const remoteAt = header.indexOf('REMOTE');
  for (const l of out.filter((x) => x.includes('[::ffff:127.0.0.1]:39184'))) assert.equal(l.indexOf('[::ffff:127.0.0.1]:39184'), remoteAt, l);
});

test('an IPv4-only watch keeps its 21-column endpoints (lines no wider than before)', () => {
  const out = lines([[testConn(1)], [testConn(1), testConn(2)]]);
  const header = out.find((l) => l.startsWith('TIME'))!;
  assert.equal(header.indexOf('REMOTE') - header.indexOf('LOCAL'), 22);
  for (const l of out) assert.equal(stateColumn(l), stateColumn(header), l);
});

test('a close reads as closed, a finding the exit ended says so, and a poll event writes no line', () => {
  const out = lines([[], [testConn(1), testConn(2)], [testConn(1), testConn(2, { state: 'CLOSE_WAIT' })], []]);
  const closes = out.filter((l) => / close /.test(l));
  assert.equal(closes.length, 2, out.join('\n'));
  // the last polled state was ESTABLISHED: just CLOSED; a CLOSE_WAIT that finally closed says so
  assert.ok(closes.some((l) => / CLOSED /.test(l) && !/>CLOSED/.test(l)), closes.join('\n'));
  assert.ok(closes.some((l) => / CLOSE_WAIT>CLOSED /.test(l)), closes.join('\n'));
  assert.ok(out.every((l) => l.trim() !== ''), 'no empty line for a poll event');
  const ended = eventLine({
    type: 'finding',
    atMs: T0,
    change: 'cleared',
    cause: 'exit',
    finding: { finding: { kind: 'close_wait', basis: 'live', message: 'a leak' }, sinceMs: T0 - 5000, untilMs: T0, cause: 'exit' },
  });
  assert.match(ended, /finding \[close_wait\] ended \(target exited\): a leak$/);
  assert.equal(hasLine({ type: 'poll', atMs: T0 }), false);
});
