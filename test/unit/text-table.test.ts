// alignColumns: the padding and alignment every table (snapshot, TUI-less outputs) relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignColumns } from '../../src/views/output/text-table';

test('columns are padded to the widest cell, two spaces apart, numbers right-aligned, no trailing blanks', () => {
  const lines = alignColumns(['FD', 'LOCAL', 'STATE', 'Q'], [
    ['3', '127.0.0.1:80', 'ESTABLISHED', '0'],
    ['12', '[::1]:8080', 'LISTEN', '128'],
  ], new Set([0, 3]));
  assert.deepEqual(lines, [
    'FD  LOCAL         STATE          Q',
    ' 3  127.0.0.1:80  ESTABLISHED    0',
    '12  [::1]:8080    LISTEN       128',
  ]);
});

test('a short left-aligned last column leaves no padding behind; missing cells count as empty', () => {
  const lines = alignColumns(['A', 'TIMER'], [['x', 'keepalive 2s'], ['yy'], ['z', '']]);
  assert.deepEqual(lines, ['A   TIMER', 'x   keepalive 2s', 'yy', 'z']);
});

test('a header wider than every cell sets the width; no rows gives the header alone', () => {
  assert.deepEqual(alignColumns(['SEND-Q', 'X'], [['1', 'a']], new Set([0])), ['SEND-Q  X', '     1  a']);
  assert.deepEqual(alignColumns(['A', 'B'], []), ['A  B']);
});

test('cells wider than the header, and blanks inside a cell, are kept as they are', () => {
  assert.deepEqual(alignColumns(['N', 'V'], [['a b', 'c  d  '], ['', 'e']]), ['N    V', 'a b  c  d', '     e']);
});
