import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIFETIME_RELATIVE_ERROR, LifetimeHistogram } from '../../src/core/lifetime-histogram';

function nearestRank(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1] ?? NaN;
}

test('empty: no summary', () => {
  const h = new LifetimeHistogram();
  assert.equal(h.summary(), null);
  assert.ok(Number.isNaN(h.quantile(0.5)));
});

test('quantiles within the stated relative error of brute force, max exact', () => {
  let seed = 7;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (const spread of [10, 1e3, 1e6, 1e9]) {
    const h = new LifetimeHistogram();
    const values: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const v = Math.round(Math.exp(rand() * Math.log(spread)) * 10) / 10;
      values.push(v);
      h.add(v);
    }
    values.sort((a, b) => a - b);
    for (const q of [0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1]) {
      const exact = nearestRank(values, q);
      const got = h.quantile(q);
      // values below 1 ms share one bucket: absolute error under 1 ms there
      const tolerance = Math.max(exact * LIFETIME_RELATIVE_ERROR, exact < 1 ? 1 : 0) + 1e-9;
      assert.ok(Math.abs(got - exact) <= tolerance, `spread ${spread} q ${q}: ${got} vs ${exact}`);
    }
    assert.equal(h.max, values[values.length - 1]);
    assert.equal(h.count, 20_000);
  }
});

test('a single value is reported exactly', () => {
  const h = new LifetimeHistogram();
  h.add(1234);
  assert.deepEqual(h.summary(), { p50: 1234, p95: 1234, max: 1234 });
});

test('memory is bounded by the range of values, not their number', () => {
  const h = new LifetimeHistogram();
  for (let i = 0; i < 200_000; i++) h.add(1 + (i % 100_000) * 1000);
  // a peek at the private bucket array: ~1,100 buckets cover up to 100 days
  const buckets = (h as unknown as { buckets: number[] }).buckets;
  assert.ok(buckets.length < 1200, `${buckets.length} buckets`);
});

test('clear forgets everything', () => {
  const h = new LifetimeHistogram();
  h.add(5);
  h.clear();
  assert.equal(h.summary(), null);
  h.add(7);
  assert.equal(h.max, 7);
});
