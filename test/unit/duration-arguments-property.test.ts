// Property tests of the command-line value parsers: any text → a value in range or the
// contracted error (SockwatchError invalid_argument from parseDuration, commander's
// InvalidArgumentError from the option parsers), never another throw, NaN or Infinity; the exact
// duration writer round-trips through the parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { InvalidArgumentError } from 'commander';
import { formatDuration, formatExactDuration, MAX_DURATION_MS, parseDuration } from '../../src/util/duration';
import { durationParser, parsePid, parseSourceName, parseStates } from '../../src/cli/arguments';
import { isSockwatchError } from '../../src/errors';

const RUNS = { numRuns: 3000 };
const durationText = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.stringMatching(/^\s?\d{1,30}(\.\d{1,20})?\s?(ms|s|m|h|MS|H)?\s?$/),
  fc.constantFrom('1e3s', 'Infinitys', 'NaN', '-0s', '0x10s', '1_000ms', '١s'),
);

test('parseDuration: whole ms in [0, MAX_DURATION_MS] or SockwatchError invalid_argument', () => {
  fc.assert(
    fc.property(durationText, (text) => {
      let ms: number;
      try {
        ms = parseDuration(text);
      } catch (e) {
        assert.ok(isSockwatchError(e) && e.code === 'invalid_argument', `${JSON.stringify(text)} threw ${String(e)}`);
        return;
      }
      assert.ok(Number.isSafeInteger(ms) && ms >= 0 && ms <= MAX_DURATION_MS, `${JSON.stringify(text)} → ${ms}`);
    }),
    RUNS,
  );
});

test('formatExactDuration round-trips through parseDuration; formatDuration never throws', () => {
  const ms = fc.oneof(fc.nat(100_000), fc.integer({ min: 0, max: MAX_DURATION_MS }), fc.nat(10_000).map((h) => h * 3_600_000));
  fc.assert(
    fc.property(ms, (n) => {
      assert.equal(parseDuration(formatExactDuration(n)), n);
      assert.equal(typeof formatDuration(n), 'string');
    }),
    RUNS,
  );
  fc.assert(fc.property(fc.double(), (d) => assert.equal(typeof formatDuration(d), 'string')), RUNS);
});

test('option parsers: a value in range or InvalidArgumentError, nothing else', () => {
  const interval = durationParser(20, 3_600_000);
  const duration = durationParser(1);
  const only = <T>(f: () => T, ok: (v: T) => boolean, label: string): void => {
    let v: T;
    try {
      v = f();
    } catch (e) {
      assert.ok(e instanceof InvalidArgumentError, `${label} threw ${String(e)}`);
      return;
    }
    assert.ok(ok(v), `${label} → ${String(v)}`);
  };
  fc.assert(
    fc.property(fc.oneof(durationText, fc.stringMatching(/^\d{1,25}$/)), (text) => {
      only(() => interval(text), (v) => Number.isSafeInteger(v) && v >= 20 && v <= 3_600_000, `interval ${text}`);
      only(() => duration(text), (v) => Number.isSafeInteger(v) && v >= 1 && v <= MAX_DURATION_MS, `duration ${text}`);
      only(() => parsePid(text), (v) => Number.isSafeInteger(v) && v >= 1, `pid ${text}`);
      only(() => parseStates(text), (v) => v === 'all' || v.size > 0, `states ${text}`);
      only(() => parseSourceName(text), (v) => typeof v === 'string', `source ${text}`);
    }),
    RUNS,
  );
  fc.assert(fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (pid) => assert.equal(parsePid(String(pid)), pid)), RUNS);
});
