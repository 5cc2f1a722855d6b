// The screen model is what the TUI shows, as text: tested with the real tracker and no terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTracker } from '../../src/core/tracker';
import type { FindingKind, LastingFinding, Tracker } from '../../src/core/tracker-types';
import type { Connection } from '../../src/model';
import { buildScreenModel, deriveView, fitFinding, type ScreenInput, type ScreenModel } from '../../src/views/tui/screen-model';
import { EventLog } from '../../src/views/tui/event-log';
import { initialUiState, scrollBy, type UiState } from '../../src/views/tui/ui-state';
import { plain } from '../../src/views/tui/line';
import { formatDuration } from '../../src/util/duration';
import { testSession, type TestSession } from '../helpers/fake-terminal';
import { testConn, testSnapshot } from '../helpers/snapshots';

const T0 = 1_700_000_000_000;

function setup(conns: Connection[], polls = 1): { tracker: Tracker; session: TestSession } {
  const tracker = createTracker();
  const session = testSession({ tracker, startedMs: T0 });
  for (let p = 0; p < polls; p++) session.poll(testSnapshot(conns), T0 + p * 1000);
  return { tracker, session };
}

function model(session: TestSession, over: Partial<Omit<ScreenInput, 'ui'>> & { ui?: Partial<UiState> } = {}): ScreenModel {
  const { ui, ...rest } = over;
  return buildScreenModel({
    tracker: session.tracker,
    session,
    ui: { ...initialUiState(), ...ui },
    nowMs: session.now(),
    width: 80,
    height: 24,
    log: new EventLog(),
    ...rest,
  });
}

/** durations are formatted by util/duration: expectations use it rather than restate its format */
const re = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const text = (m: ScreenModel): string[] => m.lines.map(plain);
const rowTexts = (m: ScreenModel): string[] => m.table.rows.map(plain);

test('header shows pid, command, user, source, interval, states, command line', () => {
  const { session } = setup([testConn(1)]);
  const m = model(session);
  const head = m.header.map(plain).join('\n');
  for (const want of ['PID 4242', 'node', 'user alice', 'source procfs', `every ${formatDuration(1000)}`, 'states all', '$ node server.js --port 8080']) {
    assert.ok(head.includes(want), `header lacks ${want}:\n${head}`);
  }
});

test('a multi-line command line (node -e) stays on one header row', () => {
  const tracker = createTracker();
  const session = testSession({ tracker, startedMs: T0 });
  session.poll(testSnapshot([testConn(1)], { cmdline: "node -e \nconst net = require('net');\n\tnet.connect(80)\x1b[2J" }), T0);
  const m = model(session);
  assert.equal(m.lines.length, 24);
  assert.ok(m.lines.map(plain).every((l) => !/[\n\t\x1b]/.test(l)));
  // white space folds to one space; the escape byte is shown, not sent
  assert.match(m.header.map(plain).join('\n'), /\$ node -e const net = require\('net'\); net\.connect\(80\)\\x1b\[2J/);
  assert.equal(m.table.rows.length, 1);
});

test('before the first poll the header shows the command passed in', () => {
  const tracker = createTracker();
  const session = testSession({ tracker, startedMs: T0 });
  const m = model(session, { command: 'python app.py' });
  assert.match(m.header.map(plain).join('\n'), /\$ python app\.py/);
  assert.match(text(m).join('\n'), /no live connections/);
});

test('rows show local and remote endpoints, state and age (≥ for preexisting)', () => {
  const { session } = setup([testConn(1), testConn(2, { remote: { address: '::1', port: 443 }, protocol: 'tcp6', local: { address: '::1', port: 5555 } })], 3);
  const rows = rowTexts(model(session));
  assert.equal(rows.length, 2);
  assert.match(rows[0] ?? '', new RegExp(`^\\s*11 127\\.0\\.0\\.1:40001\\s+10\\.0\\.0\\.2:8001\\s+ESTABLISHED\\s+≥${re(formatDuration(2000))}`));
  assert.match(rows[1] ?? '', /\[::1\]:5555\s+\[::1\]:443/);
});

test('sorting changes the order, S reverses it', () => {
  const conns = [testConn(1, { remote: { address: '10.0.0.9', port: 1 } }), testConn(2, { remote: { address: '10.0.0.10', port: 1 } }), testConn(3, { remote: { address: '10.0.0.1', port: 1 } })];
  const { session } = setup(conns);
  const byFd = rowTexts(model(session)).map((r) => r.trim().split(/\s+/)[0]);
  assert.deepEqual(byFd, ['11', '12', '13']);
  const byRemote = rowTexts(model(session, { ui: { sort: { key: 'remote', descending: false } } })).map((r) => r.trim().split(/\s+/)[2]);
  // numeric, not textual, address order
  assert.deepEqual(byRemote, ['10.0.0.1:1', '10.0.0.9:1', '10.0.0.10:1']);
  const reversed = rowTexts(model(session, { ui: { sort: { key: 'remote', descending: true } } })).map((r) => r.trim().split(/\s+/)[2]);
  assert.deepEqual(reversed, ['10.0.0.10:1', '10.0.0.9:1', '10.0.0.1:1']);
  assert.match(plain(model(session, { ui: { sort: { key: 'remote', descending: true } } }).table.header), /REMOTE↓/);
});

test('a text filter narrows the rows; the status line counts matches of live', () => {
  const { session } = setup([testConn(1), testConn(2), testConn(3, { remote: { address: '192.168.1.7', port: 5432 } })]);
  const m = model(session, { ui: { filterText: '5432' } });
  assert.equal(m.table.rows.length, 1);
  assert.match(rowTexts(m)[0] ?? '', /192\.168\.1\.7:5432/);
  assert.match(plain(m.status), /1-1\/1 \(of 3\) "5432"/);
});

test('the view\'s state lens hides other states at once', () => {
  const { session } = setup([testConn(1), testConn(2, { state: 'CLOSE_WAIT' })]);
  const m = model(session, { ui: { states: new Set(['ESTABLISHED']) } });
  assert.equal(m.table.matched, 1);
  assert.match(m.header.map(plain).join(' '), /states established/);
});

test('80x24: exactly 24 lines of at most 80 columns, every section present', () => {
  const conns = Array.from({ length: 40 }, (_, i) => testConn(i, { tcp: { bytesSent: 1234567, bytesReceived: 999, rttMs: 1, rttVarMs: 1, retransmits: 0, lastSendMs: 120, lastReceiveMs: 4000, cookie: String(i) }, timer: { kind: 'keepalive', expiresMs: 9800 } }));
  const { session } = setup(conns, 5);
  const m = model(session);
  assert.equal(m.lines.length, 24);
  for (const l of text(m)) assert.ok(l.length <= 80, `too wide (${l.length}): ${l}`);
  const all = text(m).join('\n');
  for (const want of ['PID 4242', 'now 40', 'peak 40', 'opened', 'closed', 'opens/min', 'lifetime p50', 'FD', 'LOCAL', 'REMOTE', 'STATE', 'AGE', 'IDLE', 'EXCH', 'TIMER', '─ events', '? help']) {
    assert.ok(all.includes(want), `missing ${want}:\n${all}`);
  }
  assert.ok(m.table.viewport >= 8, `table gets the leftover height, got ${m.table.viewport}`);
  assert.match(rowTexts(m)[0] ?? '', new RegExp(`127\\.0\\.0\\.1:40000\\s+10\\.0\\.0\\.2:8000\\s+ESTABLISHED\\s+≥${re(formatDuration(4000))}\\s+120ms\\s+\\S+\\s+1\\.2M\\s+999\\s+ka ${re(formatDuration(9800))}`));
});

test('larger terminals show the long forms and more rows, chart and log', () => {
  const conns = Array.from({ length: 60 }, (_, i) => testConn(i, { timer: { kind: 'keepalive', expiresMs: 9800 } }));
  const { session } = setup(conns, 2);
  const small = model(session);
  const big = model(session, { width: 160, height: 50 });
  assert.equal(big.lines.length, 50);
  assert.ok(big.table.viewport > small.table.viewport);
  assert.ok(big.chart.length > small.chart.length);
  assert.ok(big.log.length > small.log.length);
  assert.ok((rowTexts(big)[0] ?? '').includes(`keepalive ${formatDuration(9800)}`));
});

test('TIMER is shown whenever a connection has a timer, even without tcp internals', () => {
  const { session } = setup([testConn(1, { timer: { kind: 'time_wait', expiresMs: 59000 }, state: 'TIME_WAIT' })]);
  const m = model(session);
  assert.match(plain(m.table.header), /TIMER/);
  assert.doesNotMatch(plain(m.table.header), /IDLE/);
  assert.match(rowTexts(m)[0] ?? '', /time_wait 59s/);
});

test('10,000 connections: only the viewport rows are built; scrolling moves the slice', () => {
  const conns = Array.from({ length: 10_000 }, (_, i) => testConn(i));
  const { session } = setup(conns, 2);
  const m = model(session);
  assert.equal(m.table.matched, 10_000);
  assert.equal(m.table.rows.length, m.table.viewport);
  const ui = scrollBy(initialUiState(), 'bottom', m.table.viewport, m.table.matched);
  const end = model(session, { ui });
  assert.equal(end.table.offset, 10_000 - end.table.viewport);
  assert.match(rowTexts(end).at(-1) ?? '', /^\s*10009 /);
  assert.match(plain(end.status), new RegExp(`${10_000 - end.table.viewport + 1}-10000/10000`));
  // Scroll past the end clamps.
  assert.equal(model(session, { ui: { scroll: 99_999 } }).table.offset, 10_000 - m.table.viewport);
});

test('paused and exited banners; exit keeps the data', () => {
  const { session } = setup([testConn(1)], 2);
  assert.match(text(model(session, { ui: { paused: true } })).join('\n'), /PAUSED/);
  assert.doesNotMatch(text(model(session)).join('\n'), /PAUSED/);
  session.gone(T0 + 5000);
  const m = model(session, { ui: { exitReason: 'exited' } });
  assert.match(text(m).join('\n'), /PROCESS EXITED: data kept, e\/c still export/);
  assert.match(text(m).join('\n'), /closed 1/);
});

test('the demo banner keeps one row per given line, clipped, fewer on short terminals', () => {
  const { session } = setup([testConn(1)]);
  const banner = ['demo: PID 9 is an HTTP client', `  remote port 1 = keepalive: ${'one connection reused by every request '.repeat(3)}`, '  remote port 2 = churn', '  remote port 3 = leak', '  extra'].join('\n');
  const m = model(session, { demoBanner: banner });
  assert.deepEqual(m.banners.map((l) => plain(l).trimEnd()).slice(0, 1), [' demo: PID 9 is an HTTP client']);
  assert.equal(m.banners.length, 4);
  assert.ok(plain(m.banners[1] ?? []).endsWith('…'));
  assert.ok(m.table.viewport >= 3);
  assert.equal(model(session, { demoBanner: banner, height: 40 }).banners.length, 5);
  assert.equal(model(session, { demoBanner: banner, height: 12 }).banners.length, 1);
});

test('findings appear as a banner', () => {
  const tracker = createTracker();
  const session = testSession({ tracker, startedMs: T0 });
  // A new connection every poll, each living one poll: churn.
  for (let p = 0; p < 40; p++) session.poll(testSnapshot([testConn(p)]), T0 + p * 1000);
  const findings = tracker.findings(session.now());
  const m = model(session);
  assert.ok(findings.length > 0, 'a connection per second living one second is churn');
  assert.equal(m.findings.length, Math.min(3, findings.length));
  assert.match(plain(m.findings[0] ?? []), new RegExp(findings[0]?.kind.toUpperCase() ?? ''));
});

test('the event log shows the newest events with time, kind, endpoint and lifetime', () => {
  const { session } = setup([testConn(1), testConn(2)]);
  const log = new EventLog(5);
  log.add(session.poll(testSnapshot([testConn(1)]), T0 + 2500));
  const m = model(session, { log });
  const lines = m.log.map(plain).filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.500 close 127\\.0\\.0\\.1:40002 → 10\\.0\\.0\\.2:8002  lived ≥${re(formatDuration(2500))}`));
});

test('the event log is bounded and summarizes bursts', () => {
  const log = new EventLog(10);
  const { session } = setup([]);
  log.add(session.poll(testSnapshot(Array.from({ length: 50 }, (_, i) => testConn(i))), T0 + 1000));
  assert.ok(log.size <= 20);
  assert.match(log.recent(11)[0]?.text ?? '', /40 earlier events in this poll not shown/);
  for (let i = 0; i < 100; i++) log.info(T0, `x${i}`);
  assert.ok(log.size < 20);
  assert.equal(log.recent(1)[0]?.text, 'x99');
});

test('tiny terminals still fit', () => {
  const { session } = setup(Array.from({ length: 30 }, (_, i) => testConn(i)));
  for (const [w, h] of [[40, 10], [80, 12], [20, 5]] as const) {
    const m = model(session, { width: w, height: h });
    assert.equal(m.lines.length, h);
    for (const l of text(m)) assert.ok(l.length <= w, `${w}x${h}: too wide: ${l}`);
  }
});

test('after G the view follows the bottom as connections are added; moving up stops following', () => {
  const first = Array.from({ length: 50 }, (_, i) => testConn(i));
  const { session } = setup(first);
  const m = model(session);
  let ui = scrollBy(initialUiState(), 'bottom', m.table.viewport, m.table.matched);
  assert.equal(ui.follow, true);
  assert.match(plain(model(session, { ui }).status), /50\/50 following$/);

  session.poll(testSnapshot(Array.from({ length: 60 }, (_, i) => testConn(i))), T0 + 1000);
  const grown = model(session, { ui });
  assert.equal(grown.table.offset, 60 - grown.table.viewport, 'still at the bottom');
  assert.match(rowTexts(grown).at(-1) ?? '', /^\s*69 /, 'the newest connection (fd 69) is the last row');

  ui = scrollBy({ ...ui, scroll: grown.table.offset }, -1, grown.table.viewport, 60);
  assert.equal(ui.follow, false);
  session.poll(testSnapshot(Array.from({ length: 70 }, (_, i) => testConn(i))), T0 + 2000);
  const held = model(session, { ui });
  assert.equal(held.table.offset, 60 - grown.table.viewport - 1, 'stays where it was put');
  assert.doesNotMatch(plain(held.status), /following/);
});

test('columns a narrow terminal drops are named on the status line', () => {
  const tcp = { bytesSent: 1234567, bytesReceived: 999, rttMs: 1, rttVarMs: 1, retransmits: 0, lastSendMs: 120, lastReceiveMs: 4000, cookie: '1' };
  const conns = Array.from({ length: 5 }, (_, i) => testConn(i, { tcp: { ...tcp, cookie: String(i) }, timer: { kind: 'keepalive', expiresMs: 9800 } }));
  const { session } = setup(conns, 2);
  const wide = model(session, { width: 160 });
  assert.deepEqual(wide.table.hidden, []);
  assert.doesNotMatch(plain(wide.status), /hidden/);

  const narrow = model(session, { width: 64 });
  assert.ok(narrow.table.hidden.length > 0, 'something had to go at 64 columns');
  const heading = plain(narrow.table.header);
  const titles = { idle: 'IDLE', exch: 'EXCH', tx: 'TX', rx: 'RX', timer: 'TIMER', age: 'AGE' } as const;
  for (const id of narrow.table.hidden) {
    const title = titles[id as keyof typeof titles];
    assert.ok(title !== undefined, `only optional columns are dropped, not ${id}`);
    assert.doesNotMatch(heading, new RegExp(`\\b${title}\\b`));
  }
  const names = narrow.table.hidden.map((id) => titles[id as keyof typeof titles]).join(' ');
  assert.match(plain(narrow.status), new RegExp(`${names} hidden · 1-5/5$`));
  assert.ok(plain(narrow.status).length <= 64);
});

test('a long status message keeps its end (the failure reason) at 100 columns', () => {
  const { session } = setup([testConn(1)]);
  const msg = `export failed: cannot write /var/tmp/some/deeply/nested/export/directory/sockwatch-4242-2026-11-25T10-00-00-000Z.json: no space left on device`;
  const m = model(session, { width: 100, ui: { status: { text: msg, kind: 'error' } } });
  const line = plain(m.status);
  assert.equal(line.length, 100);
  assert.match(line, /^export failed: /);
  assert.match(line, /\.json: no space left on device$/);
  // a short one still leaves room for the row position
  const short = plain(model(session, { width: 100, ui: { status: { text: 'exported JSON: /tmp/x.json', kind: 'info' } } }).status);
  assert.match(short, /^exported JSON: \/tmp\/x\.json +1-1\/1/);
});

test('IDLE never reads more than AGE for a connection seen since it opened; a preexisting one keeps the kernel figure under its ≥ AGE', () => {
  // tcp_info counts idle from the last data (a direction with none yet: from long before); AGE from first seen
  const tcp = (idle: number) => ({ bytesSent: 0, bytesReceived: 0, rttMs: 1, rttVarMs: 1, retransmits: 0, lastSendMs: idle, lastReceiveMs: idle, cookie: String(idle) });
  const old = testConn(1, { tcp: tcp(3_600_000) });
  const fresh = testConn(2, { tcp: tcp(3_600_000) });
  const tracker = createTracker();
  const session = testSession({ tracker, startedMs: T0 });
  session.poll(testSnapshot([old]), T0);
  session.poll(testSnapshot([old, fresh]), T0 + 1000);
  session.poll(testSnapshot([old, fresh]), T0 + 3000);
  const m = model(session);
  const cells = (line: string): Record<string, string> => {
    const out: Record<string, string> = {};
    let at = 0;
    for (const c of m.table.columns) {
      out[c.id] = line.slice(at, at + c.width).trim();
      at += c.width + 1;
    }
    return out;
  };
  const rows = rowTexts(m).map(cells);
  const freshRow = rows.find((r) => r.fd === '12');
  const oldRow = rows.find((r) => r.fd === '11');
  assert.ok(freshRow && oldRow, rowTexts(m).join('\n'));
  // seen for 2 s (polls at 1 s and 3 s), shown at 3 s: age 2s, idle at most the 2 s it was seen
  assert.equal(freshRow.age, formatDuration(2000));
  assert.equal(freshRow.idle, formatDuration(2000));
  assert.equal(oldRow.age, `≥${formatDuration(3000)}`);
  assert.equal(oldRow.idle, formatDuration(3_600_000));
});

test('80x24 and narrower: LOCAL and REMOTE are whole on every row; other columns go first and are named', () => {
  const tcp = (i: number) => ({ bytesSent: 123456 * i, bytesReceived: 99999 * i, rttMs: 1, rttVarMs: 1, retransmits: 0, lastSendMs: 120, lastReceiveMs: 4000, cookie: String(i) });
  const conns = Array.from({ length: 12 }, (_, i) =>
    testConn(i, { local: { address: '127.0.0.1', port: 39184 + i }, remote: { address: '127.0.0.1', port: 44481 }, direction: 'out', state: i % 2 ? 'CLOSE_WAIT' : 'ESTABLISHED', tcp: tcp(i), timer: { kind: 'keepalive', expiresMs: 9800 } }),
  );
  const { session } = setup(conns, 3);
  for (const width of [80, 72, 64, 56]) {
    for (const sortKey of ['fd', 'local', 'timer'] as const) {
      const m = model(session, { width, ui: { sort: { key: sortKey, descending: false } } });
      const rows = rowTexts(m);
      assert.ok(rows.length > 0);
      for (const r of rows) {
        assert.match(r, /127\.0\.0\.1:\d{5} +127\.0\.0\.1:44481 /, `cut at ${width} (sorted by ${sortKey}): ${r}`);
        assert.doesNotMatch(r, /…/);
      }
      if (m.table.hidden.length > 0) assert.match(plain(m.status), / hidden · /);
    }
  }
});

test('the demo legend folds to one line once read, and 80x24 then gives the table 8 rows', () => {
  const tcp = (i: number) => ({ bytesSent: 1, bytesReceived: 1, rttMs: 1, rttVarMs: 1, retransmits: 0, lastSendMs: 120, lastReceiveMs: 4000, cookie: String(i) });
  const conns = Array.from({ length: 20 }, (_, i) => testConn(i, { direction: 'out', tcp: tcp(i), timer: { kind: 'keepalive', expiresMs: 900 } }));
  const { session } = setup(conns, 3);
  const banner = ['demo: PID 9 is an HTTP client; its servers run in PID 8 on 127.0.0.1.', '  remote port 1 = keepalive: body drained, closed → 1 connection, reused', '  remote port 2 = churn: body abandoned undrained → new conn per request', '  remote port 3 = leak: never read → they pile up, then CLOSE_WAIT'].join('\n');
  const folded = 'demo: client PID 9 · remote port 1 keepalive, 2 churn, 3 leak';
  const unread = model(session, { demoBanner: banner, demoBannerFolded: folded });
  assert.equal(unread.banners.length, 4);
  const read = model(session, { demoBanner: banner, demoBannerFolded: folded, ui: { legendFolded: true } });
  assert.deepEqual(read.banners.map((l) => plain(l).trim()), [folded]);
  assert.equal(read.lines.length, 24);
  assert.ok(read.table.viewport >= 8, `table rows at 80x24: ${read.table.viewport}\n${text(read).join('\n')}`);
  assert.ok(read.table.viewport > unread.table.viewport);
  // without a folded text the first line stands for the legend
  assert.deepEqual(model(session, { demoBanner: banner, ui: { legendFolded: true } }).banners.map((l) => plain(l).trim()), ['demo: PID 9 is an HTTP client; its servers run in PID 8 on 127.0.0.1.']);
});

test('findings take one line each at 80 columns and keep their lesson', () => {
  const { session, tracker } = setup([testConn(1)]);
  const messages: [FindingKind, string][] = [
    ['reuse', 'connection 127.0.0.1:41562→127.0.0.1:44331 carried 12 exchanges over ≥14s — keep-alive is working'],
    ['close_wait', '2 connections in CLOSE_WAIT for over 2s (longest 3.2s): the peer closed them but the process has not — a leak'],
  ];
  const findings: LastingFinding[] = messages.map(([kind, message], n) => ({ finding: { kind, basis: 'polled', message }, sinceMs: T0 + n, untilMs: null }));
  const derived = { ...deriveView(tracker, session.now()), findings };
  for (const width of [80, 64]) {
    const m = model(session, { derived, width });
    assert.equal(m.findings.length, 2);
    const lines = m.findings.map(plain);
    for (const l of lines) assert.ok(l.length <= width, l);
    assert.match(lines.find((l) => l.includes('REUSE')) ?? '', / — keep-alive is working$/);
    assert.match(lines.find((l) => l.includes('CLOSE_WAIT')) ?? '', / — a leak$/);
  }
  // a message that fits is left whole
  assert.equal(fitFinding('a — b', 80), 'a — b');
  // no lesson: clipped at a word
  assert.equal(fitFinding('one two three four five six', 15), 'one two three…');
});
