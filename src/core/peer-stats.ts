// Connections grouped by peer: one group per remote endpoint for outbound connections, one per
// local (listening) endpoint for inbound ones. Answers "is my pool to service X reused?" without
// reading the connection list. Pure and bounded: at most MAX_PEERS groups are counted apart, the
// rest together as `other`; each group keeps a bounded sample of lifetimes and open times.
import type { Connection } from '../model';
import { formatEndpoint } from './endpoint';
import { RATE_WINDOW_MS, perMinute } from './rate';
import { carriesReuse, median, stuckInCloseWait } from './findings';
import type { PeerDirection, PeerStats } from './tracker-types';

/** groups counted apart; beyond, one `other` group */
export const MAX_PEERS = 1_000;
/** recent lifetimes kept per group, for its median */
export const PEER_LIFETIME_SAMPLES = 256;

export type { PeerDirection, PeerStats } from './tracker-types';

/** A live connection as the peer rows need it (the watch state's LiveFact, or a TrackedConnection's parts). */
export interface PeerLive {
  connection: Pick<Connection, 'local' | 'remote' | 'direction' | 'state'>;
  exchanges?: number | undefined;
  preexisting: boolean;
  /** since when it is in its current state */
  stateSinceMs: number;
}

export function peerDirection(c: Pick<Connection, 'direction'>): PeerDirection {
  return c.direction ?? 'out';
}

export function peerKeyOf(c: Pick<Connection, 'local' | 'remote' | 'direction'>): string {
  return c.direction === 'in' ? `in|${formatEndpoint(c.local)}` : `out|${formatEndpoint(c.remote)}`;
}

interface Group {
  peer: string;
  direction: PeerDirection;
  opened: number;
  closed: number;
  /** open times within the rate window, oldest first */
  opens: number[];
  /** recent closes of connections opened while watched: lifetime and when (for the median lifetime) */
  closes: { atMs: number; lifetimeMs: number }[];
  exchangesSum: number;
  exchangesCount: number;
  /** the most exchanges a closed connection of the group carried (preexisting ones included) */
  maxExchanges: number;
  /** closed connections that were preexisting (for the busiest-first order) */
  closedPre: number;
}

export class PeerBook {
  private readonly groups = new Map<string, Group>();

  clear(): void {
    this.groups.clear();
  }

  opened(c: Pick<Connection, 'local' | 'remote' | 'direction'>, atMs: number): void {
    const g = this.group(c);
    g.opened++;
    g.opens.push(atMs);
    trimBefore(g.opens, atMs - RATE_WINDOW_MS);
  }

  /** `lifetimeMs` undefined: not a known lifetime (preexisting) */
  closed(c: Pick<Connection, 'local' | 'remote' | 'direction'>, atMs: number, lifetimeMs: number | undefined, exchanges: number | undefined): void {
    const g = this.group(c);
    g.closed++;
    if (exchanges !== undefined) {
      g.exchangesSum += exchanges;
      g.exchangesCount++;
      if (exchanges > g.maxExchanges) g.maxExchanges = exchanges;
    }
    if (lifetimeMs === undefined) {
      g.closedPre++;
      return;
    }
    g.closes.push({ atMs, lifetimeMs });
    if (g.closes.length > PEER_LIFETIME_SAMPLES) g.closes.splice(0, g.closes.length - PEER_LIFETIME_SAMPLES);
  }

  /**
   * Every group with the live connections (listeners left out) folded in, busiest first (most
   * connections seen: opened + preexisting, then most live), at most `limit` rows plus an `other` row.
   * `sinceMs`: when the counting started (for rates over less than a minute). `churning`: the
   * group keys (keyOf) whose closes make churn by the watch's rule (findings.ts churningPeers).
   */
  rows(live: readonly PeerLive[], nowMs: number, sinceMs: number, limit = 50, churning: ReadonlySet<string> = new Set()): PeerStats[] {
    const liveBy = new Map<string, PeerLive[]>();
    for (const t of live) {
      if (t.connection.state === 'LISTEN') continue;
      const key = this.keyOf(t.connection);
      const list = liveBy.get(key);
      if (list) list.push(t);
      else liveBy.set(key, [t]);
    }
    const keys = new Set([...this.groups.keys(), ...liveBy.keys()]);
    const rows: PeerStats[] = [];
    // busiest: the most connections seen (opened while watched, plus preexisting ones)
    const seen = new Map<PeerStats, number>();
    for (const key of keys) {
      const g = this.groups.get(key) ?? newGroup(key);
      const liveHere = liveBy.get(key) ?? [];
      const row = statsOf(g, liveHere, nowMs, sinceMs, churning.has(key));
      seen.set(row, g.opened + g.closedPre + liveHere.filter((t) => t.preexisting).length);
      rows.push(row);
    }
    const weight = (r: PeerStats): number => seen.get(r) ?? 0;
    rows.sort((a, b) => weight(b) - weight(a) || b.live - a.live || (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0) || (a.direction < b.direction ? -1 : 1));
    if (rows.length <= limit) return rows;
    const kept = rows.slice(0, limit);
    kept.push(fold(rows.slice(limit)));
    return kept;
  }

  /** whether a group of this key (peerKeyOf) has been counted */
  knows(key: string): boolean {
    return this.groups.has(key);
  }

  /** the group of a connection: peerKeyOf, or its direction's `other` once MAX_PEERS are counted apart */
  keyOf(c: Pick<Connection, 'local' | 'remote' | 'direction'>): string {
    const key = peerKeyOf(c);
    return this.groups.has(key) || this.groups.size < MAX_PEERS ? key : `${peerDirection(c)}|other`;
  }

  private group(c: Pick<Connection, 'local' | 'remote' | 'direction'>): Group {
    const key = this.keyOf(c);
    let g = this.groups.get(key);
    if (g === undefined) {
      g = newGroup(key);
      this.groups.set(key, g);
    }
    return g;
  }
}

function newGroup(key: string): Group {
  const bar = key.indexOf('|');
  return { peer: key.slice(bar + 1), direction: key.slice(0, bar) === 'in' ? 'in' : 'out', opened: 0, closed: 0, opens: [], closes: [], exchangesSum: 0, exchangesCount: 0, maxExchanges: 0, closedPre: 0 };
}

function trimBefore(times: number[], cutoff: number): void {
  let i = 0;
  while (i < times.length && times[i]! <= cutoff) i++;
  if (i > 0) times.splice(0, i);
}

function statsOf(g: Group, live: readonly PeerLive[], nowMs: number, sinceMs: number, churning: boolean): PeerStats {
  let exSum = g.exchangesSum;
  let exCount = g.exchangesCount;
  let maxExchanges = g.maxExchanges;
  let stuckCloseWait = false;
  for (const t of live) {
    if (t.exchanges !== undefined) {
      exSum += t.exchanges;
      exCount++;
      maxExchanges = Math.max(maxExchanges, t.exchanges);
    }
    if (t.connection.state === 'CLOSE_WAIT' && stuckInCloseWait(t.stateSinceMs, nowMs)) stuckCloseWait = true;
  }
  const recentOpens = g.opens.filter((t) => t > nowMs - RATE_WINDOW_MS && t <= nowMs).length;
  const lifetimes = g.closes.map((c) => c.lifetimeMs);
  const findings: PeerStats['findings'] = [];
  if (carriesReuse(maxExchanges)) findings.push('reuse');
  if (churning) findings.push('churn');
  if (stuckCloseWait) findings.push('close_wait');
  return {
    peer: g.peer,
    direction: g.direction,
    live: live.length,
    opened: g.opened,
    closed: g.closed,
    opensPerMinute: perMinute(recentOpens, nowMs - sinceMs),
    lifetimeMs: lifetimes.length > 0 ? { p50: median(lifetimes) } : null,
    exchangesPerConnection: exCount > 0 ? exSum / exCount : null,
    findings,
  };
}

/** The rows beyond the limit, summed into one `other` row (medians cannot be summed: left null). */
function fold(rest: readonly PeerStats[]): PeerStats {
  const dirs = new Set(rest.map((r) => r.direction));
  return {
    peer: 'other',
    direction: dirs.size === 1 ? rest[0]!.direction : 'out',
    live: rest.reduce((s, r) => s + r.live, 0),
    opened: rest.reduce((s, r) => s + r.opened, 0),
    closed: rest.reduce((s, r) => s + r.closed, 0),
    opensPerMinute: rest.reduce((s, r) => s + r.opensPerMinute, 0),
    lifetimeMs: null,
    exchangesPerConnection: null,
    findings: [],
  };
}
