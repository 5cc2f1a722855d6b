// Reading a source's between-poll evidence in the lifecycle tests: drained until a condition holds
// (or a deadline), and times checked against the client's own clock.
import assert from 'node:assert/strict';
import type { SocketLifecycleEvent } from '../../src/core/lifecycle-types';
import type { Source } from '../../src/sources/source';

export async function drainUntil(source: Source, done: (evs: SocketLifecycleEvent[]) => boolean, timeoutMs = 5000): Promise<SocketLifecycleEvent[]> {
  const got: SocketLifecycleEvent[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    got.push(...(source.drainLifecycle?.() ?? []));
    if (done(got) || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function within(v: number | undefined, lo: number, hi: number, what: string): void {
  assert.ok(v !== undefined && v >= lo && v <= hi, `${what}: ${v} not in [${lo.toFixed(3)}, ${hi.toFixed(3)}]`);
}
