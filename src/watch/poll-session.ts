// The poll loop: the one place that calls the source on a timer and feeds the tracker.
// Views subscribe with onUpdate; they never poll themselves. It always asks the source for every
// state (the tracker follows everything; --state and the TUI's `f` are lenses of the views), and
// nothing a view does (pause, filter, reset) stops or changes the polls.
import type { Endpoint, Snapshot, SourceName, StateFilter } from '../model';
import type { Tracker, TrackerEvent, TrackerEventBatches } from '../core/tracker-types';
import type { LifecycleStatus, OwnershipHints, SocketLifecycleEvent } from '../core/lifecycle-types';
import { remoteKey } from '../core/lifecycle-match';
import type { Source } from '../sources/source';
import type { NoticeListener, SessionNotice, UpdateListener, WatchSession } from '../views/session-types';
import { isOutOfDescriptors, isSockwatchError } from '../errors';
import { PollCadence } from './poll-cadence';

export type SessionEnd = { kind: 'exited' } | { kind: 'stopped' } | { kind: 'error'; error: unknown };

export interface PollSession extends WatchSession {
  /**
   * settles when the target exits, stop() is called, or a poll fails unexpectedly (a poll that
   * fails for lack of file descriptors is retried next interval, with a notice)
   */
  readonly ended: Promise<SessionEnd>;
}

/** setTimeout/clearTimeout, injectable so that tests run the loop on a fake clock. */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const REAL_TIMERS: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export const NO_BRIEF_FACILITY: LifecycleStatus = { facility: 'none', reason: 'the source has no between-poll evidence' };

/**
 * Lets the event loop run through its I/O phase: destroy notifications the kernel has already
 * queued are read there. Injectable with the timers (tests on a fake clock pass an immediate one).
 */
export type EventLoopTurn = () => Promise<void>;

const REAL_TURN: EventLoopTurn = () => new Promise((r) => setImmediate(r));

/**
 * The evidence up to `atMs`: eBPF's report of it (a bounded wait), then what the kernel already
 * queued (two turns of the loop: the first may run before the loop's next I/O phase).
 */
async function lastEvidence(source: Source, atMs: number, turn: EventLoopTurn): Promise<SocketLifecycleEvent[]> {
  if (source.drainLifecycle === undefined) return [];
  await source.lifecycleCaughtUp?.(atMs);
  await turn();
  await turn();
  return source.drainLifecycle();
}

/** The distinct remote endpoints of the ends that name no owner (destroy notifications). */
function unownedRemotes(lifecycle: readonly SocketLifecycleEvent[]): Endpoint[] {
  const seen = new Map<string, Endpoint>();
  for (const e of lifecycle) {
    if (e.kind !== 'ended' || e.pid !== undefined) continue;
    const key = remoteKey(e.remote);
    if (!seen.has(key)) seen.set(key, e.remote);
  }
  return [...seen.values()];
}

function inodesOf(snap: Snapshot): Set<number> {
  const out = new Set<number>();
  for (const c of snap.connections) if (c.inode > 0) out.add(c.inode);
  return out;
}

export interface PollSessionOptions {
  pid: number;
  source: Source;
  tracker: Tracker;
  intervalMs: number;
  /** the views' lens (see WatchSession.states); never sent to the source */
  states: StateFilter;
  /** the first snapshot, already taken by the caller (so errors surface before any screen opens) */
  first: { snapshot: Snapshot; atMs: number };
  clock?: () => number;
  timers?: Timers;
  turn?: EventLoopTurn;
  /**
   * Which of these remote endpoints a socket outside the target's fd table (inodes `own`) connects
   * to (sources/remote-census.ts). With it, brief connections nobody can name that go to an
   * endpoint only the target talks to are counted apart as likely its own (likelyBrief).
   */
  census?: (remotes: readonly Endpoint[], own: ReadonlySet<number>) => ReadonlySet<string>;
  /**
   * Whether the target has exited (or is exiting): a process on its way out refuses /proc reads to
   * anyone but root (its memory is gone before its files), so a permission error right after a
   * readable poll may be its exit. Absent: a permission error ends the watch.
   */
  exiting?: () => Promise<boolean>;
  /**
   * Keep polling after every process of the target is gone (serve --name): the next snapshot that
   * finds one again carries on. Default: the session ends.
   */
  keepPolling?: boolean;
  /**
   * `run`: the between-poll feed was attached before CMD existed, so everything it saw before
   * the first poll is CMD's (its first connections): handed to the second poll, which counts it,
   * instead of being dropped as about sockets older than the watch.
   */
  keepEarlyEvidence?: boolean;
}

/** how often, and how far apart, a permission error is checked for being the target's exit */
const EXIT_LOOKS = 5;
const EXIT_LOOK_MS = 10;

/** open events handed to the listeners at a time (see deliver) */
export const EMIT_BATCH = 1024;

/** events already built, as batches: one */
function oneBatch(events: TrackerEvent[]): TrackerEventBatches {
  let left: TrackerEvent[] | undefined = events;
  return {
    next() {
      const b = left;
      left = undefined;
      return b;
    },
  };
}

export function startPollSession(options: PollSessionOptions): PollSession {
  // The closures below live as long as the session: they must not hold the first snapshot (for a
  // big target, tens of thousands of connections the tracker has long copied what it needs from).
  const { first, ...o } = options;
  const firstAtMs = first.atMs;
  const clock = o.clock ?? Date.now;
  const timers = o.timers ?? REAL_TIMERS;
  const turns = o.turn ?? REAL_TURN;
  const listeners = new Set<UpdateListener>();
  const noticeListeners = new Set<NoticeListener>();
  const cadence = new PollCadence(o.intervalMs);
  let stopped = false;
  let timer: unknown;
  let inFlight: Promise<void> = Promise.resolve();
  let resolveEnded!: (e: SessionEnd) => void;
  const ended = new Promise<SessionEnd>((r) => (resolveEnded = r));

  const emit = (events: readonly TrackerEvent[], nowMs: number): void => {
    for (const l of listeners) l(events, nowMs);
  };
  /**
   * A poll's events to the listeners, batch by batch (at most EMIT_BATCH opens each): a first poll
   * of a big target is an open event per connection, and built all at once they outlived the
   * young generation. True when one of them was an `exit`.
   */
  const deliver = (batches: TrackerEventBatches, nowMs: number): boolean => {
    let exit = false;
    for (let b = batches.next(EMIT_BATCH); b !== undefined; b = batches.next(EMIT_BATCH)) {
      if (!exit) exit = b.some((e) => e.type === 'exit');
      emit(b, nowMs);
    }
    return exit;
  };
  /**
   * The likelyBrief census for this evidence: only when an unowned end goes where the target talks
   * to. `foreign`: those endpoints a socket outside the target's fd table also connects to.
   */
  const censusOf = (lifecycle: readonly SocketLifecycleEvent[], own: () => ReadonlySet<number>): { talked: ReadonlySet<string>; foreign: ReadonlySet<string> } | undefined => {
    if (o.census === undefined) return undefined;
    const remotes = unownedRemotes(lifecycle);
    if (remotes.length === 0) return undefined;
    const talked = o.tracker.talksTo(remotes);
    if (talked.size === 0) return undefined;
    try {
      return { talked, foreign: o.census(remotes.filter((r) => talked.has(remoteKey(r))), own()) };
    } catch {
      return undefined; // no dump, no proof: nothing is counted as likely
    }
  };
  const hintsOf = (c: ReturnType<typeof censusOf>): OwnershipHints | undefined =>
    c === undefined ? undefined : { likelyRemotes: new Set([...c.talked].filter((k) => !c.foreign.has(k))) };
  const ownership = (lifecycle: readonly SocketLifecycleEvent[], own: () => ReadonlySet<number>): OwnershipHints | undefined => hintsOf(censusOf(lifecycle, own));
  /** a few short looks: the exit that refused the read completes within milliseconds */
  const exiting = async (): Promise<boolean> => {
    if (o.exiting === undefined) return false;
    for (let n = 0; n < EXIT_LOOKS; n++) {
      if (await o.exiting().catch(() => false)) return true;
      await new Promise<void>((r) => timers.set(r, EXIT_LOOK_MS));
    }
    return false;
  };
  const notify = (n: SessionNotice): void => {
    for (const l of noticeListeners) l(n);
  };
  /** polls failed in a row for lack of file descriptors (said once, at the first) */
  let transientFailures = 0;
  const finish = (e: SessionEnd): void => {
    stopped = true;
    if (timer !== undefined) timers.clear(timer);
    timer = undefined;
    o.source.close();
    resolveEnded(e);
  };

  /** set by stop(): the poll it runs is the last, nothing is scheduled after it */
  let finalPoll = false;
  const tick = async (): Promise<void> => {
    timer = undefined;
    if (stopped) return;
    const t0 = clock();
    if (cadence.pollStarted(t0)) notify({ kind: 'lagging', atMs: t0, lag: cadence.stats() });
    let batches: TrackerEventBatches;
    let group = false;
    try {
      const snap = await o.source.snapshot('all');
      if (stopped) return;
      group = snap.processes !== undefined;
      // Drained after the snapshot: every end before its fd-table read is in this batch.
      const drained = o.source.drainLifecycle?.() ?? [];
      const lifecycle = early.length > 0 ? [...early.splice(0), ...drained] : drained;
      batches = o.tracker.pollBatches(snap, t0, lifecycle, ownership(lifecycle, () => inodesOf(snap)));
      lastSnapshot = snap;
    } catch (e) {
      if (stopped) return;
      if (isOutOfDescriptors(e)) {
        if (transientFailures++ === 0) notify({ kind: 'poll_failed', atMs: t0, reason: e instanceof Error ? e.message : String(e), intervalMs: o.intervalMs });
        if (!finalPoll) timer = timers.set(schedule, Math.max(0, t0 + o.intervalMs - clock()));
        return;
      }
      const gone = isSockwatchError(e) && (e.code === 'no_such_process' || (e.code === 'permission_denied' && (await exiting())));
      if (stopped) return;
      if (!gone) {
        finish({ kind: 'error', error: e });
        return;
      }
      // Every piece of evidence up to the exit is taken in before the exit is reported: the ends
      // of the connections the exit closed, and those of connections opened since the last poll.
      const lifecycle = [...early.splice(0), ...(await lastEvidence(o.source, clock(), turns))];
      if (stopped) return;
      // The target's fd table is gone, but its sockets are released a moment after it (the exit's
      // deferred file puts): one the last poll saw in its table is still its own, not a stranger's.
      const last = lastSnapshot;
      const own = (): ReadonlySet<number> => (last === undefined ? new Set() : inodesOf(last));
      // A socket the target opened after the last poll is in no table we can read any more, yet
      // holds its inode until that release: it would read as a stranger's connection to the same
      // endpoint, and the target's own brief ends would go "owner unknown". A few short looks let
      // the release happen; a stranger's socket stays.
      let census = censusOf(lifecycle, own);
      for (let n = 0; n < EXIT_LOOKS && census !== undefined && census.foreign.size > 0; n++) {
        await new Promise<void>((r) => timers.set(r, EXIT_LOOK_MS));
        if (stopped) return;
        census = censusOf(lifecycle, own);
      }
      batches = oneBatch(o.tracker.processGone(clock(), lifecycle, hintsOf(census)));
    }
    if (transientFailures > 0) {
      notify({ kind: 'poll_resumed', atMs: t0, failed: transientFailures });
      transientFailures = 0;
    }
    const exit = deliver(batches, t0);
    // A group goes on while any of its processes is left; a single process ends with its exit.
    const over = o.tracker.exited || (!group && exit);
    if (over && !(o.keepPolling === true && o.tracker.exited)) {
      finish({ kind: 'exited' });
      return;
    }
    if (finalPoll) return;
    // Keep a steady cadence: the next poll is one interval after this one began, not after it ended.
    timer = timers.set(schedule, Math.max(0, t0 + o.intervalMs - clock()));
  };
  const schedule = (): void => {
    inFlight = tick();
  };

  /** the newest snapshot polled (the source refreshes it in place): the target's last known fd table */
  let lastSnapshot: Snapshot | undefined = first.snapshot;
  // Evidence gathered before the first poll is about sockets that ended before the watch (but see keepEarlyEvidence).
  const drainedEarly = o.source.drainLifecycle?.() ?? [];
  const early = o.keepEarlyEvidence ? drainedEarly : [];
  cadence.pollStarted(firstAtMs);
  // Held only until delivered: the closures below share this scope with the whole session. Its
  // open events (one per connection of a big target) are built batch by batch as delivered.
  let firstBatches: TrackerEventBatches | undefined = o.tracker.pollBatches(first.snapshot, firstAtMs);
  // the time of the first poll's evidence, as the tracker counts from it
  const startedMs = first.snapshot.observedAtMs ?? firstAtMs;
  // Deliver the first poll's events once listeners are attached (same tick as the caller).
  queueMicrotask(() => {
    const batches = firstBatches;
    firstBatches = undefined;
    if (stopped || batches === undefined) return;
    deliver(batches, startedMs);
    timer = timers.set(schedule, Math.max(0, firstAtMs + o.intervalMs - clock()));
  });

  const session: PollSession = {
    pid: o.pid,
    tracker: o.tracker,
    // a getter: a fallback source changes its name when it switches
    get sourceName(): SourceName {
      return o.source.name;
    },
    intervalMs: o.intervalMs,
    states: o.states,
    // a getter: under --brief auto the facility moves from destroy notifications to eBPF once attached
    get briefConnections() {
      return o.source.lifecycleStatus ?? NO_BRIEF_FACILITY;
    },
    lag: () => cadence.stats(),
    now: clock,
    startedMs,
    onUpdate(l: UpdateListener) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    onNotice(l: NoticeListener) {
      noticeListeners.add(l);
      return () => noticeListeners.delete(l);
    },
    async stop() {
      if (!stopped) {
        // One last look: what changed since the latest poll (a close, a brief connection's end)
        // belongs in the summary, not lost with the interval that was cut short.
        if (timer !== undefined) timers.clear(timer);
        timer = undefined;
        await inFlight;
        // eBPF's report of the last moments may still be in its ring buffer (read now)
        if (!stopped) await o.source.lifecycleCaughtUp?.(clock());
        if (!stopped) {
          finalPoll = true;
          schedule();
          await inFlight;
        }
        if (!stopped) finish({ kind: 'stopped' });
      }
      await inFlight;
    },
    ended,
  };
  return session;
}
