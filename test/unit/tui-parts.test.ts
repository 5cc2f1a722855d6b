// Small pure pieces of the TUI: sparkline, formats, column fitting, keys, UI state transitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration } from '../../src/util/duration';
import { sparkline } from '../../src/views/tui/sparkline';
import { formatBytes, formatClock, timerLabel } from '../../src/views/tui/format';
import { fitColumns, wantedColumns } from '../../src/views/tui/columns';
import { actionFor } from '../../src/views/tui/keys';
import { editPrompt, initialUiState, nextSort, scrollBy, type UiState } from '../../src/views/tui/ui-state';
import { clipLine, clipStart, plain, seg } from '../../src/views/tui/line';
import { lineToTags } from '../../src/views/tui/draw';
import { nextStates } from '../../src/views/tui/controller';
import type { TcpState } from '../../src/model';
import { createTracker } from '../../src/core/tracker';
import { testConn, testSnapshot } from '../helpers/snapshots';

test('sparkline: scaled bars, newest at the right, non-zero never blank', () => {
  assert.deepEqual(sparkline([0, 4, 8], 5, 1), ['  ▁▅█'.slice(0, 2) + ' ▄█']);
  assert.deepEqual(sparkline([1, 100], 2, 1), ['▁█']);
  const two = sparkline([16, 8], 2, 2);
  assert.deepEqual(two, ['█ ', '██']);
  assert.equal(sparkline(Array.from({ length: 100 }, (_, i) => i), 10, 3)[0]?.length, 10);
  assert.deepEqual(sparkline([], 3, 1), ['   ']);
});

test('formatBytes: 512, 1.2K, 34K, 3.4M', () => {
  assert.equal(formatBytes(512), '512');
  assert.equal(formatBytes(1234), '1.2K');
  assert.equal(formatBytes(34 * 1024), '34K');
  assert.equal(formatBytes(3.4 * 1024 * 1024), '3.4M');
  // never five characters: 1023K is shown as 1.0M
  assert.equal(formatBytes(1023 * 1024), '1.0M');
});

test('formatClock and timer labels', () => {
  assert.match(formatClock(Date.UTC(2024, 0, 1, 0, 0, 0, 7)), /^\d\d:\d\d:00\.007$/);
  assert.equal(timerLabel({ kind: 'keepalive', expiresMs: 9800 }, false), `keepalive ${formatDuration(9800)}`);
  assert.equal(timerLabel({ kind: 'keepalive', expiresMs: 9800, probes: 2 }, true), `ka ${formatDuration(9800)}`);
  assert.equal(timerLabel({ kind: 'none', expiresMs: 0 }, false), '-');
});

test('column fitting: TX/RX go first, and an address is never cut while another column can go', () => {
  const tracker = createTracker();
  const local = '[fd00:1234:5678::abcd]:40001';
  const remote = '[fd00:1234:5678::1]:443';
  tracker.poll(testSnapshot([testConn(1, { local: { address: 'fd00:1234:5678::abcd', port: 40001 }, remote: { address: 'fd00:1234:5678::1', port: 443 }, tcp: { bytesSent: 1, bytesReceived: 2, rttMs: 1, rttVarMs: 1, retransmits: 0, lastSendMs: 1, lastReceiveMs: 1, cookie: '1' }, timer: { kind: 'retransmit', expiresMs: 200 } })]), 0);
  const rows = tracker.live();
  const fit = (w: number) => fitColumns({ ids: wantedColumns(true, true, false, true), rows, nowMs: 0, width: w, sortKey: 'fd' });
  const ids = (w: number): string[] => fit(w).map((c) => c.id);
  assert.deepEqual(ids(200), ['fd', 'dir', 'local', 'remote', 'state', 'age', 'idle', 'exch', 'tx', 'rx', 'timer']);
  const order = ['rx', 'exch', 'idle', 'timer', 'dir', 'age', 'fd'];
  for (let w = 200; w >= 40; w--) {
    // what went is always a first part of the drop order (tx goes with rx)
    const gone = order.filter((id) => !ids(w).includes(id));
    assert.deepEqual(gone, order.slice(0, gone.length), `width ${w}`);
  }
  assert.ok(ids(90).includes('timer') && !ids(90).includes('tx'));
  for (const w of [200, 90, 80, 70, 64, 60]) {
    const cols = fit(w);
    assert.ok(cols.reduce((n, c) => n + c.width, 0) + cols.length - 1 <= w, `width ${w}`);
    // the whole endpoints fit in every one of these widths once other columns go
    assert.equal(cols.find((c) => c.id === 'local')?.width, local.length, `LOCAL cut at ${w}: ${ids(w).join(' ')}`);
    assert.equal(cols.find((c) => c.id === 'remote')?.width, remote.length, `REMOTE cut at ${w}`);
  }
  // the drop order: bytes, exchanges, idle, timer, direction, age, FD; STATE stays
  assert.deepEqual(ids(64), ['fd', 'local', 'remote', 'state']);
  assert.deepEqual(ids(60), ['local', 'remote', 'state']);
  // nothing left to drop: only now the endpoints clip
  const tiny = fit(40);
  assert.deepEqual(tiny.map((c) => c.id), ['local', 'remote', 'state']);
  assert.ok(tiny.reduce((n, c) => n + c.width, 0) + 2 <= 40);
});

test('keys map to actions', () => {
  assert.deepEqual(actionFor({ ch: 'q' }), { type: 'quit' });
  assert.deepEqual(actionFor({ name: 'c', ctrl: true }), { type: 'quit' });
  assert.deepEqual(actionFor({ ch: ' ', name: 'space' }), { type: 'pause' });
  assert.deepEqual(actionFor({ ch: 'c' }), { type: 'export', format: 'csv' });
  assert.deepEqual(actionFor({ ch: 'G', name: 'g' }), { type: 'scroll', by: 'bottom' });
  assert.deepEqual(actionFor({ name: 'pagedown' }), { type: 'scroll', by: 'page-down' });
  assert.equal(actionFor({ ch: 'x' }), undefined);
});

test('UI state: sort cycles the shown columns, scrolling clamps, prompt edits', () => {
  let ui = nextSort(initialUiState(), ['fd', 'local', 'remote']);
  assert.equal(ui.sort.key, 'local');
  ui = nextSort(nextSort(ui, ['fd', 'local', 'remote']), ['fd', 'local', 'remote']);
  assert.equal(ui.sort.key, 'fd');
  assert.equal(scrollBy(ui, -5, 10, 100).scroll, 0);
  assert.equal(scrollBy(ui, 'page-down', 10, 100).scroll, 9);
  assert.equal(scrollBy(ui, 'bottom', 10, 100).scroll, 90);
  assert.equal(scrollBy(ui, 'bottom', 10, 5).scroll, 0);
  // follow: G, or moving down onto the last page; any move up, a sort or a filter ends it
  assert.equal(scrollBy(ui, 'bottom', 10, 100).follow, true);
  assert.equal(scrollBy(ui, 'page-down', 10, 100).follow, false);
  assert.equal(scrollBy({ ...ui, scroll: 89 }, 1, 10, 100).follow, true);
  const following = scrollBy(ui, 'bottom', 10, 100);
  assert.equal(scrollBy(following, 1, 10, 100).follow, true);
  assert.equal(scrollBy(following, -1, 10, 100).follow, false);
  assert.equal(scrollBy(following, 'top', 10, 100).follow, false);
  assert.equal(scrollBy(following, 'page-up', 10, 100).follow, false);
  assert.equal(nextSort(following, ['fd', 'local']).follow, false);
  let p: UiState = { ...ui, prompt: '' };
  for (const ch of '443x') p = editPrompt(p, { ch }) ?? p;
  p = editPrompt(p, { name: 'backspace' }) ?? p;
  assert.equal(p.prompt, '443');
  const applied = editPrompt(p, { name: 'enter', ch: '\r' });
  assert.equal(applied?.filterText, '443');
  assert.equal(applied?.prompt, null);
  assert.equal(editPrompt({ ...p, filterText: 'old' }, { name: 'escape' })?.filterText, '');
  assert.equal(editPrompt(initialUiState(), { ch: 'q' }), undefined);
});

test('lines clip with an ellipsis; endpoints clip from the left; tags escape braces and drop color', () => {
  assert.equal(plain(clipLine([seg('abcdef'), seg('ghi')], 5)), 'abcd…');
  assert.equal(clipStart('192.168.100.200:54321', 12), '…0.200:54321');
  assert.equal(lineToTags([seg('{x}', { fg: 'red', bold: true })], true), '{bold}{red-fg}{open}x{close}{/}');
  assert.equal(lineToTags([seg('a', { fg: 'red' }), seg('b', { fg: 'red', inverse: true })], false), 'a{inverse}b{/}');
});

test('f toggles between the starting state filter and all', () => {
  const demo = new Set<TcpState>(['ESTABLISHED', 'CLOSE_WAIT']);
  assert.equal(nextStates(demo, demo), 'all');
  assert.equal(nextStates('all', demo), demo);
  const est = nextStates('all', 'all');
  assert.ok(est !== 'all' && est.has('ESTABLISHED') && est.size === 1);
});
