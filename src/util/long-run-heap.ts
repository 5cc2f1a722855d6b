// A watch keeps one poll's worth of objects (rows, connections, tracker updates) alive until the
// next poll, so they outlive the young generation and pile up in the old one; V8's default
// growing factor then lets the heap reach several times the live data before a full collection
// (a watch of 19,800 connections: ~400 MiB RSS for ~100 MiB live). A smaller growing factor
// collects sooner. V8 reads this flag at every collection, so setting it at run time works; it
// is a tuning hint, and sockwatch behaves the same without it. Measured: docs/performance.md.
//
// The young generation: V8 doubles it (up to 2 × 16 MiB) whenever much of it survives a
// scavenge, which the first poll of a large target does (every connection becomes a record that
// lives on), and it never shrinks again while polls keep allocating: for a large target a good
// part of the watch's RSS. A growth factor of 1 keeps it at its initial size; V8 reads the flag
// each time it would grow (unlike the semi-space size flags, fixed at start-up). The cost is more
// scavenges and earlier promotion; for a small target that is a larger share of a cheap poll and
// the memory it saves is small, so after the first poll a target below LARGE_TARGET lets the
// young generation grow again. Both effects are measured in docs/performance.md.
import { setFlagsFromString } from 'node:v8';

/** Heap growth per full collection, in percent (V8's own default adapts between ~10 % and 300 %). */
const HEAP_GROWING_PERCENT = 50;
/** Connections from which a watch keeps the young generation at its initial size. */
export const LARGE_TARGET = 5000;

let applied = false;

/** For long-running commands (watch, serve, run, demo); a one-shot never reaches a full collection. */
export function tuneHeapForLongRun(): void {
  if (applied) return;
  applied = true;
  setFlag(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  keepYoungGenerationSmall();
}

/** Until the first poll says how large the target is (bench/poll-bench.ts calls it before each target's first poll). */
export function keepYoungGenerationSmall(): void {
  setFlag('--semi-space-growth-factor=1');
}

/** After the first poll: a large target keeps the young generation small, a small one lets it grow (V8's doubling). */
export function tuneYoungGenerationFor(connections: number): void {
  setFlag(`--semi-space-growth-factor=${connections >= LARGE_TARGET ? 1 : 2}`);
}

function setFlag(flag: string): void {
  try {
    setFlagsFromString(flag);
  } catch {
    // a runtime without this flag: the default growth is only more memory, never wrong
  }
}
