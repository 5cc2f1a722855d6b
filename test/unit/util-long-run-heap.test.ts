// The heap settings of long-running commands are set at run time through V8 flags, which a Node
// update could silently stop honouring. Checked in a fresh process each: a first poll's worth of
// surviving objects grows V8's young generation to several MiB without the settings, and leaves it
// at its initial size with them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const MODULE = path.join(__dirname, '..', '..', 'src', 'util', 'long-run-heap.js');

/**
 * The young generation's size (MiB) after allocating ~40 MB of objects that all stay alive:
 * untuned, with watch's settings before its first poll, and after a first poll of `connections`.
 */
function youngGenerationAfterGrowth(tuned: boolean, connections?: number): number {
  const setup = tuned ? `const h = require(${JSON.stringify(MODULE)}); h.tuneHeapForLongRun();${connections === undefined ? '' : ` h.tuneYoungGenerationFor(${connections});`}` : '';
  const script = `
    ${setup}
    const kept = [];
    for (let i = 0; i < 400000; i++) kept.push({ a: i, b: 'x' + i, c: [i, i + 1] });
    const s = require('node:v8').getHeapSpaceStatistics().find((x) => x.space_name === 'new_space');
    process.stdout.write(String(s.space_size / 1048576) + ' ' + kept.length);
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [mib, n] = r.stdout.split(' ').map(Number);
  assert.equal(n, 400000);
  return mib!;
}

test('without the settings the young generation grows; with them it stays at its initial size, unless the target is small', () => {
  const untuned = youngGenerationAfterGrowth(false);
  assert.ok(untuned >= 8, `untuned young generation ${untuned} MiB: the test no longer provokes growth`);
  const firstPoll = youngGenerationAfterGrowth(true);
  assert.ok(firstPoll <= 4, `young generation before the first poll's verdict: ${firstPoll} MiB`);
  const large = youngGenerationAfterGrowth(true, 20_000);
  assert.ok(large <= 4, `young generation for a large target: ${large} MiB`);
  const small = youngGenerationAfterGrowth(true, 1_000);
  assert.ok(small >= 8, `young generation for a small target: ${small} MiB (should grow as untuned)`);
});
