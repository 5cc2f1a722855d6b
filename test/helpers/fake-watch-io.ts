// A whole watch in-process (src/watch/watch-app.ts) on fakes: the I/O a test reads and drives
// (stdout, stderr, signals, stdout failing, a terminal), the target a scripted source on a fake
// clock, and a driver that fires the fake timers until the watch returns its exit code.
import type { WatchIo } from '../../src/watch/watch-io';
import type { TargetAccess } from '../../src/watch/target-access';
import { FakeClock, FakeTimers, ScriptedSource, type ScriptedPoll } from './fake-watch';
import { createFakeTerminal, type FakeTerminal } from './fake-terminal';

export class FakeWatchIo implements WatchIo {
  readonly clock: FakeClock;
  readonly timers: FakeTimers;
  readonly out: string[] = [];
  readonly err: string[] = [];
  readonly signalHandlers = new Set<() => void>();
  readonly goneHandlers = new Set<() => void>();
  readonly terminal: FakeTerminal;
  readonly stdout: WatchIo['stdout'];
  private open = true;
  heapCalls: string[] = [];
  readonly heap = { longRun: () => void this.heapCalls.push('longRun'), firstPoll: (n: number) => void this.heapCalls.push(`firstPoll ${n}`) };

  /** `tty`: stdout and stdin are a terminal (the fake one) */
  constructor(o: { t0: number; tty?: boolean }) {
    this.clock = new FakeClock(o.t0);
    this.timers = new FakeTimers(this.clock);
    this.terminal = createFakeTerminal(120, 40);
    this.terminal.input.isTTY = o.tty === true;
    const tty = o.tty === true;
    this.stdout = { write: (t) => void this.out.push(t), isOpen: () => this.open, isTTY: tty };
  }

  readonly stderr = (text: string): void => void this.err.push(text);
  readonly now = (): number => this.clock.nowMs;
  readonly cwd = (): string => '/nonexistent-cwd';

  onSignal(handler: () => void): () => void {
    this.signalHandlers.add(handler);
    return () => this.signalHandlers.delete(handler);
  }

  onStdoutGone(handler: () => void): () => void {
    this.goneHandlers.add(handler);
    return () => this.goneHandlers.delete(handler);
  }

  /** SIGINT arrives */
  signal(): void {
    for (const h of [...this.signalHandlers]) h();
  }

  /** stdout's reader goes away (EPIPE): nothing more can be written */
  stdoutGone(): void {
    this.open = false;
    for (const h of [...this.goneHandlers]) h();
  }

  /** stdout as lines (the last newline dropped) */
  lines(): string[] {
    return this.out.join('').split('\n').slice(0, -1);
  }
}

/** The target as a scripted source; a step without a snapshot is its exit. */
export function scriptedTargets(io: FakeWatchIo, script: ScriptedPoll[]): TargetAccess & { source: ScriptedSource; censusClosed: () => boolean } {
  const source = new ScriptedSource(script, io.clock);
  let censusClosed = false;
  return {
    source,
    censusClosed: () => censusClosed,
    wait: async () => undefined,
    open: async () => source,
    childrenHint: async () => undefined,
    exists: async () => false,
    census: () => ({ foreign: () => new Set<string>(), close: () => void (censusClosed = true) }),
    watchStart: () => undefined,
  };
}

const settle = async (): Promise<void> => {
  for (let k = 0; k < 5; k++) await new Promise((r) => setImmediate(r));
};

/**
 * Runs the watch to its end: lets it take each step, calls `at(n)`, fires the next timer. n counts
 * steps: a step fires one timer, or none when none is pending (a watch that outlives its target
 * waits for a key or a signal). Fails after 20 idle steps in a row (the watch would hang).
 */
export async function driveWatch(io: FakeWatchIo, watch: Promise<number>, at?: (n: number) => Promise<void> | void, maxSteps = 1000): Promise<number> {
  let settled: { code: number } | { error: unknown } | undefined;
  watch.then(
    (code) => (settled = { code }),
    (error: unknown) => (settled = { error }),
  );
  let idle = 0;
  for (let n = 0; n <= maxSteps; n++) {
    await settle();
    if (settled === undefined) await at?.(n);
    await settle();
    if (settled !== undefined) break;
    idle = io.timers.fireNext() ? 0 : idle + 1;
    if (idle > 20) throw new Error(`the watch waits with no timer pending (step ${n})`);
  }
  if (settled === undefined) throw new Error(`the watch did not end within ${maxSteps} timers`);
  if ('error' in settled) throw settled.error;
  return settled.code;
}
