// The full-screen view over a recording (a ReplaySession over a real recording) on a fake
// terminal: playback, the replay keys, and `h` writing the HTML report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRecording } from '../../src/replay/recording-reader';
import { Replayer, sourceNameOf } from '../../src/replay/replayer';
import { analyzeRecording } from '../../src/replay/replay-analysis';
import { ReplaySession } from '../../src/replay/replay-session';
import { runTui } from '../../src/views/tui/run-tui';
import { writeReport } from '../../src/report/write-report';
import { LiveReport } from '../../src/report/live-report';
import { createTracker } from '../../src/core/tracker';
import { eventJson, startEventJson, summaryJson } from '../../src/views/output/json-shapes';
import { createFakeTerminal, screenText, testSession, waitFor } from '../helpers/fake-terminal';
import { testConn, testSnapshot, TEST_PROCESS } from '../helpers/snapshots';

const FIXTURE = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'recordings', 'demo.ndjson');

test('replay plays a recording to its end at full speed; keys step, change speed and jump', async () => {
  const rec = await readRecording(FIXTURE);
  const analysis = analyzeRecording(rec);
  const session = new ReplaySession(new Replayer(rec), analysis.marks, rec.name, { sourceName: sourceNameOf(rec) });
  const term = createFakeTerminal(120, 40);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-tui-replay-'));
  const tui = runTui(session, {
    exportDir: dir,
    input: term.input,
    output: term.output,
    replay: session,
    htmlReport: async (d) => writeReport(path.join(d, 'replay.html'), rec),
  });
  const text = (): string => screenText(tui.screen);
  try {
    session.begin();
    await waitFor(() => /REPLAY demo\.ndjson/.test(text()), 'replay banner');
    await term.press('+', '+', '+', '+');
    await waitFor(() => /as fast as possible/.test(text()), 'full speed');
    await session.reachedEnd;
    await waitFor(() => /end of recording/.test(text()), 'end banner');
    // At the end the tracker has what the recording's summary says.
    const st = session.tracker.stats(session.now());
    assert.equal(st.opened, rec.summary!.opened);
    assert.equal(st.closed, rec.summary!.closed);
    await waitFor(() => /REUSE/.test(text()) && /CHURN/.test(text()), `findings on screen:\n${text()}`);

    const end = session.now();
    await term.press('\x1b[D');
    await waitFor(() => /stepped back/.test(text()), 'step back');
    assert.ok(session.now() < end);
    assert.ok(session.paused);
    await term.press('[');
    await waitFor(() => /previous open\/close\/finding/.test(text()), 'jump back');
    await term.press('-');
    await waitFor(() => /speed 100×/.test(text()), 'slower');

    await term.press('h');
    await waitFor(() => /exported HTML report: /.test(text()), 'report exported');
    const html = fs.readFileSync(path.join(dir, 'replay.html'), 'utf8');
    assert.equal(html.match(/data-connection-id=/g)?.length, new Set(rec.events.flatMap((e) => ('conn' in e ? [e.conn.id] : []))).size);
  } finally {
    tui.destroy();
    await session.stop();
  }
});

test('h in a live watch writes the report of what was seen so far', async () => {
  const tracker = createTracker();
  const T0 = 1_700_000_000_000;
  const session = testSession({ tracker, startedMs: T0 });
  const live = new LiveReport(TEST_PROCESS.pid);
  live.add(startEventJson({ timeMs: T0, process: TEST_PROCESS, intervalMs: 1000, source: 'procfs', states: 'all' }));
  session.onUpdate((events) => {
    for (const e of events) live.add(eventJson(TEST_PROCESS.pid, e));
  });
  session.poll(testSnapshot([testConn(1), testConn(2)]), T0);
  session.poll(testSnapshot([testConn(2), testConn(3)]), T0 + 1000);
  const term = createFakeTerminal(100, 30);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-tui-h-'));
  const tui = runTui(session, {
    exportDir: dir,
    input: term.input,
    output: term.output,
    htmlReport: async (d, nowMs) => live.writeNow(d, summaryJson({ pid: TEST_PROCESS.pid, tracker, nowMs })),
  });
  try {
    await term.press('h');
    await waitFor(() => /exported HTML report: /.test(screenText(tui.screen)), 'status line');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.html'));
    assert.equal(files.length, 1);
    const html = fs.readFileSync(path.join(dir, files[0]!), 'utf8');
    const ids = [...html.matchAll(/data-connection-id="([^"]+)"/g)].map((m) => m[1]).sort();
    assert.deepEqual(ids, ['c1', 'c2', 'c3']);
    // c1 closed at the second poll; c2 and c3 are still open (open-ended bars).
    assert.match(html, /data-connection-id="c2" class="l p"/);
    assert.match(html, /data-connection-id="c3" class="l"/);
  } finally {
    tui.destroy();
  }
});
