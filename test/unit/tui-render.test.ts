// The TUI end to end inside a fake terminal: the real tracker fed synthetic snapshots, a
// WatchSession driven by the test, keys typed as bytes, the frame read back as text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createTracker } from '../../src/core/tracker';
import type { Connection } from '../../src/model';
import type { LastingFinding } from '../../src/core/tracker-types';
import { runTui, type TuiHandle, type TuiOptions } from '../../src/views/tui/run-tui';
import {
  KEYS,
  cellsWithColor,
  createFakeTerminal,
  screenLines,
  screenText,
  testSession,
  waitFor,
  type FakeTerminal,
  type TestSession,
} from '../helpers/fake-terminal';
import { testConn, testSnapshot } from '../helpers/snapshots';

const T0 = 1_700_000_000_000;

interface Harness {
  session: TestSession;
  term: FakeTerminal;
  tui: TuiHandle;
  text(): string;
  /** the table rows: lines after the column heading, up to the events rule */
  rows(): string[];
  until(pattern: RegExp, what?: string): Promise<void>;
  exits: number[];
}

function start(conns: Connection[], o: Partial<TuiOptions> & { cols?: number; rows?: number; polls?: number } = {}): Harness {
  const tracker = createTracker();
  const session = testSession({ tracker, startedMs: T0 });
  for (let p = 0; p < (o.polls ?? 2); p++) session.poll(testSnapshot(conns), T0 + p * 1000);
  const term = createFakeTerminal(o.cols ?? 80, o.rows ?? 24);
  const exits: number[] = [];
  const tui = runTui(session, {
    exportDir: os.tmpdir(),
    input: term.input,
    output: term.output,
    onExit: (c) => exits.push(c),
    ...o,
  });
  const text = (): string => screenText(tui.screen);
  return {
    session,
    term,
    tui,
    text,
    exits,
    rows: () => {
      const lines = screenLines(tui.screen);
      const head = lines.findIndex((l) => /^\s*FD\S* +LOCAL/.test(l));
      const end = lines.findIndex((l) => l.startsWith('─ events'));
      return lines.slice(head + 1, end).filter((l) => l.trim() !== '');
    },
    until: (pattern, what) => waitFor(() => pattern.test(text()), what ?? String(pattern)),
  };
}

async function quit(h: Harness): Promise<void> {
  h.tui.destroy();
  await h.tui.done;
}

const three = [testConn(1), testConn(2), testConn(3, { remote: { address: '192.168.1.7', port: 5432 } })];

test('draws header, chart stats and rows inside 80x24', async () => {
  const h = start(three);
  try {
    await h.until(/PID 4242/);
    const lines = screenLines(h.tui.screen);
    assert.equal(lines.length, 24);
    assert.ok(lines.every((l) => l.length === 80));
    const t = h.text();
    for (const want of ['PID 4242', 'node', 'user alice', '$ node server.js --port 8080', 'now 3', 'peak 3', 'LOCAL', 'REMOTE']) {
      assert.ok(t.includes(want), `missing ${want}:\n${t}`);
    }
    assert.equal(h.rows().length, 3);
    assert.match(h.rows()[0] ?? '', /127\.0\.0\.1:40001\s+10\.0\.0\.2:8001\s+ESTABLISHED/);
    assert.match(h.rows()[2] ?? '', /192\.168\.1\.7:5432/);
  } finally {
    await quit(h);
  }
});

test('session updates redraw: new rows, log lines, counters', async () => {
  const h = start(three);
  try {
    await h.until(/now 3/);
    h.session.poll(testSnapshot([...three, testConn(9)]), T0 + 5000);
    await h.until(/now 4/);
    assert.match(h.text(), /\d\d:\d\d:\d\d\.000 open  127\.0\.0\.1:40009 → 10\.0\.0\.2:8009/);
    h.session.poll(testSnapshot([testConn(9)]), T0 + 6500);
    await h.until(/now 1 /);
    assert.match(h.text(), /close 127\.0\.0\.1:40003 → 192\.168\.1\.7:5432  lived/);
  } finally {
    await quit(h);
  }
});

test('redraws are throttled: a burst of updates costs a couple of renders', async () => {
  const h = start(three);
  try {
    await h.until(/now 3/);
    await new Promise((r) => setTimeout(r, 150));
    let renders = 0;
    const orig = h.tui.screen.render.bind(h.tui.screen);
    h.tui.screen.render = () => {
      renders++;
      orig();
    };
    for (let i = 0; i < 50; i++) h.session.poll(testSnapshot([...three, testConn(100 + i)]), T0 + 3000 + i * 10);
    assert.equal(renders, 1);
    await h.until(/now 4/);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(renders, 2);
  } finally {
    await quit(h);
  }
});

test('space freezes the screen while the session goes on polling, and resumes', async () => {
  const h = start(three);
  try {
    await h.until(/1-3\/3/);
    await h.term.press(' ');
    await h.until(/PAUSED: screen frozen/);
    // A poll lands while paused: the tracker has it, the screen does not.
    h.session.poll(testSnapshot([...three, testConn(7)]), T0 + 5000);
    assert.equal(h.session.tracker.stats(T0 + 5000).live, 4);
    await new Promise((r) => setTimeout(r, 150));
    assert.match(h.text(), /1-3\/3/);
    await h.term.press(' ');
    await waitFor(() => !/PAUSED:/.test(h.text()), 'the banner to go');
    await h.until(/1-4\/4/);
    await h.until(/resumed \(1 events while paused\)/);
  } finally {
    await quit(h);
  }
});

test('s cycles the sort column, S reverses', async () => {
  const conns = [testConn(1, { remote: { address: '10.0.0.9', port: 1 } }), testConn(2, { remote: { address: '10.0.0.10', port: 1 } }), testConn(3, { remote: { address: '10.0.0.1', port: 1 } })];
  const h = start(conns);
  const firstRemote = (): string => (h.rows()[0] ?? '').trim().split(/\s+/)[2] ?? '';
  try {
    await h.until(/FD↑/);
    assert.equal(firstRemote(), '10.0.0.9:1');
    await h.term.press('s');
    await h.until(/LOCAL↑/);
    await h.term.press('s');
    await h.until(/REMOTE↑/);
    assert.equal(firstRemote(), '10.0.0.1:1');
    await h.term.press('S');
    await h.until(/REMOTE↓/);
    assert.equal(firstRemote(), '10.0.0.10:1');
  } finally {
    await quit(h);
  }
});

test('/ filters rows by text: Enter applies, Esc clears', async () => {
  const h = start(three);
  try {
    await h.until(/PID 4242/);
    await h.term.press('/', '5', '4', '3', '2');
    await h.until(/filter: 5432/);
    await h.term.press(KEYS.enter);
    await h.until(/1-1\/1 \(of 3\)/);
    assert.equal(h.rows().length, 1);
    assert.match(h.rows()[0] ?? '', /192\.168\.1\.7:5432/);
    await h.term.press('/', KEYS.escape);
    await h.until(/1-3\/3/);
    assert.equal(h.rows().length, 3);
  } finally {
    await quit(h);
  }
});

test('Esc alone clears an applied filter (and the status line)', async () => {
  const h = start(three);
  try {
    await h.until(/PID 4242/);
    await h.term.press('/', '5', '4', '3', '2', KEYS.enter);
    await h.until(/1-1\/1 \(of 3\) "5432"/);
    assert.equal(h.rows().length, 1);
    await h.term.press(KEYS.escape);
    await h.until(/1-3\/3/);
    assert.doesNotMatch(h.text(), /\(of 3\)|"5432"/);
    assert.equal(h.rows().length, 3);
    // the status line is back to the key hints
    assert.match(h.text(), /\? help  q quit/);
  } finally {
    await quit(h);
  }
});

test('f switches the state filter between all and established', async () => {
  const h = start([testConn(1), testConn(2, { state: 'CLOSE_WAIT' })]);
  try {
    await h.until(/states all/);
    await h.term.press('f');
    await h.until(/states established/);
    assert.equal(h.rows().length, 1);
    // the lens is the view's: the session's (what is recorded) is unchanged
    assert.equal(h.session.states, 'all');
    await h.term.press('f');
    await h.until(/states all/);
    assert.equal(h.rows().length, 2);
  } finally {
    await quit(h);
  }
});

test('e and c export through the real exporter; the status line shows the path', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-tui-'));
  const h = start(three, { exportDir: dir, cols: 200 });
  try {
    await h.until(/PID 4242/);
    await h.term.press('e');
    await h.until(/exported JSON: \S+\.json/);
    const file = /exported JSON: (\S+\.json)/.exec(h.text())?.[1] ?? '';
    assert.equal(path.dirname(file), dir);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { connections: unknown[] };
    assert.equal(doc.connections.length, 3);
    await h.term.press('c');
    await h.until(/exported CSV: \S+\.csv/);
    const csv = /exported CSV: (\S+\.csv)/.exec(h.text())?.[1] ?? '';
    assert.match(fs.readFileSync(csv, 'utf8'), /192\.168\.1\.7/);
  } finally {
    await quit(h);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an export failure shows one error line and the TUI keeps running', async () => {
  const h = start(three, {
    exporter: async () => {
      throw new Error('cannot write /nope: permission denied\nstack noise');
    },
  });
  try {
    await h.term.press('e');
    await h.until(/export failed: cannot write \/nope: permission denied/);
    assert.doesNotMatch(h.text(), /stack noise/);
    assert.deepEqual(h.exits, []);
  } finally {
    await quit(h);
  }
});

test('? shows the help overlay listing the keys; any key closes it without acting', async () => {
  const h = start(three);
  try {
    await h.term.press('?');
    await h.until(/sockwatch keys/);
    for (const want of ['quit', 'freeze', 'JSON', 'CSV', 'reverse the sort', 'all states', 'filter rows', 'count on screen from now', 'scroll one page', 'top / bottom']) {
      assert.ok(h.text().includes(want), `help lacks ${want}`);
    }
    await h.term.press('q');
    await waitFor(() => !h.text().includes('sockwatch keys'), 'help to close');
    assert.deepEqual(h.exits, [], 'the key that closes help does not quit');
  } finally {
    await quit(h);
  }
});

test('r resets counters', async () => {
  const h = start(three);
  try {
    h.session.poll(testSnapshot([testConn(7)]), T0 + 3000);
    await h.until(/closed 3/);
    await h.term.press('r');
    await h.until(/closed 0/);
    assert.match(h.text(), /counters shown from now/);
    assert.match(h.text(), /since r \d\d:\d\d/);
    // only the screen's baseline moved: what the summary reports is unchanged
    assert.equal(h.session.tracker.stats(T0 + 3000).closed, 3);
  } finally {
    await quit(h);
  }
});

test('the process exiting shows a banner, keeps the data, and export still works', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-tui-'));
  const h = start(three, { exportDir: dir, cols: 160 });
  try {
    h.session.gone(T0 + 4000);
    await h.until(/PROCESS EXITED: data kept/);
    assert.match(h.text(), /exit  process 4242 \(node\) exited/);
    assert.match(h.text(), /closed 3/);
    await h.term.press('e');
    await h.until(/exported JSON: \S+/);
  } finally {
    await quit(h);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('scrolling with 10,000 connections: only visible rows are drawn; G, Home, PgDn, j', async () => {
  const conns = Array.from({ length: 10_000 }, (_, i) => testConn(i));
  const h = start(conns);
  try {
    await h.until(/1-\d+\/10000/);
    const viewport = h.rows().length;
    assert.ok(viewport >= 8 && viewport < 20);
    const t = Date.now();
    await h.term.press('G');
    await h.until(/\/10000/);
    await h.until(new RegExp(`${10_000 - viewport + 1}-10000/10000`));
    assert.match(h.rows().at(-1) ?? '', /^\s*10009 /);
    await h.term.press(KEYS.home);
    await h.until(new RegExp(`1-${viewport}/10000`));
    await h.term.press(KEYS.pageDown);
    await h.until(new RegExp(`${viewport}-${2 * viewport - 1}/10000`));
    await h.term.press('j', KEYS.down);
    await h.until(new RegExp(`${viewport + 2}-${2 * viewport + 1}/10000`));
    await h.term.press('k');
    await h.until(new RegExp(`${viewport + 1}-${2 * viewport}/10000`));
    assert.ok(Date.now() - t < 3000, 'scrolling 10,000 rows stays quick');
  } finally {
    await quit(h);
  }
});

test('re-lays out on resize', async () => {
  const h = start(Array.from({ length: 50 }, (_, i) => testConn(i)));
  try {
    await h.until(/PID 4242/);
    const before = h.rows().length;
    h.term.resize(132, 40);
    await waitFor(() => screenLines(h.tui.screen).length === 40 && h.rows().length > before, 'a 132x40 frame');
    assert.ok(screenLines(h.tui.screen).every((l) => l.length === 132));
  } finally {
    await quit(h);
  }
});

test('colors by default; none with noColor', async () => {
  const colored = start(three);
  await colored.until(/PID 4242/);
  assert.ok(cellsWithColor(colored.tui.screen) > 0);
  await quit(colored);
  const plainTui = start(three, { noColor: true });
  await plainTui.until(/PID 4242/);
  assert.equal(cellsWithColor(plainTui.tui.screen), 0);
  await quit(plainTui);
});

test('q quits with 0: terminal restored, listener removed, onExit called', async () => {
  const h = start(three);
  await h.until(/PID 4242/);
  assert.equal(h.term.input.isRaw, true);
  await h.term.press('q');
  assert.equal(await h.tui.done, 0);
  assert.deepEqual(h.exits, [0]);
  assert.equal(h.term.input.isRaw, false);
  assert.equal(h.session.listenerCount, 0);
  // leaves the alternate screen (rmcup) and shows the cursor again
  assert.match(h.term.written(), /\x1b\[\?1049l/);
  assert.match(h.term.written(), /\x1b\[\?25h/);
  h.tui.destroy(); // idempotent
});

test('Ctrl-C quits with 0, also from the filter prompt', async () => {
  const h = start(three);
  await h.term.press('/', 'x', KEYS.ctrlC);
  assert.equal(await h.tui.done, 0);
});

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  test(`${sig} restores the terminal and resolves done with 0`, async () => {
    const h = start(three);
    await h.until(/PID 4242/);
    const before = process.listenerCount(sig);
    process.emit(sig, sig);
    assert.equal(await h.tui.done, 0);
    assert.equal(h.term.input.isRaw, false);
    assert.ok(process.listenerCount(sig) < before);
  });
}

test('an uncaught exception restores the terminal before it is reported', async () => {
  const h = start(three);
  await h.until(/PID 4242/);
  const err = new Error('boom');
  // What Node does before reporting an uncaught exception (without actually crashing the test).
  for (const l of process.listeners('uncaughtExceptionMonitor')) l(err, 'uncaughtException');
  await assert.rejects(h.tui.done, /boom/);
  assert.equal(h.term.input.isRaw, false);
  assert.match(h.term.written(), /\x1b\[\?1049l/);
});

test('redraws between polls reuse the poll\'s walk of the connections (live, stats, findings)', async () => {
  const h = start(Array.from({ length: 200 }, (_, i) => testConn(i)));
  try {
    await h.until(/1-\d+\/200/);
    const tracker = h.session.tracker;
    const calls = { live: 0, stats: 0, findings: 0 };
    const live = tracker.live.bind(tracker);
    const stats = tracker.stats.bind(tracker);
    const findings = tracker.findingHistory.bind(tracker);
    tracker.live = () => (calls.live++, live());
    tracker.stats = (now, scope) => (calls.stats++, stats(now, scope));
    tracker.findingHistory = () => (calls.findings++, findings());

    await h.term.press('j');
    await h.until(/2-\d+\/200/);
    await h.term.press('s');
    await h.until(/sort|1-\d+\/200/);
    await h.term.press('G');
    await h.until(/\/200 following/);
    assert.deepEqual(calls, { live: 0, stats: 0, findings: 0 }, 'keys redraw from the cached view');

    h.session.poll(testSnapshot(Array.from({ length: 201 }, (_, i) => testConn(i))), T0 + 5000);
    await h.until(/\/201 following/);
    assert.deepEqual(calls, { live: 1, stats: 1, findings: 1 }, 'a poll walks them once');
  } finally {
    await quit(h);
  }
});

test('F shows the next findings when more hold than the banner has lines for', async () => {
  const tracker = createTracker();
  const kinds = ['churn', 'close_wait', 'growth', 'reuse', 'churn'] as const;
  // five findings that held (the oldest first, as the tracker keeps them): the view, not the rules, is under test
  const history: LastingFinding[] = kinds.map((kind, n) => ({ finding: { kind, basis: 'polled', message: `finding number ${n + 1}` }, sinceMs: T0 + n, untilMs: null }));
  const withFindings = new Proxy(tracker, {
    get(target, key) {
      if (key === 'findingHistory') return () => history;
      const v: unknown = Reflect.get(target, key);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const session = testSession({ tracker: withFindings, startedMs: T0 });
  session.poll(testSnapshot(three), T0);
  const term = createFakeTerminal(80, 24);
  const tui = runTui(session, { exportDir: os.tmpdir(), input: term.input, output: term.output });
  const text = (): string => screenText(tui.screen);
  try {
    // newest first: 5, 4 on their own lines, then which are shown
    await waitFor(() => /findings 1–2 of 5 · F shows the next/.test(text()), 'the findings pager line');
    assert.match(text(), /finding number 5/);
    assert.match(text(), /finding number 4/);
    assert.doesNotMatch(text(), /finding number 3/);
    await term.press('F');
    await waitFor(() => /findings 3–4 of 5/.test(text()), 'the next findings');
    assert.match(text(), /finding number 3/);
    assert.match(text(), /finding number 2/);
    assert.doesNotMatch(text(), /finding number 5/);
    await term.press('F');
    await waitFor(() => /findings 5 of 5/.test(text()), 'the last one');
    assert.match(text(), /finding number 1/);
    await term.press('F');
    await waitFor(() => /findings 1–2 of 5/.test(text()), 'around again');
    assert.match(text(), /finding number 5/);
    // every finding stays on one line
    for (const l of screenLines(tui.screen).filter((x) => /finding number/.test(x))) assert.match(l, /^ [A-Z_]+  finding number \d\s*$/);
  } finally {
    tui.destroy();
    await tui.done;
  }
});

test('F with every finding on screen says so', async () => {
  const h = start(three);
  try {
    await h.until(/PID 4242/);
    await h.term.press('F');
    await h.until(/no findings/);
  } finally {
    await quit(h);
  }
});

test('the demo legend folds to one line at the first key press, or on its own after a while', async () => {
  const banner = 'demo: PID 9 is an HTTP client\n  remote port 1 = keepalive: reused\n  remote port 2 = churn: new conn per request\n  remote port 3 = leak: CLOSE_WAIT';
  const folded = 'demo: client PID 9 · remote port 1 keepalive, 2 churn, 3 leak';
  const h = start(three, { demoBanner: banner, demoBannerFolded: folded });
  try {
    await h.until(/remote port 3 = leak/);
    assert.doesNotMatch(h.text(), /2 churn, 3 leak/);
    await h.term.press('j');
    await h.until(/2 churn, 3 leak/);
    assert.doesNotMatch(h.text(), /remote port 3 = leak/);
  } finally {
    await quit(h);
  }
  const idle = start(three, { demoBanner: banner, demoBannerFolded: folded, legendFoldMs: 300 });
  try {
    await idle.until(/remote port 3 = leak/);
    await idle.until(/2 churn, 3 leak/, 'the legend folded without a key');
    assert.doesNotMatch(idle.text(), /remote port 1 = keepalive/);
  } finally {
    await quit(idle);
  }
});
