// Snapshots and between-poll evidence in, connection events out. The reconciler decides which
// processes are the target, which socket of a poll is which live connection (inode, key, tuple,
// cookie), what the evidence between polls says about them, and which state changes, opens and
// closes happened. It counts nothing: the watch state (watch-state.ts) does, from its events.
// tracker.ts documents the semantics of both. (About 440 lines: the single-process and group
// rules share one matching walk; its helpers are apart in live-index.ts, between-polls.ts and
// socket-identity.ts.)
import type { Connection, Endpoint, ProcessInfo, Snapshot, TcpInternals } from '../model';
import { LiveRecord, copyConnection } from './live-record';
import type { ExchangeUpdate, ExitReason, PollEvent, TrackedConnection, TrackerEvent } from './tracker-types';
import type { OwnershipHints, SocketEnded, SocketLifecycleEvent } from './lifecycle-types';
import { advanceExchangeState, firstExchangeState } from './exchanges';
import { ListenerIndex, tupleKey } from './lifecycle-match';
import { LiveIndex } from './live-index';
import { BetweenPolls, type Evidence, type SettleContext, type Settled } from './between-polls';
import { cookieChanged, firstOfEachKey, sameProcess, sameTuple } from './socket-identity';
import { append } from './poll-batches';

export interface ReconcilerOptions {
  /** see TrackerOptions.watchStart */
  watchStart?: string;
  /** state changes kept per connection, the current state included */
  stateHistorySize: number;
  /** see TrackerOptions.adoptNewProcess */
  adopt: boolean;
}

/**
 * What a poll did, in order: `head` (brief closes and closes, an exit's poll event and exits,
 * state changes), then — the counters restart at `restartAt` when set — the records opened (their
 * open events at atMs, built as they are taken), then `tail` (the poll event).
 */
export interface PollOutcome {
  head: TrackerEvent[];
  restartAt?: number;
  opened: LiveRecord[];
  atMs: number;
  tail: TrackerEvent[];
}

export class Reconciler {
  /** group mode (snapshots with `processes`): the processes watched now, by PID */
  private members = new Map<number, ProcessInfo>();
  private readonly index = new LiveIndex();
  private readonly between = new BetweenPolls();
  private pollGen = 0;
  private nextId = 1;
  private readonly newId = (): string => `c${this.nextId++}`;
  private currentProcess: ProcessInfo | undefined;
  private hasExited = false;
  /** the next poll is the first of a process: what it finds is preexisting */
  private firstPollPending = true;
  private latestMs = -Infinity;
  /** the latest snapshot had `processes` */
  private groupMode = false;
  /** group mode without adoption: PIDs a member held and a newcomer took over (never members again) */
  private readonly refusedPids = new Set<number>();
  /** the live and listening counts the last poll event reported */
  private reported = { live: 0, listening: 0 };
  /** the ownership hints of the poll being applied */
  private hints: OwnershipHints | undefined;

  constructor(private readonly o: ReconcilerOptions) {}

  get process(): ProcessInfo | undefined {
    return this.currentProcess;
  }

  get exited(): boolean {
    return this.hasExited;
  }

  get processes(): readonly ProcessInfo[] {
    return [...this.members.values()];
  }

  /** live connections and listening sockets, in first-seen order */
  live(): TrackedConnection[] {
    const out: TrackedConnection[] = [];
    for (const rec of this.index.records) out.push(rec.snapshot());
    return out;
  }

  *liveEndpoints(): Iterable<Endpoint> {
    for (const rec of this.index.records) {
      yield rec.connection.local;
      yield rec.connection.remote;
    }
  }

  /** A process found at its first poll holds preexisting connections unless it started during the watch. */
  private olderThanWatch(p: ProcessInfo, firstOfWatch: boolean): boolean {
    if (this.o.watchStart === undefined || p.startTime === undefined) return firstOfWatch;
    return p.startTime < this.o.watchStart;
  }

  poll(snapshot: Snapshot, nowMs: number, lifecycle: readonly SocketLifecycleEvent[], hints: OwnershipHints | undefined): PollOutcome {
    this.hints = hints;
    try {
      this.groupMode = snapshot.processes !== undefined;
      return this.groupMode ? this.pollGroup(snapshot, nowMs, lifecycle) : this.pollSingle(snapshot, nowMs, lifecycle);
    } finally {
      this.hints = undefined;
    }
  }

  private pollSingle(snapshot: Snapshot, nowMs: number, lifecycle: readonly SocketLifecycleEvent[]): PollOutcome {
    const events: TrackerEvent[] = [];
    const newProcess = this.currentProcess === undefined || !sameProcess(this.currentProcess, snapshot.process);
    if (this.hasExited && !newProcess) return { head: events, opened: [], atMs: 0, tail: [] };
    const previousMs = this.latestMs;
    const now = this.clampTime(snapshot.observedAtMs ?? nowMs);

    if (this.currentProcess !== undefined && newProcess) {
      if (!this.hasExited) {
        // The closes come first (with this poll's evidence: it is the old process's), and exit
        // still names the old process.
        append(events, this.endProcesses(now, previousMs, lifecycle, [this.currentProcess], 'pid_reused'));
        this.hasExited = true;
        lifecycle = [];
      }
      // The newcomer is not the target: the watch of this PID is over.
      if (!this.o.adopt) return { head: events, opened: [], atMs: now, tail: [] };
      this.firstPollPending = true;
    }
    const firstOfProcess = this.firstPollPending;
    if (firstOfProcess) {
      this.firstPollPending = false;
      this.hasExited = false;
      this.between.clear();
    }
    this.currentProcess = { ...snapshot.process };
    // Without start times to compare, what a process holds at its first poll is taken as older.
    const preexisting = firstOfProcess && this.olderThanWatch(snapshot.process, true);
    this.members = new Map([[snapshot.process.pid, this.currentProcess]]);
    const out = this.pollConnections(snapshot, now, previousMs, lifecycle, events, {
      dropEvidence: firstOfProcess,
      preexisting: () => preexisting,
      left: new Set(),
      exits: [],
    });
    if (firstOfProcess) this.markFirst(out);
    return out;
  }

  /**
   * A target of several processes: each is its PID and start time; one that leaves `processes`
   * gets an `exit` naming it (its connections close with it) while the others are still watched.
   * Counters run on across joins and leaves (a restart of a worker is not a new watch).
   */
  private pollGroup(snapshot: Snapshot, nowMs: number, lifecycle: readonly SocketLifecycleEvent[]): PollOutcome {
    const procs = snapshot.processes ?? [];
    const previousMs = this.latestMs;
    const now = this.clampTime(snapshot.observedAtMs ?? nowMs);
    const firstOfWatch = this.currentProcess === undefined;
    if (firstOfWatch) {
      this.firstPollPending = false;
      this.between.clear();
    }
    // Without adoption a group that has exited stays over (its PIDs now hold other processes).
    if (this.hasExited && !this.o.adopt && !firstOfWatch) return { head: [], opened: [], atMs: now, tail: [] };
    this.hasExited = false;
    const next = new Map<number, ProcessInfo>();
    for (const p of procs) next.set(p.pid, { ...p });
    if (!this.o.adopt) {
      // A newcomer under a member's PID is not a member (see TrackerOptions.adoptNewProcess).
      for (const [pid, p] of next) {
        const known = this.members.get(pid);
        if ((known !== undefined && !sameProcess(known, p)) || (known === undefined && this.refusedPids.has(pid))) {
          this.refusedPids.add(pid);
          next.delete(pid);
        }
      }
    }
    const left = new Set<number>();
    const exits: TrackerEvent[] = [];
    for (const [pid, p] of this.members) {
      const sameNow = next.get(pid);
      if (sameNow !== undefined && sameProcess(p, sameNow)) continue;
      left.add(pid);
      const reused = sameNow !== undefined || procs.some((q) => q.pid === pid);
      exits.push({ type: 'exit', atMs: now, reason: reused ? 'pid_reused' : 'exited', process: { ...p } });
    }
    const older = new Set<number>();
    for (const [pid, p] of next) {
      const known = this.members.get(pid);
      if (known !== undefined && sameProcess(known, p)) continue;
      if (this.olderThanWatch(p, firstOfWatch)) older.add(pid);
    }
    this.members = next;
    const firstMember = next.values().next();
    if (firstMember.done !== true) this.currentProcess = { ...firstMember.value };
    else if (procs[0] !== undefined && this.currentProcess === undefined) this.currentProcess = { ...procs[0] };
    // Every member gone, the rest refused: the watch is over (the refused never come in).
    if (next.size === 0 && this.refusedPids.size > 0) this.hasExited = true;
    const refused = this.refusedPids;
    const held = (c: Connection): boolean => c.pid === undefined || !refused.has(c.pid) || (c.pids ?? []).some((p) => !refused.has(p));
    const own = refused.size === 0 ? snapshot : { ...snapshot, connections: snapshot.connections.filter(held) };
    const out = this.pollConnections(own, now, previousMs, lifecycle, [], {
      dropEvidence: firstOfWatch,
      // A connection new to the tracker is preexisting when its holder is new and older than the watch.
      preexisting: (c) => (c.pid === undefined ? firstOfWatch : older.has(c.pid) || (c.pids ?? []).some((p) => older.has(p))),
      left,
      exits,
    });
    if (firstOfWatch) this.markFirst(out);
    return out;
  }

  /** The counters start at this poll: before its opens, and its poll event says so (for a replay). */
  private markFirst(out: PollOutcome): void {
    out.restartAt = out.atMs;
    for (const e of out.tail) if (e.type === 'poll') e.first = true;
  }

  private pollConnections(
    snapshot: Snapshot,
    now: number,
    previousMs: number,
    lifecycle: readonly SocketLifecycleEvent[],
    events: TrackerEvent[],
    how: { dropEvidence: boolean; preexisting: (c: Connection) => boolean; left: ReadonlySet<number>; exits: TrackerEvent[] },
  ): PollOutcome {
    // Match this poll's connections to live records by inode (a number: no key strings to build
    // for the thousands that did not change), falling back to the full key where a source has no
    // inode. A record matched twice keeps the first; a tuple or cookie change is a new connection.
    const gen = ++this.pollGen;
    const index = this.index;
    // (Index loops here and below: a first poll runs these loops once over every connection,
    // before they are optimized, and an iterator there allocates a result per step.)
    const conns = snapshot.connections;
    const unmatched: Connection[] = [];
    let matchedAny = false;
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i]!;
      const rec = index.recordOf(c);
      if (rec !== undefined && sameTuple(rec.connection, c) && !cookieChanged(rec.connection, c)) {
        if (rec.matchedGen !== gen) {
          rec.matchedGen = gen;
          rec.next = c;
          matchedAny = true;
        }
        continue;
      }
      unmatched.push(c);
    }
    let fresh = firstOfEachKey(unmatched);

    // Evidence from between the polls. At the first poll of a process it is about sockets that
    // ended before we watched: dropped.
    // the processes whose evidence this is: those watched now and those that left at this poll
    const pids = new Set(this.members.keys());
    for (const pid of how.left) pids.add(pid);
    const evidence = this.between.take(lifecycle, pids, how.dropEvidence);

    // In first-seen order: closes now, state changes after them. The same walk gathers the
    // listening ports and the exchange counts that changed.
    const closeEvents: TrackerEvent[] = [];
    const stateEvents: TrackerEvent[] = [];
    const listeners = new ListenerIndex();
    const exchanges: ExchangeUpdate[] = [];
    // (Deleting the visited record from the Set while iterating it is safe; nothing is added.)
    for (const rec of index.records) {
      const c = rec.next;
      if (rec.matchedGen !== gen || c === undefined) {
        // A socket of a process that left closed with it: not churn.
        const withProcess = rec.connection.pid !== undefined && how.left.has(rec.connection.pid);
        closeEvents.push(this.closeWith(rec, evidence, now, withProcess ? 'left' : 'poll'));
        continue;
      }
      rec.next = undefined;
      const from = rec.connection.state;
      rec.observe(c);
      rec.lastSeenMs = now;
      if (c.tcp !== undefined) {
        if (rec.exchanges === undefined) rec.exchanges = firstExchangeState(c.tcp);
        else advanceExchangeState(rec.exchanges, c.tcp);
        index.indexCookie(rec);
      }
      if (c.state !== from) {
        rec.changeState(from, c.state, now, this.o.stateHistorySize);
        stateEvents.push({ type: 'state', atMs: now, conn: rec.snapshot(), from, to: c.state });
      }
      if (rec.listener) listeners.add(rec.connection.local);
      reportExchanges(rec, exchanges);
    }

    // Another entry of a socket matched above (its cookie changed): a duplicate, the first listed
    // wins; not a new connection.
    if (matchedAny) {
      fresh = fresh.filter((c) => {
        const matched = index.recordOf(c);
        return !(matched !== undefined && matched.matchedGen === gen && sameTuple(matched.connection, c));
      });
    }

    // their open events are built as they are taken (PollBatches)
    const opened: LiveRecord[] = [];
    for (let i = 0; i < fresh.length; i++) {
      const c = fresh[i]!;
      const preexisting = how.preexisting(c);
      const started = preexisting || !this.between.startsWaiting ? undefined : this.between.takeStarted(c.tcp?.cookie, tupleKey(c.local, c.remote), now);
      // An exact start's fraction of a millisecond is dropped: a recording's ISO times hold whole
      // milliseconds, and a replay must arrive at the same ages (a brief close keeps its fraction).
      const firstSeenMs = started === undefined ? now : Math.floor(started.atMs);
      const rec = new LiveRecord(this.newId(), copyConnection(c), firstSeenMs, now, preexisting, started !== undefined, gen);
      index.add(rec);
      if (rec.listener) listeners.add(rec.connection.local);
      opened.push(rec);
    }

    // What remains of the evidence: ends of sockets no poll saw (brief), or not yet closed.
    const settled = this.between.settle(evidence, this.settleContext(listeners, pids, previousMs, now));

    // Closes in time order: brief ones and exact ends happened before this poll's observation.
    const closes = [...settled.brief, ...closeEvents].sort((a, b) => a.atMs - b.atMs);
    for (const list of [closes, how.exits, stateEvents]) append(events, list);
    return { head: events, opened, atMs: now, tail: [this.withCounts(pollEvent(now, settled, exchanges))] };
  }

  /** The target is gone: every live connection closes with it. */
  gone(nowMs: number, lifecycle: readonly SocketLifecycleEvent[], hints: OwnershipHints | undefined): TrackerEvent[] {
    const current = this.currentProcess;
    if (current === undefined || this.hasExited) return [];
    this.hints = hints;
    try {
      const previousMs = this.latestMs;
      const now = this.clampTime(nowMs);
      const gone = this.groupMode ? [...this.members.values()] : [current];
      const events = this.endProcesses(now, previousMs, lifecycle, gone, 'exited');
      this.hasExited = true;
      // A group carries on when its processes come back (serve --name); a single process is over.
      if (!this.groupMode) this.firstPollPending = true;
      this.members = new Map();
      return events;
    } finally {
      this.hints = undefined;
    }
  }

  /**
   * The end of every live connection with the processes `gone`, a poll event (at the exit), and
   * their `exit` events. The evidence gathered up to the exit is theirs: the end of a live
   * connection gives its exact close time and final counters, an end no poll saw (by the rules of
   * settle) is a brief connection, so a process that did all its work since the last poll is
   * counted in full.
   */
  private endProcesses(now: number, previousMs: number, lifecycle: readonly SocketLifecycleEvent[], gone: readonly ProcessInfo[], reason: ExitReason): TrackerEvent[] {
    const pids = new Set(this.members.keys());
    for (const p of gone) pids.add(p.pid);
    const evidence = this.between.take(lifecycle, pids);
    const closes: TrackerEvent[] = [];
    const listeners = new ListenerIndex();
    for (const rec of this.index.records) {
      if (rec.listener) listeners.add(rec.connection.local);
      closes.push(this.closeWith(rec, evidence, now, 'exit'));
    }
    this.index.clear();
    // settled once nothing is live: an end of the target's socket is then a brief connection, not a race
    const settled = this.between.settle(evidence, this.settleContext(listeners, pids, previousMs, now));
    const events = [...settled.brief, ...closes].sort((a, b) => a.atMs - b.atMs);
    const poll = this.withCounts(pollEvent(now, settled, []));
    poll.atExit = true;
    events.push(poll);
    for (const p of gone) events.push({ type: 'exit', atMs: now, reason, process: { ...p } });
    return events;
  }

  private settleContext(listeners: ListenerIndex, pids: ReadonlySet<number>, previousMs: number, now: number): SettleContext {
    return { live: this.index, listeners, pids, refused: this.refusedPids, previousMs, now, hints: this.hints, nextId: this.newId };
  }

  /**
   * A live record's close: at the kernel's time when evidence gives its end (and with its final
   * counters), else at `now` (the poll that found it gone, or the exit). `how`: `exit`, its process
   * is gone (every close is the exit's); `left`, its group member left at this poll (the exit's
   * unless the kernel's end came first); `poll`, a close the poll found.
   */
  private closeWith(rec: LiveRecord, evidence: Evidence, now: number, how: 'poll' | 'left' | 'exit'): TrackerEvent {
    const ended = evidence.hasEnded ? evidence.takeEnded(rec.cookie, rec.tuple) : undefined;
    // An end after this poll's observation is a socket destroyed after its fd closed (it
    // lingered, orphaned): the poll's time is then the better bound.
    const exact = ended !== undefined && ended.atMs <= now ? Math.max(ended.atMs, rec.lastSeenMs) : undefined;
    // The kernel's last word on its counters: the traffic after the last poll counts too.
    if (ended !== undefined) finalCounters(rec, ended);
    const at = exact ?? now;
    // remembered with the cookie its end carried when the polls had none (a row without
    // tcp_info): a later life of the tuple is then told apart by its own cookie
    this.between.closed(rec.tuple, rec.cookie ?? ended?.cookie, at);
    this.index.forget(rec);
    const event: TrackerEvent = { type: 'close', atMs: at, conn: rec.snapshot(), lifetimeMs: at - rec.firstSeenMs, closeTime: exact !== undefined ? 'exact' : 'poll' };
    const bound = rec.preexisting ? 'lower' : rec.openExact ? (exact !== undefined ? 'exact' : 'upper') : exact !== undefined ? 'lower' : undefined;
    if (bound !== undefined) event.lifetimeBound = bound;
    if (how === 'exit' || (how === 'left' && exact === undefined)) event.cause = 'exit';
    if (ended?.state !== undefined) event.finalState = ended.state;
    return event;
  }

  /** The live and listening counts on a poll event, where they changed since the last. */
  private withCounts(e: PollEvent): PollEvent {
    const live = this.index.connectionCount;
    const listening = this.index.listenerCount;
    if (live !== this.reported.live || listening !== this.reported.listening) {
      e.live = live;
      e.listening = listening;
      this.reported = { live, listening };
    }
    return e;
  }

  private clampTime(nowMs: number): number {
    const now = Math.max(nowMs, this.latestMs);
    this.latestMs = now;
    return now;
  }
}

/** The poll event of a poll: what the watch state needs that no connection event says. */
function pollEvent(now: number, settled: Settled, exchanges: ExchangeUpdate[]): PollEvent {
  const e: PollEvent = { type: 'poll', atMs: now };
  if (exchanges.length > 0) e.exchanges = exchanges;
  if (settled.likely.length > 0) e.likelyBrief = settled.likely;
  if (settled.unattributed.length > 0) e.unattributed = settled.unattributed;
  return e;
}

/** A live record's exchange count, when it changed since it was last reported. */
function reportExchanges(rec: LiveRecord, out: ExchangeUpdate[]): void {
  const n = rec.exchanges?.count;
  if (n === undefined || n === rec.reportedExchanges) return;
  rec.reportedExchanges = n;
  out.push({ id: rec.id, exchanges: n });
}

/**
 * Counters from a destroy notification (the whole tcp_info) or eBPF (totals only), newer than the
 * last poll's: the traffic after the last poll counts too. Older ones (a stale message) are ignored.
 */
function finalCounters(rec: LiveRecord, ended: SocketEnded): void {
  const last = rec.connection.tcp;
  if (last === undefined) return; // a source without tcp internals: nothing to bring up to date
  const t: TcpInternals | undefined = ended.tcp ?? (ended.totals === undefined ? undefined : { ...last, ...ended.totals });
  if (t === undefined || (t.segmentsSent ?? 0) < (last.segmentsSent ?? 0) || (t.segmentsReceived ?? 0) < (last.segmentsReceived ?? 0)) return;
  if (rec.exchanges !== undefined) advanceExchangeState(rec.exchanges, t);
  rec.connection = { ...rec.connection, tcp: { ...last, ...t, cookie: last.cookie } };
}
