// What the HTML report shows, computed from a recording and its replay analysis: one record per
// connection (open/close, final state, exchanges, bytes), grouped by peer and packed into lanes.
import { formatEndpoint } from '../core/endpoint';
import type { Connection, ProcessInfo } from '../model';
import type { FindingSpan, ReplayAnalysis } from '../replay/replay-analysis';
import type { RecordedConnection, Recording } from '../replay/recording';

export interface ReportConnection {
  id: string;
  connection: Connection;
  pid?: number;
  direction?: string;
  openMs: number;
  /** undefined: still open when the recording ends */
  closeMs?: number;
  preexisting: boolean;
  /** shorter than a poll: seen only by its close */
  brief: boolean;
  exchanges?: number;
  /** times at which the recording saw the exchange count rise */
  exchangeMarksMs: number[];
  /** the group it is drawn in */
  peer: string;
  lane: number;
}

export interface PeerGroup {
  peer: string;
  lanes: number;
  connections: ReportConnection[];
}

export interface ReportData {
  process: ProcessInfo;
  source: string;
  intervalMs: number;
  states: string[];
  startMs: number;
  endMs: number;
  version: string;
  groups: PeerGroup[];
  connectionCount: number;
  findings: FindingSpan[];
  /** (time, live count) at every change, oldest first */
  liveSeries: [number, number][];
  /** skipped lines of the recording */
  warnings: string[];
  /** differences between the recorded summary and the replayed one */
  summaryDifferences: string[];
}

/** "127.0.0.1:8080", or "listening :8080" for inbound connections once the recording says so */
export function peerOf(rc: RecordedConnection): string {
  if (rc.direction === 'inbound') return `listening :${rc.connection.local.port}`;
  return formatEndpoint(rc.connection.remote);
}

export function buildReportData(
  rec: Recording,
  analysis: ReplayAnalysis,
  extra: { version: string; summaryDifferences?: string[] },
): ReportData {
  const byId = new Map<string, ReportConnection>();
  const order: ReportConnection[] = [];
  const live: [number, number][] = [];
  let count = 0;
  const observe = (c: ReportConnection, rc: RecordedConnection, atMs: number): void => {
    c.connection = rc.connection;
    if (rc.exchanges !== undefined) {
      if (c.exchanges !== undefined && rc.exchanges > c.exchanges) c.exchangeMarksMs.push(atMs);
      c.exchanges = rc.exchanges;
    }
  };
  const create = (rc: RecordedConnection, openMs: number, brief: boolean): ReportConnection => {
    const c: ReportConnection = {
      id: rc.id,
      connection: rc.connection,
      openMs,
      preexisting: rc.preexisting,
      brief,
      exchangeMarksMs: [],
      peer: peerOf(rc),
      lane: 0,
    };
    if (rc.exchanges !== undefined) c.exchanges = rc.exchanges;
    if (rc.pid !== undefined) c.pid = rc.pid;
    if (rc.direction !== undefined) c.direction = rc.direction;
    byId.set(rc.id, c);
    order.push(c);
    return c;
  };

  for (const e of rec.events) {
    switch (e.type) {
      case 'open':
        if (!byId.has(e.conn.id)) {
          create(e.conn, e.conn.preexisting ? e.atMs : Math.min(e.atMs, e.conn.firstSeenMs), false);
          live.push([e.atMs, ++count]);
        }
        break;
      case 'state': {
        const c = byId.get(e.conn.id);
        if (c) observe(c, e.conn, e.atMs);
        break;
      }
      case 'close': {
        let c = byId.get(e.conn.id);
        if (!c) c = create(e.conn, e.atMs - Math.max(0, e.lifetimeMs), true);
        else if (c.closeMs === undefined) live.push([e.atMs, (count = Math.max(0, count - 1))]);
        observe(c, e.conn, e.atMs);
        c.closeMs = e.atMs;
        break;
      }
      default:
        break;
    }
  }
  // The summary holds the last word on connections still live: their final state and counters.
  const conns = rec.summary?.connections;
  if (Array.isArray(conns)) {
    for (const v of conns) {
      const o = v as Record<string, unknown>;
      const c = typeof o?.id === 'string' ? byId.get(o.id) : undefined;
      if (!c || c.closeMs !== undefined) continue;
      if (typeof o.state === 'string') c.connection = { ...c.connection, state: o.state as Connection['state'] };
      const tcp = o.tcp as Record<string, unknown> | undefined;
      if (c.connection.tcp && typeof tcp?.bytesSent === 'number' && typeof tcp.bytesReceived === 'number') {
        c.connection = { ...c.connection, tcp: { ...c.connection.tcp, bytesSent: tcp.bytesSent, bytesReceived: tcp.bytesReceived } };
      }
      if (typeof o.exchanges === 'number') {
        if (c.exchanges !== undefined && o.exchanges > c.exchanges) c.exchangeMarksMs.push(analysis.endMs);
        c.exchanges = o.exchanges;
      }
    }
  }

  return {
    process: rec.start.process,
    source: String(rec.start.source),
    intervalMs: rec.start.intervalMs,
    states: rec.start.states,
    startMs: rec.start.atMs,
    endMs: Math.max(analysis.endMs, rec.start.atMs),
    version: extra.version,
    groups: packGroups(order),
    connectionCount: order.length,
    findings: analysis.spans,
    liveSeries: live,
    warnings: rec.warnings,
    summaryDifferences: extra.summaryDifferences ?? [],
  };
}

/**
 * Per peer, connections that do not overlap in time share a lane: a reused connection is one long
 * bar, churn a comb of short ones in one lane, a leak a staircase of lanes. Lanes are reused in
 * order of their end (earliest free first), O(n log n) for 10,000 connections.
 */
function packGroups(conns: readonly ReportConnection[]): PeerGroup[] {
  const groups = new Map<string, ReportConnection[]>();
  for (const c of conns) {
    const g = groups.get(c.peer);
    if (g) g.push(c);
    else groups.set(c.peer, [c]);
  }
  const out: PeerGroup[] = [];
  for (const [peer, list] of groups) {
    list.sort((a, b) => a.openMs - b.openMs);
    const heap = new MinHeap();
    let lanes = 0;
    for (const c of list) {
      const free = heap.peek();
      const end = c.closeMs ?? Infinity;
      if (free !== undefined && free.end < c.openMs) {
        heap.pop();
        c.lane = free.lane;
      } else {
        c.lane = lanes++;
      }
      heap.push({ end, lane: c.lane });
    }
    out.push({ peer, lanes, connections: list });
  }
  // Busiest peers first.
  return out.sort((a, b) => b.connections.length - a.connections.length || (a.peer < b.peer ? -1 : 1));
}

interface LaneEnd {
  end: number;
  lane: number;
}

class MinHeap {
  private a: LaneEnd[] = [];
  peek(): LaneEnd | undefined {
    return this.a[0];
  }
  private less(i: number, j: number): boolean {
    const x = this.a[i]!;
    const y = this.a[j]!;
    return x.end < y.end || (x.end === y.end && x.lane < y.lane);
  }
  private swap(i: number, j: number): void {
    const t = this.a[i]!;
    this.a[i] = this.a[j]!;
    this.a[j] = t;
  }
  push(v: LaneEnd): void {
    this.a.push(v);
    let i = this.a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): LaneEnd | undefined {
    const top = this.a[0];
    const last = this.a.pop();
    if (this.a.length > 0 && last !== undefined) {
      this.a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.a.length && this.less(l, m)) m = l;
        if (r < this.a.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}
