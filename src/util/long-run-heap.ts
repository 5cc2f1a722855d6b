// A watch keeps one poll's worth of objects (rows, connections, tracker updates) alive until the
// next poll, so they outlive the young generation and pile up in the old one; V8's default
// growing factor then lets the heap reach several times the live data before a full collection
// (a watch of 19,800 connections: ~400 MiB RSS for ~100 MiB live). A smaller growing factor
// collects sooner. V8 reads this flag at every collection, so setting it at run time works; it
// is a tuning hint, and sockwatch behaves the same without it. Measured: docs/performance.md.
import { setFlagsFromString } from 'node:v8';

/** Heap growth per full collection, in percent (V8's own default adapts between ~10 % and 300 %). */
const HEAP_GROWING_PERCENT = 50;

let applied = false;

/** For long-running commands (watch, serve, run, demo); a one-shot never reaches a full collection. */
export function tuneHeapForLongRun(): void {
  if (applied) return;
  applied = true;
  try {
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  } catch {
    // a runtime without this flag: the default growth is only more memory, never wrong
  }
}
