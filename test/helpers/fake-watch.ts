// The poll loop run whole on a fake clock: a scripted Source (snapshots, between-poll evidence,
// how long each read takes) and fake timers the test advances. No real process, no real time.
import type { Snapshot, StateFilter } from '../../src/model';
import type { Source } from '../../src/sources/source';
import type { LifecycleStatus, SocketLifecycleEvent } from '../../src/core/lifecycle-types';
import { createTracker } from '../../src/core/tracker';
import { findingMessage } from '../../src/views/output/finding-message';
import { startPollSession, type PollSession, type PollSessionOptions, type Timers } from '../../src/watch/poll-session';
import { noSuchProcess } from '../../src/errors';

export interface ScriptedPoll {
  /** the snapshot of this poll; undefined: the target is gone (its lifecycle is then drained at the exit) */
  snapshot: Snapshot | undefined;
  /** how long the read takes (the fake clock advances by it); default 20 */
  readMs?: number;
  /** evidence drained after this poll */
  lifecycle?: SocketLifecycleEvent[];
  /** this poll fails with it (snapshot is then ignored) */
  error?: unknown;
}

export class FakeClock {
  constructor(public nowMs: number) {}
  readonly now = (): number => this.nowMs;
}

export class FakeTimers implements Timers {
  private pending: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  constructor(private readonly clock: FakeClock) {}

  set(fn: () => void, ms: number): unknown {
    const t = { at: this.clock.nowMs + ms, fn, id: this.nextId++ };
    this.pending.push(t);
    return t.id;
  }

  clear(handle: unknown): void {
    this.pending = this.pending.filter((t) => t.id !== handle);
  }

  get size(): number {
    return this.pending.length;
  }

  /** Moves the clock to the next timer and fires it; false when none is pending. */
  fireNext(): boolean {
    this.pending.sort((a, b) => a.at - b.at);
    const t = this.pending.shift();
    if (t === undefined) return false;
    this.clock.nowMs = Math.max(this.clock.nowMs, t.at);
    t.fn();
    return true;
  }
}

export class ScriptedSource implements Source {
  readonly name = 'procfs' as const;
  /** the state filter of every snapshot() call */
  readonly asked: StateFilter[] = [];
  closed = false;
  private i = 0;
  private drained: SocketLifecycleEvent[] = [];

  constructor(
    private readonly script: readonly ScriptedPoll[],
    private readonly clock: FakeClock,
    readonly lifecycleStatus?: LifecycleStatus,
  ) {}

  async snapshot(states: StateFilter): Promise<Snapshot> {
    this.asked.push(states);
    const step = this.script[Math.min(this.i++, this.script.length - 1)];
    this.clock.nowMs += step?.readMs ?? 20;
    // a gone target's step may carry the evidence of its last moments (drained after the failure)
    this.drained = step?.lifecycle ?? [];
    if (step?.error !== undefined) throw step.error;
    if (step?.snapshot === undefined) throw noSuchProcess(4242);
    return { ...step.snapshot, observedAtMs: this.clock.nowMs };
  }

  drainLifecycle(): SocketLifecycleEvent[] {
    const out = this.drained;
    this.drained = [];
    return out;
  }

  close(): void {
    this.closed = true;
  }
}

export interface FakeWatch {
  session: PollSession;
  source: ScriptedSource;
  clock: FakeClock;
  timers: FakeTimers;
  /** the first poll's snapshot, as the CLI takes it before starting the session */
  first: Snapshot;
  /** runs polls until the script ends (the target exits) or `maxPolls`; `after(n)` runs after poll n */
  run(after?: (poll: number) => Promise<void> | void, maxPolls?: number): Promise<void>;
}

/**
 * `attach` subscribes views at once, as the CLI does: the first poll's events are delivered in the
 * microtask after startPollSession returns, so a view attached after an await would miss them.
 */
export async function startFakeWatch(o: {
  script: ScriptedPoll[];
  intervalMs?: number;
  states: StateFilter;
  t0?: number;
  lifecycleStatus?: LifecycleStatus;
  attach?: (session: PollSession, first: Snapshot) => void;
  census?: PollSessionOptions['census'];
}): Promise<FakeWatch> {
  const clock = new FakeClock(o.t0 ?? 1_700_000_000_000);
  const timers = new FakeTimers(clock);
  const source = new ScriptedSource(o.script, clock, o.lifecycleStatus);
  const atMs = clock.nowMs;
  const first = await source.snapshot('all');
  const session = startPollSession({
    pid: 4242,
    source,
    tracker: createTracker({ describeFinding: findingMessage }),
    intervalMs: o.intervalMs ?? 1000,
    states: o.states,
    first: { snapshot: first, atMs },
    clock: clock.now,
    timers,
    turn: () => Promise.resolve(),
    ...(o.census ? { census: o.census } : {}),
  });
  o.attach?.(session, first);
  let ended = false;
  void session.ended.then(() => (ended = true));
  const settle = async (): Promise<void> => {
    for (let k = 0; k < 5; k++) await new Promise((r) => setImmediate(r));
  };
  return {
    session,
    source,
    clock,
    timers,
    first,
    async run(after, maxPolls = 1000) {
      await settle(); // the first poll's events are delivered in a microtask
      await after?.(0);
      for (let n = 1; n <= maxPolls && !ended; n++) {
        if (!timers.fireNext()) break;
        await settle();
        await after?.(n);
      }
    },
  };
}
