import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countExchanges, firstExchangeState, nextExchangeState } from '../../src/core/exchanges';

test('the first observation counts one exchange when something was already sent', () => {
  assert.equal(countExchanges([]), 0);
  assert.equal(countExchanges([0]), 0);
  assert.equal(countExchanges([512]), 1);
  assert.equal(countExchanges([0, 0, 0]), 0);
});

test('growth after at least one poll without growth starts another exchange', () => {
  assert.equal(countExchanges([100, 100, 200]), 2);
  assert.equal(countExchanges([0, 100, 100, 200, 200, 300]), 3);
});

test('a burst spanning several polls counts once', () => {
  assert.equal(countExchanges([100, 200, 300, 400]), 1);
  assert.equal(countExchanges([0, 100, 200, 300, 300, 400, 500]), 2);
});

test('a counter going backwards is no growth and does not hide the next burst', () => {
  const s1 = firstExchangeState(1000);
  const s2 = nextExchangeState(s1, 10);
  assert.equal(s2.count, 1);
  assert.equal(s2.sending, false);
  assert.equal(nextExchangeState(s2, 20).count, 2);
});

test('keep-alive client, one request every 500 ms, watched at 100 ms for 5 s: 10 ± 1', () => {
  // Requests go out at a phase unrelated to the poll grid; each takes ~1 ms to send.
  for (const phase of [0, 1, 37, 50, 99]) {
    const series: number[] = [];
    for (let poll = 0; poll <= 5000; poll += 100) {
      const requestsSent = poll < phase ? 0 : Math.min(10, Math.floor((poll - phase) / 500) + 1);
      series.push(requestsSent * 180);
    }
    const n = countExchanges(series);
    assert.ok(Math.abs(n - 10) <= 1, `phase ${phase}: ${n}`);
  }
});

test('requests closer together than the poll interval merge: the count is a lower bound', () => {
  // one request every 50 ms, polled every 100 ms: bytes grow at every poll
  const series = Array.from({ length: 20 }, (_, i) => i * 2 * 100);
  assert.equal(countExchanges(series), 1);
});
