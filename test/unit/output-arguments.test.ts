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
