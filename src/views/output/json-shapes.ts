// The one serializer of the JSON contract shapes (sockwatch.snapshot/1, sockwatch.event/1).
// Every exporter, `snapshot --format json`, `--json` and `--record` goes through here so the
// shapes cannot drift apart. Key order follows the README.
import { TCP_STATES, type Connection, type ProcessInfo, type SnapshotSourceName, type SourceName, type StateFilter } from '../../model';
import type { Finding, LastingFinding, PollEvent, TrackedConnection, Tracker, TrackerEvent } from '../../core/tracker-types';
import type { LifecycleStatus } from '../../core/lifecycle-types';
import type { LagStats } from '../session-types';
import type { PeerStats } from '../../core/peer-stats';

/** summary.peers: the busiest this many, the rest as one `other` row */
export const SUMMARY_PEERS = 50;

export const SNAPSHOT_SCHEMA = 'sockwatch.snapshot/1';
export const EVENT_SCHEMA = 'sockwatch.event/1';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };
export type JsonObject = { [key: string]: Json | undefined };

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function stateNames(filter: StateFilter): string[] {
  return filter === 'all' ? [...TCP_STATES] : TCP_STATES.filter((s) => filter.has(s));
}

/** "all states" or "ESTABLISHED,CLOSE_WAIT", for headers of text output. */
export function stateFilterText(filter: StateFilter): string {
  return filter === 'all' ? 'all states' : stateNames(filter).join(',');
}

export function processJson(p: ProcessInfo): JsonObject {
  return { pid: p.pid, command: p.command, cmdline: p.cmdline, user: p.user, startTime: p.startTime ?? null };
}

export function connectionJson(c: Connection): JsonObject {
  const o: JsonObject = {};
  if (c.fd !== undefined) o.fd = c.fd;
  Object.assign(o, {
    protocol: c.protocol,
    local: { address: c.local.address, port: c.local.port },
    remote: { address: c.remote.address, port: c.remote.port },
    state: c.state,
    inode: c.inode,
  });
  if (c.sendQueue !== undefined) o.sendQueue = c.sendQueue;
  if (c.recvQueue !== undefined) o.recvQueue = c.recvQueue;
  if (c.timer) {
    const { kind, expiresMs, probes } = c.timer;
    o.timer = probes === undefined ? { kind, expiresMs } : { kind, expiresMs, probes };
  }
  if (c.retransmits !== undefined) o.retransmits = c.retransmits;
  if (c.uid !== undefined) o.uid = c.uid;
  if (c.pid !== undefined) o.pid = c.pid;
  if (c.pids !== undefined) o.pids = [...c.pids];
  if (c.direction !== undefined) o.direction = c.direction;
  if (c.tcp) o.tcp = { ...c.tcp };
  return o;
}

/** A tracked connection: the snapshot shape plus identity and age. */
export function trackedJson(t: TrackedConnection, extra?: JsonObject): JsonObject {
  const o = connectionJson(t.connection);
  o.id = t.id;
  o.firstSeen = isoTime(t.firstSeenMs);
  o.preexisting = t.preexisting;
  if (t.openExact === true) o.openTime = 'exact';
  if (t.exchanges !== undefined) o.exchanges = t.exchanges;
  return { ...o, ...extra };
}

export function findingsJson(findings: readonly Finding[]): JsonObject[] {
  return findings.map((f) => ({ ...(f as JsonObject) }));
}

/** A finding with `since` and `until` (ISO; until null while it still holds). */
export function lastingFindingJson(l: LastingFinding): JsonObject {
  const o: JsonObject = { ...(l.finding as JsonObject), since: isoTime(l.sinceMs), until: l.untilMs === null ? null : isoTime(l.untilMs) };
  if (l.cause !== undefined) o.cause = l.cause;
  return o;
}

export interface SnapshotDoc {
  timeMs: number;
  process: ProcessInfo;
  /** every process of a group, when there is more than one */
  processes?: readonly ProcessInfo[];
  source: SnapshotSourceName;
  states: StateFilter;
  connections: JsonObject[];
  findings?: readonly Finding[];
}

export function snapshotJson(doc: SnapshotDoc): JsonObject {
  const o: JsonObject = {
    schema: SNAPSHOT_SCHEMA,
    time: isoTime(doc.timeMs),
    process: processJson(doc.process),
    ...(doc.processes !== undefined ? { processes: doc.processes.map(processJson) } : {}),
    source: doc.source,
    states: stateNames(doc.states),
    connections: doc.connections,
  };
  if (doc.findings && doc.findings.length > 0) o.findings = findingsJson(doc.findings);
  return o;
}

/** Tracker event → sockwatch.event/1 object (without the schema key, see startEventJson). */
export function eventJson(pid: number, e: TrackerEvent): JsonObject {
  const base: JsonObject = { type: e.type, time: isoTime(e.atMs), pid };
  switch (e.type) {
    case 'open':
      return { ...base, connection: trackedJson(e.conn) };
    case 'close': {
      const o: JsonObject = { ...base, connection: trackedJson(e.conn, { lifetimeMs: e.lifetimeMs }), lifetimeMs: e.lifetimeMs, closeTime: e.closeTime };
      if (e.lifetimeBound !== undefined) o.lifetimeBound = e.lifetimeBound;
      if (e.brief === true) o.brief = true;
      if (e.cause !== undefined) o.cause = e.cause;
      if (e.finalState !== undefined) o.finalState = e.finalState;
      return o;
    }
    case 'state':
      return { ...base, connection: trackedJson(e.conn), from: e.from, to: e.to };
    case 'finding':
      return e.cause === undefined ? { ...base, change: e.change, finding: lastingFindingJson(e.finding) } : { ...base, change: e.change, cause: e.cause, finding: lastingFindingJson(e.finding) };
    case 'exit':
      return { ...base, reason: e.reason, process: processJson(e.process) };
    case 'poll':
      return pollJson(base, e);
  }
}

/** A poll event's fields (docs/output-contracts.md): only those it has. */
function pollJson(base: JsonObject, e: PollEvent): JsonObject {
  const o: JsonObject = { ...base };
  if (e.first === true) o.first = true;
  if (e.atExit === true) o.atExit = true;
  if (e.live !== undefined) o.live = e.live;
  if (e.listening !== undefined) o.listening = e.listening;
  if (e.exchanges !== undefined) {
    const ex: JsonObject = {};
    for (const u of e.exchanges) ex[u.id] = u.exchanges;
    o.exchanges = ex;
  }
  if (e.likelyBrief !== undefined) {
    o.likelyBrief = e.likelyBrief.map((b) => {
      const j: JsonObject = { time: isoTime(b.atMs), lifetimeMs: b.lifetimeMs, local: { address: b.local.address, port: b.local.port }, remote: { address: b.remote.address, port: b.remote.port } };
      if (b.exchanges !== undefined) j.exchanges = b.exchanges;
      if (b.closeWait === true) j.closeWait = true;
      return j;
    });
  }
  if (e.unattributed !== undefined) o.unattributed = [...e.unattributed];
  return o;
}

export function startEventJson(args: {
  timeMs: number;
  process: ProcessInfo;
  intervalMs: number;
  source: SourceName;
  states: StateFilter;
  /** the between-poll facility (absent: none) */
  briefConnections?: LifecycleStatus;
  /** every process watched, when there is more than one */
  processes?: readonly ProcessInfo[];
  /** advice for the person watching (e.g. add --children) */
  hint?: string;
}): JsonObject {
  const brief = args.briefConnections ?? { facility: 'none' as const, reason: 'the source has no between-poll evidence' };
  return {
    schema: EVENT_SCHEMA,
    type: 'start',
    time: isoTime(args.timeMs),
    pid: args.process.pid,
    process: processJson(args.process),
    ...(args.processes !== undefined ? { processes: args.processes.map(processJson) } : {}),
    intervalMs: args.intervalMs,
    source: args.source,
    states: stateNames(args.states),
    briefConnections: lifecycleStatusJson(brief),
    ...(args.hint !== undefined ? { hint: args.hint } : {}),
  };
}

/** The between-poll facility, why not a better one, and what it lost (counts only when not 0). */
export function lifecycleStatusJson(s: LifecycleStatus): JsonObject {
  const o: JsonObject = { facility: s.facility };
  if (s.reason !== undefined) o.reason = s.reason;
  for (const k of ['dropped', 'overruns', 'missed'] as const) {
    const n = s[k];
    if (n !== undefined && n > 0) o[k] = n;
  }
  return o;
}

/** The per-peer rows of `summary.peers` (see core/peer-stats.ts). */
export function peersJson(rows: readonly PeerStats[]): JsonObject[] {
  return rows.map((r) => ({
    peer: r.peer,
    direction: r.direction,
    live: r.live,
    opened: r.opened,
    closed: r.closed,
    opensPerMinute: Math.round(r.opensPerMinute * 100) / 100,
    lifetimeMs: r.lifetimeMs === null ? null : { p50: r.lifetimeMs.p50 },
    exchangesPerConnection: r.exchangesPerConnection === null ? null : Math.round(r.exchangesPerConnection * 100) / 100,
    findings: [...r.findings],
  }));
}

/** How the polls kept up with the interval. */
export type LagJson = LagStats;

/**
 * `shown`: which live connections to list (a recording lists those its lens has opened); the
 * counts and findings always cover everything.
 */
export function summaryJson(args: {
  pid: number;
  tracker: Tracker;
  nowMs: number;
  lag?: LagJson;
  shown?: (t: TrackedConnection) => boolean;
  /** the between-poll facility at the end, with what it lost (a live watch; a replay has none) */
  briefConnections?: LifecycleStatus;
}): JsonObject {
  const { tracker, nowMs } = args;
  const st = tracker.stats(nowMs);
  const o: JsonObject = {
    type: 'summary',
    time: isoTime(nowMs),
    pid: args.pid,
    opened: st.opened,
    closed: st.closed,
    closedPreexisting: st.closedPreexisting,
    brief: st.brief,
    likelyBrief: st.likelyBrief,
    peak: st.peak,
    listening: st.listening,
    lifetimeMs: st.lifetimeMs ? { p50: st.lifetimeMs.p50, p95: st.lifetimeMs.p95, max: st.lifetimeMs.max } : null,
    durationMs: st.durationMs,
    connections: tracker
      .live()
      .filter((t) => args.shown === undefined || args.shown(t))
      .map((t) => trackedJson(t, { lifetimeMs: nowMs - t.firstSeenMs })),
  };
  o.findings = tracker.findingHistory().map(lastingFindingJson);
  o.unattributedBrief = tracker.unattributedBrief().map((u) => ({ remote: u.remote, count: u.count }));
  o.peers = peersJson(tracker.peers(nowMs, SUMMARY_PEERS));
  if (args.lag !== undefined) {
    const { lagging: _now, ...lag } = args.lag;
    o.lag = lag;
  }
  if (args.briefConnections !== undefined) o.briefConnections = lifecycleStatusJson(args.briefConnections);
  return o;
}
