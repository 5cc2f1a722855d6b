// The replay TUI over a forged recording, on a fake terminal: the header, the REMOTE column, the
// event log and the replay banner show the recording's escape sequences and bidi controls escaped;
// nothing the recording holds reaches the terminal's byte stream raw (no retitle, no RLO, no C1);
// a CSV export (`c`) neutralizes a formula-shaped address.
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
import { createFakeTerminal, screenText, waitFor } from '../helpers/fake-terminal';
import { assertNoRawControls, RETITLE_AND_CLEAR, RLO } from '../helpers/hostile-text';
import { hostileRecording } from '../helpers/hostile-recording';

const SHOWN = '\\x1b]0;T\\x07\\x1b[2J';

test('replay TUI of a forged recording: escaped on screen, nothing raw written, CSV export neutralized', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-tui-hostile-'));
  const file = path.join(dir, `r${RLO}.ndjson`);
  fs.writeFileSync(
    file,
    hostileRecording({
      command: RETITLE_AND_CLEAR,
      cmdline: `sh -c ${RETITLE_AND_CLEAR}\u2066`,
      user: `r${RLO}oot`,
      address: `10.0.0.1\x1b[8m${RLO}`,
      address2: `=cmd|' /C calc'!A0\x9b{bold}`,
      type: `x\x1b]0;T\x07`,
    }),
  );
  const rec = await readRecording(file);
  const session = new ReplaySession(new Replayer(rec), analyzeRecording(rec).marks, rec.name, { sourceName: sourceNameOf(rec) });
  const term = createFakeTerminal(140, 40);
  const tui = runTui(session, { exportDir: dir, input: term.input, output: term.output, replay: session, command: rec.start.process.cmdline });
  const text = (): string => screenText(tui.screen);
  try {
    session.begin();
    await waitFor(() => text().includes('REPLAY r\\u202e.ndjson'), `replay banner:\n${text()}`);
    await term.press('+', '+', '+', '+');
    await session.reachedEnd;
    await waitFor(() => /end of recording/.test(text()), 'end banner');
    // one step back: the second connection is live again
    await term.press('\x1b[D');
    await waitFor(() => /stepped back/.test(text()), 'step back');
    await waitFor(() => text().includes("=cmd|' /C calc'!A0\\x9b{bold}:80"), `REMOTE column:\n${text()}`);
    const screen = text();
    assertNoRawControls(screen, 'replay screen');
    assert.ok(screen.includes(`$ sh -c ${SHOWN}\\u2066`), screen);
    assert.ok(screen.includes(`user r\\u202eoot`), screen);
    assert.ok(screen.includes('10.0.0.1\\x1b[8m\\u202e:80'), `event log:\n${screen}`);

    await term.press('c');
    await waitFor(() => /exported CSV: /.test(text()), 'CSV exported');
    const csvFile = fs.readdirSync(dir).find((f) => f.endsWith('.csv'));
    assert.ok(csvFile);
    const csv = fs.readFileSync(path.join(dir, csvFile), 'utf8');
    assertNoRawControls(csv, 'CSV export');
    assert.ok(csv.includes(",'=cmd|' /C calc'!A0\\x9b{bold},80,"), csv);

    // the bytes written to the terminal: blessed's own sequences, never the recording's
    const written = term.written();
    assert.ok(!written.includes(']0;T\x07'), 'the recorded retitle sequence never reached the terminal');
    assert.ok(!/[\u0080-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/.test(written), 'no C1, bidi or zero-width character written');
  } finally {
    tui.destroy();
    await session.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
