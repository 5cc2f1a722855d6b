import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../src/util/duration';
import { isSockwatchError } from '../../src/errors';

test('parseDuration accepts the documented forms', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1s'), 1000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('3'), 3000, 'a bare number is seconds');
  assert.equal(parseDuration(' 20MS '), 20);
});

test('parseDuration rejects garbage with an invalid_argument error', () => {
  for (const bad of ['', 'abc', '1x', '-1s', '1s2', '1..5s', 'ms']) {
    assert.throws(() => parseDuration(bad), (e: unknown) => isSockwatchError(e) && e.code === 'invalid_argument', bad);
  }
});

test('formatDuration uses human units', () => {
  assert.equal(formatDuration(0), '0ms');
  assert.equal(formatDuration(512), '512ms');
  assert.equal(formatDuration(999.6), '1000ms');
  assert.equal(formatDuration(3200), '3.2s');
  assert.equal(formatDuration(3299), '3.2s');
  assert.equal(formatDuration(1000), '1s');
  assert.equal(formatDuration(1099), '1s');
  assert.equal(formatDuration(42_000), '42s');
  assert.equal(formatDuration(252_000), '4m12s');
  assert.equal(formatDuration(3_725_000), '1h02m');
  assert.equal(formatDuration(50 * 3_600_000), '2d02h');
  assert.equal(formatDuration(-1), '-');
  assert.equal(formatDuration(Number.NaN), '-');
});
