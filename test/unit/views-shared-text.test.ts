// The helpers every view shares: one timer text, one table of state colors, one reading of NO_COLOR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration } from '../../src/util/duration';
import { timerText } from '../../src/views/output/endpoint-text';
import { timerLabel } from '../../src/views/tui/format';
import { colorState, noColorRequested, STATE_COLORS, useColor } from '../../src/views/output/state-color';
import { STATE_COLORS as TUI_STATE_COLORS } from '../../src/views/tui/screen-model';

test('the line output and the TUI write a timer the same way', () => {
  const t = { kind: 'keepalive', expiresMs: 9800, probes: 2 } as const;
  assert.equal(timerText(t), `keepalive ${formatDuration(9800)} (2 probes)`);
  assert.equal(timerLabel(t, false), timerText(t));
  assert.equal(timerText(t, true), `ka ${formatDuration(9800)}`);
  assert.equal(timerText({ kind: 'retransmit', expiresMs: 200 }), `retransmit ${formatDuration(200)}`);
  assert.equal(timerText(undefined), '-');
});

test('the TUI colors states as the line output does', () => {
  // the TUI re-exports the one table
  assert.equal(TUI_STATE_COLORS, STATE_COLORS);
  assert.equal(colorState('CLOSE_WAIT'), '\x1b[31mCLOSE_WAIT\x1b[0m');
  assert.equal(colorState('LAST_ACK'), '\x1b[35mLAST_ACK\x1b[0m');
  assert.equal(colorState('CLOSE'), 'CLOSE', 'a state without a color is left plain');
});

test('NO_COLOR follows no-color.org: present and not empty disables color', () => {
  assert.equal(noColorRequested({}), false);
  assert.equal(noColorRequested({ NO_COLOR: '' }), false);
  assert.equal(noColorRequested({ NO_COLOR: '1' }), true);
  assert.equal(noColorRequested({ NO_COLOR: '0' }), true, 'any value, even 0');
  assert.equal(useColor({ isTTY: true }, {}), true);
  assert.equal(useColor({ isTTY: true }, { NO_COLOR: 'x' }), false);
  assert.equal(useColor({ isTTY: false }, {}), false);
  assert.equal(useColor({}, { NO_COLOR: '' }), false, 'not a terminal');
});
