// Evidence from between two polls (lifecycle-types.ts), as the reconciler uses it: matched to the
// sockets the polls saw (an exact close time, final counters, an exact start), or settled as a
// connection no poll saw (brief) by the attribution rules of settle().
import type { Connection, Endpoint } from '../model';
import type { LikelyBrief, TrackedConnection, TrackerEvent } from './tracker-types';
import type { OwnershipHints, SocketEnded, SocketLifecycleEvent, SocketStarted } from './lifecycle-types';
import { firstExchangeState } from './exchanges';
import { formatEndpoint } from './endpoint';
import { RecentSockets, remoteKey, tupleKey, type ListenerIndex } from './lifecycle-match';
import type { LiveIndex } from './live-index';

/** how long a closed socket's cookie and tuple are remembered, so a late destroy notification is not a brief connection */
export const RECENTLY_CLOSED_MS = 120_000;
/** at most this many remembered */
export const RECENTLY_CLOSED_MAX = 20_000;
/** evidence that matches no socket yet (a `started` for a connection the next poll will see) waits this long */
export const PENDING_EVIDENCE_MS = 10_000;

/**
 * A brief connection's exchanges, from its end: the whole tcp_info (destroy notification) or the
 * totals (eBPF), its whole life as one long poll, as the estimator counts a connection first seen
 * with history. Undefined without data-segment counts.
 */
export function briefExchanges(e: SocketEnded): number | undefined {
  const t = e.totals;
  if (e.tcp !== undefined && (e.tcp.segmentsSent !== undefined || t === undefined)) return firstExchangeState(e.tcp).count;
  if (t === undefined) return undefined;
  return firstExchangeState({ bytesSent: t.bytesSent, segmentsSent: t.segmentsSent, segmentsReceived: t.segmentsReceived, retransmits: 0, lastSendMs: 0, lastReceiveMs: 0 }).count;
}

/** This poll's between-poll evidence, indexed for matching; each `ended` is used at most once. */
export class Evidence {
  readonly started: SocketStarted[] = [];
  private readonly ended: SocketEnded[] = [];
  private readonly used = new Set<SocketEnded>();
  private readonly byCookie = new Map<string, SocketEnded>();
  /** every end of each tuple: a client reusing its port gives one tuple several lives in one poll */
  private readonly byTuple = new Map<string, SocketEnded[]>();

  constructor(events: readonly SocketLifecycleEvent[], carried: readonly SocketEnded[], pids: ReadonlySet<number>) {
    for (const e of [...carried, ...events]) {
      if (e.kind === 'started') {
        // Only the target's own starts say anything about its connections' ages.
        if (e.pid !== undefined && (pids.has(e.pid) || e.member === true)) this.started.push(e);
        continue;
      }
      this.ended.push(e);
      if (e.cookie !== undefined) this.byCookie.set(e.cookie, e);
      const key = tupleKey(e.local, e.remote);
      const same = this.byTuple.get(key);
      if (same === undefined) this.byTuple.set(key, [e]);
      else same.push(e);
    }
  }

  /**
   * The end of this socket: by cookie when both sides have one, else by tuple — the earliest end
   * of that tuple, since a live socket the polls saw is the oldest life of its tuple here (the
   * later ones opened after it closed, between two polls).
   */
  takeEnded(cookie: string | undefined, tuple: string): SocketEnded | undefined {
    if (this.ended.length === 0) return undefined;
    let e = cookie === undefined ? undefined : this.byCookie.get(cookie);
    if (e !== undefined && this.used.has(e)) return undefined;
    if (e === undefined) {
      for (const t of this.byTuple.get(tuple) ?? []) {
        // a tuple match with another cookie is another socket that had the same endpoints
        if (this.used.has(t) || (cookie !== undefined && t.cookie !== undefined && t.cookie !== cookie)) continue;
        if (e === undefined || t.atMs < e.atMs) e = t;
      }
    }
    if (e === undefined) return undefined;
    this.used.add(e);
    return e;
  }

  get hasEnded(): boolean {
    return this.ended.length > 0;
  }

  unusedEnded(): SocketEnded[] {
    return this.ended.filter((e) => !this.used.has(e));
  }
}

/** What settle() made of the evidence no live socket took. */
export interface Settled {
  /** the target's brief connections: one `close` each, in time order */
  brief: TrackerEvent[];
  likely: LikelyBrief[];
  /** one remote endpoint per brief connection no rule attributed */
  unattributed: string[];
}

export interface SettleContext {
  live: LiveIndex;
  listeners: ListenerIndex;
  /** the processes whose evidence this is */
  pids: ReadonlySet<number>;
  /** PIDs that now belong to a process the watch refused (a reused PID): never the target's */
  refused: ReadonlySet<number>;
  previousMs: number;
  now: number;
  hints: OwnershipHints | undefined;
  /** the id of a new connection */
  nextId: () => string;
}

/** What the reconciler remembers between polls about evidence: what waits, what closed lately. */
export class BetweenPolls {
  private readonly recentlyClosed = new RecentSockets(RECENTLY_CLOSED_MS, RECENTLY_CLOSED_MAX);
  private pendingStarted = new Map<string, SocketStarted>();
  private pendingEnded: SocketEnded[] = [];

  /** This poll's evidence with what waited from the last (`drop`: only what waited, the new is about sockets before the watch). */
  take(lifecycle: readonly SocketLifecycleEvent[], pids: ReadonlySet<number>, drop = false): Evidence {
    const evidence = new Evidence(drop ? [] : lifecycle, this.pendingEnded, pids);
    this.pendingEnded = [];
    for (const s of evidence.started) this.pendingStarted.set(s.cookie ?? tupleKey(s.local, s.remote), s);
    return evidence;
  }

  /** some exact start waits for the poll that sees its socket */
  get startsWaiting(): boolean {
    return this.pendingStarted.size > 0;
  }

  /** the exact start of a socket a poll sees for the first time, if evidence gave one */
  takeStarted(cookie: string | undefined, tuple: string, now: number): SocketStarted | undefined {
    if (this.pendingStarted.size === 0) return undefined;
    for (const key of cookie === undefined ? [tuple] : [cookie, tuple]) {
      const s = this.pendingStarted.get(key);
      if (s === undefined) continue;
      this.pendingStarted.delete(key);
      if (s.atMs <= now) return s;
    }
    return undefined;
  }

  /** A socket the polls saw closed: a late end of it is not a brief connection. */
  closed(tuple: string, cookie: string | undefined, atMs: number): void {
    this.recentlyClosed.add(tuple, cookie, atMs);
  }

  clear(): void {
    this.pendingStarted.clear();
    this.pendingEnded = [];
    this.recentlyClosed.clear();
  }

  /**
   * Ends that matched no socket closing in this poll:
   * - the socket is still alive in this snapshot (its end raced the poll): kept for the next poll;
   * - a socket a poll already saw close (a late destroy notification): dropped;
   * - the target's, by PID (eBPF) or by an inbound connection to a port it listens on: a brief
   *   connection, one `close` event;
   * - another process's (another PID, or the peer end of the target's own connections): dropped;
   * - to an endpoint only the target talks to (OwnershipHints): likely the target's, counted apart;
   * - anything else: counted apart per remote endpoint, owner unknown.
   */
  settle(evidence: Evidence, x: SettleContext): Settled {
    const out: Settled = { brief: [], likely: [], unattributed: [] };
    const { now, listeners } = x;
    for (const e of evidence.unusedEnded()) {
      const tuple = tupleKey(e.local, e.remote);
      if (x.live.isLive(e.local, e.remote, e.cookie)) {
        if (e.atMs > now - PENDING_EVIDENCE_MS) this.pendingEnded.push(e);
        continue;
      }
      if (this.recentlyClosed.has(tuple, e.cookie, e.startedAtMs)) continue;
      if (e.state === 'LISTEN') continue;
      if (e.pid !== undefined) {
        if (x.pids.has(e.pid) || (e.member === true && !x.refused.has(e.pid))) out.brief.push(this.briefClose(e, tuple, x));
        continue;
      }
      if (listeners.accepts(e.local)) {
        out.brief.push(this.briefClose(e, tuple, x));
        continue;
      }
      // The other end of a connection the target accepted, or of one it made: the peer's socket.
      if (listeners.accepts(e.remote)) continue;
      if (x.live.hasTuple(e.remote, e.local) || this.recentlyClosed.hasTuple(tupleKey(e.remote, e.local))) continue;
      if (x.hints !== undefined && x.hints.likelyRemotes.has(remoteKey(e.remote))) {
        out.likely.push(this.likelyBrief(e, x.previousMs, now));
        continue;
      }
      out.unattributed.push(formatEndpoint(e.remote));
    }
    for (const [key, s] of this.pendingStarted) if (s.atMs <= now - PENDING_EVIDENCE_MS) this.pendingStarted.delete(key);
    this.recentlyClosed.expire(now);
    out.brief.sort((a, b) => a.atMs - b.atMs);
    return out;
  }

  /** A connection of the target that opened and closed between two polls. */
  private briefClose(e: SocketEnded, tuple: string, x: SettleContext): TrackerEvent {
    const { previousMs, now } = x;
    const started = e.startedAtMs ?? this.takeStarted(e.cookie, tuple, e.atMs)?.atMs;
    // Without its start, it began no earlier than the previous poll, which did not see it (one
    // exception: an inbound connection that waited in the accept queue across that poll).
    const endMs = Math.min(e.atMs, now);
    const startMs = started ?? Math.min(endMs, Number.isFinite(previousMs) ? previousMs : endMs);
    const lifetimeMs = Math.max(0, endMs - startMs);
    const state = e.state ?? 'CLOSE';
    const connection: Connection = { protocol: e.protocol, local: { ...e.local }, remote: { ...e.remote }, state, inode: 0 };
    if (e.tcp !== undefined) connection.tcp = { ...e.tcp };
    // the process that held it, where the evidence names it (eBPF), as a polled connection says
    if (e.pid !== undefined) connection.pid = e.pid;
    connection.direction = x.listeners.accepts(e.local) ? 'in' : 'out';
    const conn: TrackedConnection = {
      id: x.nextId(),
      key: `brief|${e.cookie ?? tuple}`,
      connection,
      firstSeenMs: startMs,
      lastSeenMs: endMs,
      preexisting: false,
      states: [{ state, atMs: endMs }],
    };
    if (started !== undefined) conn.openExact = true;
    const exchanges = briefExchanges(e);
    if (exchanges !== undefined) conn.exchanges = exchanges;
    this.recentlyClosed.add(tuple, e.cookie, endMs);
    // The event is placed no earlier than the previous poll, so a recording's times never go back.
    const atMs = Number.isFinite(previousMs) ? Math.max(endMs, previousMs) : endMs;
    const event: TrackerEvent = { type: 'close', atMs, conn, lifetimeMs, closeTime: 'exact', lifetimeBound: started === undefined ? 'upper' : 'exact', brief: true };
    if (e.state !== undefined) event.finalState = e.state;
    return event;
  }

  /**
   * A brief connection likely the target's (OwnershipHints): counted apart, never in opened, closed,
   * brief, the lifetimes or the peer rows' counts; it does enter the churn samples, marked, so a
   * finding that rests on it says so (likelyInWindow). No `close` event: those are proven ones only.
   */
  private likelyBrief(e: SocketEnded, previousMs: number, now: number): LikelyBrief {
    const endMs = Math.min(e.atMs, now);
    const startMs = e.startedAtMs ?? Math.min(endMs, Number.isFinite(previousMs) ? previousMs : endMs);
    this.recentlyClosed.add(tupleKey(e.local, e.remote), e.cookie, endMs);
    const b: LikelyBrief = { atMs: endMs, lifetimeMs: Math.max(0, endMs - startMs), local: endpointCopy(e.local), remote: endpointCopy(e.remote) };
    if (e.state === 'CLOSE_WAIT') b.closeWait = true;
    else {
      const exchanges = briefExchanges(e);
      if (exchanges !== undefined) b.exchanges = exchanges;
    }
    return b;
  }
}

function endpointCopy(e: Endpoint): Endpoint {
  return { address: e.address, port: e.port };
}
