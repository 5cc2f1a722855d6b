import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TIMER_MS, setLongTimeout, type TimerFunctions } from '../../src/util/long-timeout';

/** A fake clock and timer queue that records every delay asked of "Node". */
function fakeTimers(): TimerFunctions & { advance(ms: number): void; delays: number[]; pending(): number } {
  let now = 0;
  let nextId = 1;
  const queue = new Map<number, { at: number; fn: () => void }>();
  const delays: number[] = [];
  return {
    delays,
    now: () => now,
    setTimeout(fn, ms) {
      // what Node would do with an overflowing delay: fire after 1 ms
      assert.ok(ms >= 0 && ms <= MAX_TIMER_MS, `delay ${ms} would overflow a Node timer`);
      delays.push(ms);
      const id = nextId++;
      queue.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(h) {
      queue.delete(h as number);
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const due = [...queue.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        queue.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
    },
    pending: () => queue.size,
  };
}

test('a delay of 1000 h fires at 1000 h, through timers that each fit in 2^31 - 1 ms', () => {
  const t = fakeTimers();
  const hour = 3_600_000;
  let firedAt: number | undefined;
  setLongTimeout(() => (firedAt = t.now()), 1000 * hour, t);
  t.advance(999 * hour);
  assert.equal(firedAt, undefined, 'must not fire early (an overflowing timer fires after 1 ms)');
  t.advance(2 * hour);
  assert.equal(firedAt, 1000 * hour);
  assert.ok(t.delays.length >= Math.ceil((1000 * hour) / MAX_TIMER_MS), `chained: ${t.delays.join(',')}`);
  assert.equal(t.pending(), 0);
});

test('a short delay is one plain timer', () => {
  const t = fakeTimers();
  let fired = 0;
  setLongTimeout(() => fired++, 1500, t);
  assert.deepEqual(t.delays, [1500]);
  t.advance(1499);
  assert.equal(fired, 0);
  t.advance(1);
  assert.equal(fired, 1);
});

test('cancel stops the chain at any link', () => {
  const t = fakeTimers();
  let fired = 0;
  const cancel = setLongTimeout(() => fired++, 10_000, t, 1000);
  t.advance(4500);
  cancel();
  t.advance(100_000);
  assert.equal(fired, 0);
  assert.equal(t.pending(), 0);
});

test('the chain aims at the deadline, not at a sum of chunks (a late link does not add up)', () => {
  const t = fakeTimers();
  let firedAt: number | undefined;
  setLongTimeout(() => (firedAt = t.now()), 2500, t, 1000);
  t.advance(2500);
  assert.equal(firedAt, 2500);
});

test('zero, negative and NaN delays fire on the next turn, as setTimeout', () => {
  for (const ms of [0, -5, Number.NaN, Number.NEGATIVE_INFINITY]) {
    const t = fakeTimers();
    let fired = 0;
    setLongTimeout(() => fired++, ms, t);
    assert.deepEqual(t.delays, [0], String(ms));
    t.advance(0);
    assert.equal(fired, 1);
  }
});
