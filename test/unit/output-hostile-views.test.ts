// Every text view, fed a process and peers that name themselves with escape sequences and bidi
// controls: the start line, a group's start line, event lines (open, close, state, exit, finding),
// the summary, the text snapshot (one process and a group), the TUI's frame and its event log.
// None may pass a raw control through; each shows the escaped form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createTracker } from '../../src/core/tracker';
import type { Connection, ProcessInfo } from '../../src/model';
import { EventStream } from '../../src/watch/event-stream';
import { eventLine, findingLine, groupStartLine, startLine, summaryLines } from '../../src/views/output/event-lines';
import { snapshotTable } from '../../src/views/output/snapshot-table';
import { findingMessage } from '../../src/views/output/finding-message';
import { buildScreenModel } from '../../src/views/tui/screen-model';
import { EventLog } from '../../src/views/tui/event-log';
import { initialUiState } from '../../src/views/tui/ui-state';
import { lineToTags } from '../../src/views/tui/draw';
import { plain } from '../../src/views/tui/line';
import { testSession } from '../helpers/fake-terminal';
import { testConn, testSnapshot } from '../helpers/snapshots';
import { assertNoRawControls, hostileString, RETITLE_AND_CLEAR, RLO } from '../helpers/hostile-text';

const T0 = 1_700_000_000_000;
const HOSTILE_COMM = RETITLE_AND_CLEAR;
const SHOWN_COMM = '\\x1b]0;T\\x07\\x1b[2J';

function hostileConn(i: number, address: string): Connection {
  return testConn(i, { remote: { address, port: 80 }, direction: 'out' });
}

/** a whole watch of a hostile process, in line mode: every line it prints */
function watchLines(p: Partial<ProcessInfo>, address: string, group?: string, polls = 80): string[] {
  const tracker = createTracker({ describeFinding: findingMessage });
  const session = testSession({ tracker, startedMs: T0 });
  const out: string[] = [];
  const conns = [hostileConn(1, address), hostileConn(2, address)];
  session.poll(testSnapshot(conns, p), T0);
  const stream = new EventStream(session, { json: () => undefined, line: (l) => out.push(l) });
  stream.start(tracker.process!, T0, group !== undefined ? { group, processes: [tracker.process!] } : {});
  out.push(stream.header());
  session.poll(testSnapshot([{ ...conns[0]!, state: 'CLOSE_WAIT' }], p), T0 + 1000);
  // long enough in CLOSE_WAIT for the close_wait finding, whose message names the endpoints
  for (let t = 2; t < polls; t++) session.poll(testSnapshot([{ ...conns[0]!, state: 'CLOSE_WAIT' }, hostileConn(3, address)], p), T0 + t * 1000);
  for (const e of tracker.processGone(T0 + polls * 1000)) out.push(eventLine(e));
  out.push(...stream.summary(T0 + polls * 1000).lines);
  stream.dispose();
  return out;
}

test('line mode: start line, events, exit line and summary of a hostile process show escapes', () => {
  const out = watchLines({ command: HOSTILE_COMM, user: `ev${RLO}il`, cmdline: `x ${RETITLE_AND_CLEAR}` }, `10.0.0.${RLO}9\x1b[K`);
  const text = out.join('\n');
  assertNoRawControls(text, 'line output');
  assert.ok(out[0]!.startsWith(`watching PID 4242 (${SHOWN_COMM}) user ev\\u202eil — source`), out[0]);
  assert.ok(out.some((l) => / open /.test(l) && l.includes('10.0.0.\\u202e9\\x1b[K:80')), text);
  assert.ok(out.some((l) => / close /.test(l) && l.includes('10.0.0.\\u202e9\\x1b[K:80')), text);
  assert.ok(out.some((l) => l.includes(`exit  PID 4242 (${SHOWN_COMM}) exited`)), text);
  assert.ok(out.some((l) => l.includes('finding [close_wait]')), 'a finding was raised, so its line was checked too');
});

test('a group start line (--name, -p a,b) escapes what was asked for and every name', () => {
  const p: ProcessInfo = { pid: 7, command: HOSTILE_COMM, cmdline: '', user: 'u' };
  const line = groupStartLine(`name "${RLO}x"`, [p, { ...p, pid: 8, command: `a${RLO}b` }], 'procfs', 1000, 'all');
  assertNoRawControls(line, 'group line');
  assert.ok(line.startsWith(`watching name "\\u202ex": 2 processes: 7 (${SHOWN_COMM}), 8 (a\\u202eb) — source`), line);
  const out = watchLines({ command: HOSTILE_COMM }, '10.0.0.2', 'PIDs 4242,4243');
  assertNoRawControls(out.join('\n'), 'group watch');
  assert.ok(out[0]!.includes(`4242 (${SHOWN_COMM})`), out[0]);
});

test('a finding line shows its message escaped (a reuse message names the endpoints)', () => {
  const message = findingMessage({ kind: 'reuse', basis: 'polled', exchanges: 9, lifetimeMs: 5000, reusedConnections: 1 }, { connection: hostileConn(1, `6.6.6.6${RLO}`), preexisting: false });
  const line = findingLine({ kind: 'reuse', basis: 'polled', message });
  assertNoRawControls(line, 'finding');
  assert.ok(line.includes('→6.6.6.6\\u202e:80 carried 9 exchanges'), line);
});

test('text snapshot: header, command line and endpoints escaped, columns still aligned', () => {
  const p: ProcessInfo = { pid: 4242, command: HOSTILE_COMM, cmdline: `python3 -c ${RETITLE_AND_CLEAR}\n${RLO}`, user: `r${RLO}t` };
  const c = hostileConn(1, `1.2.3.4${RLO}`);
  const text = snapshotTable(p, 'all', [c, testConn(2)], false);
  assertNoRawControls(text, 'snapshot');
  const [head, header, ...rows] = text.trimEnd().split('\n');
  assert.equal(head, `PID 4242 (${SHOWN_COMM}) user r\\u202et: python3 -c ${SHOWN_COMM} \\u202e — 2 TCP connections (all states)`);
  assert.ok(rows[0]!.includes('1.2.3.4\\u202e:80'), rows[0]);
  for (const r of rows) assert.equal(r.indexOf('ESTABLISHED'), header!.indexOf('STATE'), `misaligned:\n${header}\n${r}`);
  const group = snapshotTable([p, { ...p, pid: 9 }], 'all', [c], false);
  assertNoRawControls(group, 'group snapshot');
  assert.ok(group.startsWith(`2 processes: 4242 (${SHOWN_COMM}), 9 (${SHOWN_COMM}) — `), group);
});

test('TUI: header, REMOTE column, event log, findings and blessed tags of a hostile process', () => {
  const tracker = createTracker({ describeFinding: findingMessage });
  const session = testSession({ tracker, startedMs: T0 });
  const log = new EventLog();
  session.onUpdate((events) => log.add(events));
  const p = { command: `{bold}${HOSTILE_COMM}`, user: `{/}${RLO}`, cmdline: `node ${RETITLE_AND_CLEAR}{red-fg}` };
  const c = hostileConn(1, `10.9.9.9${RLO}{/}`);
  for (let t = 0; t < 80; t++) session.poll(testSnapshot([{ ...c, state: t === 0 ? 'ESTABLISHED' : 'CLOSE_WAIT' }], p), T0 + t * 1000);
  const frame = (nowMs: number, plainColors: boolean): ReturnType<typeof buildScreenModel> =>
    buildScreenModel({ tracker, session, ui: initialUiState(), nowMs, width: 160, height: 40, log, plain: plainColors });
  const live = frame(T0 + 80_000, false);
  assertNoRawControls(live.lines.map(plain).join('\n'), 'TUI frame');
  assert.ok(live.table.rows.map(plain).some((l) => l.includes('10.9.9.9\\u202e{/}:80')), 'REMOTE column');
  tracker.processGone(T0 + 80_000).forEach((e) => log.add([e]));
  for (const plainColors of [false, true]) {
    const m = frame(T0 + 81_000, plainColors);
    const text = m.lines.map(plain).join('\n');
    assertNoRawControls(text, 'TUI frame');
    assert.ok(text.includes(`{bold}${SHOWN_COMM}`), text);
    assert.ok(text.includes(`$ node ${SHOWN_COMM}{red-fg}`), text);
    assert.ok(m.log.map(plain).some((l) => l.includes('10.9.9.9\\u202e{/}:80')), 'event log');
    assert.ok(m.log.map(plain).some((l) => l.includes(`(${'{bold}' + SHOWN_COMM}) exited`)), 'exit in the event log');
    assert.ok(m.findings.length > 0, 'the close_wait finding is shown');
    // blessed would read {bold} or {/} in content as tags: every brace of foreign text is escaped
    const tags = m.lines.map((l) => lineToTags(l, true)).join('\n');
    assertNoRawControls(tags, 'TUI tags');
    const foreign = tags.replace(/\{(open|close)\}/g, '').replace(/\{\/\}|\{(bold|inverse|[a-z]+-fg)\}/g, '');
    assert.ok(!/[{}]/.test(foreign), 'no unescaped brace left once sockwatch\'s own tags are taken out');
    assert.ok(!tags.includes('{bold}\\x1b'), 'the comm\'s own {bold} is escaped, not a tag');
  }
});

test('property: any hostile comm, user, command line and address: no view passes a raw control', () => {
  fc.assert(
    fc.property(hostileString(), hostileString(), hostileString(), hostileString(20), (command, user, cmdline, address) => {
      const p = { command, user, cmdline };
      const out = watchLines(p, address, undefined, 4);
      assertNoRawControls(out.join('\n'), 'line output');
      const full: ProcessInfo = { pid: 1, ...p };
      assertNoRawControls(startLine(full, 'netlink', 1000, 'all'), 'start line');
      assertNoRawControls(snapshotTable(full, 'all', [hostileConn(1, address)], false), 'snapshot');
      const tracker = createTracker({ describeFinding: findingMessage });
      const session = testSession({ tracker, startedMs: T0 });
      const log = new EventLog();
      session.onUpdate((events) => log.add(events));
      session.poll(testSnapshot([hostileConn(1, address)], p), T0);
      const m = buildScreenModel({ tracker, session, ui: initialUiState(), nowMs: T0 + 1000, width: 100, height: 30, log });
      assert.equal(m.table.rows.length, 1);
      assertNoRawControls(m.lines.map(plain).join('\n'), 'TUI');
      log.add(tracker.processGone(T0 + 1000));
      const gone = buildScreenModel({ tracker, session, ui: initialUiState(), nowMs: T0 + 1000, width: 100, height: 30, log });
      assertNoRawControls(gone.lines.map(plain).join('\n'), 'TUI after exit');
      assertNoRawControls(summaryLines(tracker, T0 + 1000).join('\n'), 'summary');
    }),
    { numRuns: 150 },
  );
});
