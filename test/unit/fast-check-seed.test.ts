// The property tests' seed: fixed unless FC_SEED says otherwise, and loaded before this file runs
// (package.json's "test" preloads test/helpers/fast-check-seed.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_SEED, seedFrom } from '../helpers/fast-check-seed-value';

describe('fast-check seed', () => {
  it('no FC_SEED: the fixed seed; an integer: that seed; "random": none', () => {
    assert.equal(seedFrom(undefined), DEFAULT_SEED);
    assert.equal(seedFrom(''), DEFAULT_SEED);
    assert.equal(seedFrom('826978024'), 826978024);
    assert.equal(seedFrom('-5'), -5);
    assert.equal(seedFrom('random'), undefined);
    assert.throws(() => seedFrom('1.5'), /FC_SEED must be an integer or "random"/);
    assert.throws(() => seedFrom('abc'), /FC_SEED/);
  });

  it('npm test preloads it: the global configuration carries the seed FC_SEED asks for', () => {
    assert.equal(fc.readConfigureGlobal().seed, seedFrom(process.env.FC_SEED));
  });

  it('with the seed set, a property draws the same values on every run', () => {
    const seed = seedFrom(process.env.FC_SEED);
    if (seed === undefined) return; // FC_SEED=random: nothing to compare
    assert.deepEqual(fc.sample(fc.integer(), 5), fc.sample(fc.integer(), 5));
  });
});
