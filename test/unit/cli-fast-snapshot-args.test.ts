import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plainSnapshotArgs } from '../../src/cli/fast-snapshot';
import { parseStates } from '../../src/cli/arguments';

const states = (s: ReturnType<typeof plainSnapshotArgs>): string | undefined =>
  s === undefined ? undefined : s.states === 'all' ? 'all' : [...s.states].sort().join(',');

test('the plain one-shot is recognized in each spelling commander accepts for it', () => {
  assert.deepEqual(plainSnapshotArgs(['snapshot', '42']), { spec: { pids: [42], children: false }, states: new Set(['ESTABLISHED']), format: 'table' });
  const a = plainSnapshotArgs(['snapshot', '--state', 'listen,Close-Wait', '7', '--format=JSON']);
  assert.deepEqual(a?.spec, { pids: [7], children: false });
  assert.equal(a?.format, 'json');
  assert.equal(states(a), 'CLOSE_WAIT,LISTEN');
  assert.equal(states(plainSnapshotArgs(['snapshot', '7', '--state=all'])), 'all');
  assert.equal(plainSnapshotArgs(['snapshot', '7', '--format', 'csv'])?.format, 'csv');
});

test('everything else is left to commander (which parses it or says what is wrong)', () => {
  for (const args of [
    [],
    ['7'],
    ['watch', '7'],
    ['snapshot'],
    ['snapshot', '7', '8'],
    ['snapshot', '0'],
    ['snapshot', '007'],
    ['snapshot', '-1'],
    ['snapshot', '99999999999999999999'],
    ['snapshot', ' 7'],
    ['snapshot', '7', '--source', 'procfs'],
    ['snapshot', '7', '--output', 'x.json'],
    ['snapshot', '7', '--help'],
    ['snapshot', '7', '-h'],
    ['snapshot', '7', '--'],
    ['snapshot', '7', '--state'],
    ['snapshot', '7', '--state', '--format'],
    ['snapshot', '7', '--state', 'bogus'],
    ['snapshot', '7', '--state='],
    ['snapshot', '7', '--state', 'all', '--state', 'listen'],
    ['snapshot', '7', '--format', 'yaml'],
    ['snapshot', '7', '--format', 'json', '--format', 'csv'],
    ['--version'],
  ]) {
    assert.equal(plainSnapshotArgs(args), undefined, JSON.stringify(args));
  }
});

test('a state list means what it means to the full CLI', () => {
  for (const text of ['established', 'all', 'ESTABLISHED,all', 'time-wait, close_wait', 'listen,,syn_sent']) {
    const full = parseStates(text);
    assert.equal(states(plainSnapshotArgs(['snapshot', '1', '--state', text])), full === 'all' ? 'all' : [...full].sort().join(','), text);
  }
});
