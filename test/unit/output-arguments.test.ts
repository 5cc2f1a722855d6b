import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { durationParser, parsePid, parseSourceName, parseStates } from '../../src/cli/arguments';

test('parsePid takes positive integers only', () => {
  assert.equal(parsePid('1'), 1);
  assert.equal(parsePid('4194304'), 4194304);
  for (const bad of ['0', '-3', 'abc', '1.5', '', '12a', '99999999999999999999']) {
    assert.throws(() => parsePid(bad), InvalidArgumentError, bad);
  }
});

test('parseStates: all, names case-insensitive, comma lists', () => {
  assert.equal(parseStates('all'), 'all');
  assert.equal(parseStates('ESTABLISHED,all'), 'all');
  assert.deepEqual([...(parseStates('established') as Set<string>)], ['ESTABLISHED']);
  assert.deepEqual([...(parseStates('Established, close_wait,time-wait') as Set<string>)], ['ESTABLISHED', 'CLOSE_WAIT', 'TIME_WAIT']);
  assert.throws(() => parseStates('open'), InvalidArgumentError);
  assert.throws(() => parseStates(','), InvalidArgumentError);
});

test('interval parser enforces the minimum', () => {
  const p = durationParser(20);
  assert.equal(p('20ms'), 20);
  assert.equal(p('1.5s'), 1500);
  assert.throws(() => p('10ms'), InvalidArgumentError);
  assert.throws(() => p('soon'), InvalidArgumentError);
});

test('parseSourceName', () => {
  assert.equal(parseSourceName('procfs'), 'procfs');
  assert.equal(parseSourceName('NETLINK'), 'netlink');
  assert.throws(() => parseSourceName('lsof'), InvalidArgumentError);
});

test('duration parser enforces a maximum, in words parseDuration reads back', () => {
  const p = durationParser(20, 3_600_000);
  assert.equal(p('1h'), 3_600_000);
  assert.equal(p('3600s'), 3_600_000);
  assert.throws(() => p('1000h'), (e: unknown) => e instanceof InvalidArgumentError && e.message === 'must be at most 1h.');
  assert.throws(() => p('3600001ms'), InvalidArgumentError);
});

test('duration parser without a maximum still refuses what a double cannot hold exactly', () => {
  const p = durationParser(1);
  assert.equal(p('1000h'), 3_600_000_000);
  for (const huge of ['9'.repeat(400) + 'h', '99999999999999999999h', '1' + '0'.repeat(20)]) {
    assert.throws(() => p(huge), (e: unknown) => e instanceof InvalidArgumentError && /too long/.test(e.message), huge);
  }
});

