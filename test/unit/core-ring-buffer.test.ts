import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingBuffer } from '../../src/core/ring-buffer';

test('keeps the newest items up to its capacity, oldest first', () => {
  const r = new RingBuffer<number>(3);
  assert.deepEqual(r.toArray(), []);
  r.push(1);
  r.push(2);
  assert.deepEqual(r.toArray(), [1, 2]);
  for (let i = 3; i <= 10; i++) r.push(i);
  assert.deepEqual(r.toArray(), [8, 9, 10]);
  assert.equal(r.size, 3);
  assert.equal(r.at(0), 8);
  assert.equal(r.at(-1), 10);
  assert.equal(r.at(3), undefined);
  assert.equal(r.at(-4), undefined);
  assert.deepEqual([...r], [8, 9, 10]);
});

test('clear empties it and it fills again', () => {
  const r = new RingBuffer<string>(2);
  r.push('a');
  r.push('b');
  r.push('c');
  r.clear();
  assert.equal(r.size, 0);
  r.push('d');
  assert.deepEqual(r.toArray(), ['d']);
});

test('rejects a capacity that is not a positive integer', () => {
  assert.throws(() => new RingBuffer(0), RangeError);
  assert.throws(() => new RingBuffer(1.5), RangeError);
});
