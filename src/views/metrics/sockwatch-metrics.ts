// The Prometheus registry for one watched target, built with prom-client on a registry of its own
// (never the global one: two watches in one process, or a test, must not share series).
//
// Counters and histograms are driven by tracker events only, never by the tracker's counters (those
// restart with a new process and on the TUI's `r`), so within one sockwatch process they never go
// down. Gauges (live connections, findings, target and source info) are read from the session at
// scrape time, so a scrape costs the watch nothing between scrapes.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Finding, Tracker, TrackedConnection, TrackerEvent } from '../../core/tracker-types';
import type { LifecycleStatus } from '../../core/lifecycle-types';
import type { SourceName } from '../../model';
import { OTHER_PEER, PeerFolder } from './peer-folder';
import { KNOWN_FINDING_KINDS, LIVE_LABELS, liveLabels, peerOf } from './metric-labels';
import { FeedLoss } from './feed-loss';

/** 1 ms … 1 h: a churned connection lives milliseconds, a pooled one minutes. */
export const LIFETIME_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** 0 and 1 are "no reuse"; the reuse finding starts at 3. */
export const EXCHANGE_BUCKETS = [0, 1, 2, 3, 5, 10, 25, 100, 1000];
/** from a small target's poll to one holding tens of thousands of connections (docs/performance.md) */
export const POLL_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** What the metrics read at scrape time: a WatchSession fits. */
export interface MetricsSessionView {
  readonly tracker: Pick<Tracker, 'live' | 'findings' | 'process' | 'exited'>;
  readonly sourceName: SourceName;
  /** the facility for connections shorter than one poll, and what it lost (absent: none) */
  readonly briefConnections?: LifecycleStatus;
  now(): number;
}

export interface SockwatchMetricsOptions {
  /** the `target` label: the PID as given (the name, once targets can be named) */
  target: string;
  /** named per-peer series (0: none, the per-peer metrics are not registered) */
  peers?: number;
}

/** A close the source saw between two polls: it never had an `open` event of its own. */
function isBrief(e: TrackerEvent): boolean {
  return e.type === 'close' && e.brief === true;
}

export class SockwatchMetrics {
  readonly registry = new Registry();
  private view: MetricsSessionView | undefined;
  private readonly target: string;
  private readonly folder: PeerFolder | undefined;
  /** the peer label each live connection was counted under at open, so its close goes to the same series */
  private readonly peerById = new Map<string, string>();
  private readonly statesSeen = new Set<string>();
  private readonly findingKinds = new Set<string>(KNOWN_FINDING_KINDS);
  /** one copy of the live connections per scrape, shared by every gauge that needs them */
  private scrapeLive: readonly TrackedConnection[] | undefined;

  private readonly opened: Counter<'target'>;
  private readonly closed: Counter<'target'>;
  private readonly lifetime: Histogram<'target'>;
  private readonly exchanges: Histogram<'target'>;
  private readonly sentBytes: Counter<'target'>;
  private readonly receivedBytes: Counter<'target'>;
  private readonly pollDuration: Histogram<'target'>;
  private readonly pollErrors: Counter<'target'>;
  private readonly exits: Counter<'target'>;
  private readonly lifecycleDropped: Counter<'target'>;
  private readonly lifecycleOverruns: Counter<'target'>;
  private readonly lifecycleMissed: Counter<'target'>;
  private readonly droppedSeen = new FeedLoss();
  private readonly overrunsSeen = new FeedLoss();
  private readonly missedSeen = new FeedLoss();
  private readonly peerOpened: Counter<'target' | 'peer'> | undefined;
  private readonly peerClosed: Counter<'target' | 'peer'> | undefined;

  constructor(o: SockwatchMetricsOptions) {
    this.target = o.target;
    const registers = [this.registry];
    const t = { target: o.target };
    const counter = (name: string, help: string): Counter<'target'> => {
      const c = new Counter({ name, help, labelNames: ['target'], registers });
      c.inc(t, 0);
      return c;
    };
    const histogram = (name: string, help: string, buckets: number[]): Histogram<'target'> => {
      const h = new Histogram({ name, help, labelNames: ['target'], buckets, registers });
      h.zero(t);
      return h;
    };

    this.opened = counter('sockwatch_connections_opened_total', 'TCP connections the target opened or accepted while watched (connections already open when sockwatch started are not counted; brief ones seen only by their close are).');
    this.closed = counter('sockwatch_connections_closed_total', 'TCP connections of the target that closed while watched, brief ones and those closed by the target exiting included.');
    this.lifetime = histogram('sockwatch_connection_lifetime_seconds', 'Lifetime of closed connections, from first seen to closed (connections open when sockwatch started are left out: their age is unknown).', LIFETIME_BUCKETS_SECONDS);
    this.exchanges = histogram('sockwatch_connection_exchanges', 'Request/response exchanges a connection carried, observed at close (sources with TCP internals only; connections open when sockwatch started are left out).', EXCHANGE_BUCKETS);
    this.sentBytes = counter('sockwatch_sent_bytes_total', 'Bytes the target sent over connections that have closed, as last seen by a poll (sources with TCP internals only).');
    this.receivedBytes = counter('sockwatch_received_bytes_total', 'Bytes the target received over connections that have closed, as last seen by a poll (sources with TCP internals only).');
    this.pollDuration = histogram('sockwatch_poll_duration_seconds', "Time one poll of the target's sockets took.", POLL_BUCKETS_SECONDS);
    this.pollErrors = counter('sockwatch_poll_errors_total', 'Polls that failed for another reason than the target being gone.');
    this.exits = counter('sockwatch_target_exits_total', 'Times the watched process exited (or its PID was taken by a new process).');
    this.lifecycleDropped = counter('sockwatch_lifecycle_events_dropped_total', "Between-poll events (destroy notifications or eBPF) lost because sockwatch's buffer was full: brief connections missing from the counts.");
    this.lifecycleOverruns = counter('sockwatch_lifecycle_overruns_total', 'Reports that between-poll events were lost before sockwatch read them (the kernel could not queue destroy notifications: an unknown number each): brief connections missing from the counts.');
    this.lifecycleMissed = counter('sockwatch_lifecycle_events_missed_total', "Socket state changes the kernel did not run sockwatch's eBPF program for (it was busy with another BPF program on that CPU): brief connections possibly missing from the counts.");

    new Gauge({
      name: 'sockwatch_connections',
      help: "The target's live TCP connections by state.",
      labelNames: ['target', ...LIVE_LABELS],
      registers,
      collect: () => this.collectLive(),
    });
    new Gauge({
      name: 'sockwatch_finding',
      help: 'Findings about the connections: 1 while raised, 0 otherwise (reuse: keep-alive works; churn, close_wait, growth: problems).',
      labelNames: ['target', 'kind'],
      registers,
      collect: () => this.collectFindings(),
    });
    new Gauge({
      name: 'sockwatch_source_info',
      help: 'The source sockwatch reads the sockets with (procfs, netlink or systeminformation); always 1.',
      labelNames: ['target', 'source'],
      registers,
      collect: () => this.collectSource(),
    });
    new Gauge({
      name: 'sockwatch_target_info',
      help: 'The watched process (the latest one, also once it has exited); always 1. A restart shows as a new pid/start_time.',
      labelNames: ['target', 'pid', 'command', 'start_time'],
      registers,
      collect: () => this.collectTarget(),
    });
    new Gauge({
      name: 'sockwatch_target_up',
      help: 'Whether the watched process is running (1) or has exited (0).',
      labelNames: ['target'],
      registers,
      collect: () => this.collectUp(),
    });
    new Gauge({
      name: 'sockwatch_target_start_time_seconds',
      help: 'Start time of the watched process, in seconds since the Unix epoch.',
      labelNames: ['target'],
      registers,
      collect: () => this.collectStartTime(),
    });

    const peers = o.peers ?? 0;
    if (peers > 0) {
      this.folder = new PeerFolder(peers);
      const peerLabels = ['target', 'peer'] as const;
      const how = `the first ${peers} peers to carry a few connections get their own series for the life of sockwatch, the rest count as peer="${OTHER_PEER}"`;
      this.peerOpened = new Counter({ name: 'sockwatch_peer_connections_opened_total', help: `Connections opened, per peer (remote endpoint; ${how}).`, labelNames: peerLabels, registers });
      this.peerClosed = new Counter({ name: 'sockwatch_peer_connections_closed_total', help: `Connections closed, per peer (remote endpoint; ${how}).`, labelNames: peerLabels, registers });
      this.peerOpened.inc({ target: o.target, peer: OTHER_PEER }, 0);
      this.peerClosed.inc({ target: o.target, peer: OTHER_PEER }, 0);
      new Gauge({
        name: 'sockwatch_peer_connections',
        help: `Live connections, per peer (remote endpoint; ${how}).`,
        labelNames: peerLabels,
        registers,
        collect: () => this.collectPeerLive(),
      });
    }
  }

  /** Follow a session: its events drive the counters, its state is read at scrape time. Returns the unsubscribe. */
  attach(session: MetricsSessionView & { onUpdate(l: (events: readonly TrackerEvent[]) => void): () => void }): () => void {
    this.view = session;
    return session.onUpdate((events) => this.record(events));
  }

  /** The session whose state the gauges show (attach() sets it). */
  setView(view: MetricsSessionView): void {
    this.view = view;
  }

  record(events: readonly TrackerEvent[]): void {
    const t = { target: this.target };
    for (const e of events) {
      // listening sockets are tracked but are not connections: no opens, closes or lifetimes
      if ((e.type === 'open' || e.type === 'close') && e.conn.connection.state === 'LISTEN') continue;
      switch (e.type) {
        case 'open':
          this.statesSeen.add(e.conn.connection.state);
          this.countPeer(e.conn, !e.conn.preexisting);
          if (!e.conn.preexisting) this.opened.inc(t);
          break;
        case 'close': {
          const brief = isBrief(e);
          if (brief) {
            this.opened.inc(t);
            this.countPeer(e.conn, true);
          }
          this.closed.inc(t);
          const peer = this.peerById.get(e.conn.id);
          this.peerById.delete(e.conn.id);
          if (this.peerClosed !== undefined && this.folder !== undefined) {
            this.peerClosed.inc({ ...t, peer: peer ?? this.folder.labelOf(peerOf(e.conn.connection)) });
          }
          if (!e.conn.preexisting) {
            this.lifetime.observe(t, e.lifetimeMs / 1000);
            if (e.conn.exchanges !== undefined) this.exchanges.observe(t, e.conn.exchanges);
          }
          const tcp = e.conn.connection.tcp;
          if (tcp !== undefined) {
            this.sentBytes.inc(t, tcp.bytesSent);
            this.receivedBytes.inc(t, tcp.bytesReceived);
          }
          break;
        }
        case 'state':
          this.statesSeen.add(e.to);
          break;
        case 'exit':
          this.exits.inc(t);
          break;
      }
    }
  }

  /** One poll of the source took `seconds`; `failed` when it failed for another reason than the target being gone. */
  observePoll(seconds: number, failed = false): void {
    const t = { target: this.target };
    this.pollDuration.observe(t, seconds);
    if (failed) this.pollErrors.inc(t);
  }

  /** The text a scrape returns, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    // listening sockets are tracked but are not connections
    this.scrapeLive = this.view?.tracker.live().filter((c) => c.connection.state !== 'LISTEN');
    this.countLifecycleLoss();
    try {
      return { contentType: this.registry.contentType, body: await this.registry.metrics() };
    } finally {
      this.scrapeLive = undefined;
    }
  }

  /** The facility's loss counts are read at scrape time, like the gauges (see FeedLoss). */
  private countLifecycleLoss(): void {
    const s = this.view?.briefConnections;
    if (s === undefined) return;
    const t = { target: this.target };
    this.lifecycleDropped.inc(t, this.droppedSeen.delta(s.facility, s.dropped));
    this.lifecycleOverruns.inc(t, this.overrunsSeen.delta(s.facility, s.overruns));
    this.lifecycleMissed.inc(t, this.missedSeen.delta(s.facility, s.missed));
  }

  /** A connection is assigned its peer series once, when first seen; `opened`: count it as opened there. */
  private countPeer(conn: TrackedConnection, opened: boolean): void {
    if (this.folder === undefined || this.peerOpened === undefined) return;
    const peer = this.folder.count(peerOf(conn.connection));
    this.peerById.set(conn.id, peer);
    if (opened) this.peerOpened.inc({ target: this.target, peer });
  }

  private live(): readonly TrackedConnection[] {
    return this.scrapeLive ?? this.view?.tracker.live().filter((c) => c.connection.state !== 'LISTEN') ?? [];
  }

  private gauge(name: string): Gauge<string> {
    return this.registry.getSingleMetric(name) as Gauge<string>; // registered in the constructor under this name
  }

  private collectLive(): void {
    const g = this.gauge('sockwatch_connections');
    g.reset();
    const counts = new Map<string, { labels: Record<string, string>; n: number }>();
    for (const state of this.statesSeen) counts.set(state, { labels: { state }, n: 0 });
    for (const c of this.live()) {
      const labels = liveLabels(c.connection);
      const key = LIVE_LABELS.map((l) => labels[l]).join('\0');
      const entry = counts.get(key) ?? { labels, n: 0 };
      entry.n++;
      counts.set(key, entry);
    }
    for (const { labels, n } of counts.values()) g.set({ target: this.target, ...labels }, n);
  }

  private collectPeerLive(): void {
    const g = this.gauge('sockwatch_peer_connections');
    g.reset();
    if (this.folder === undefined) return;
    const counts = new Map<string, number>(this.folder.labels().map((p) => [p, 0]));
    for (const c of this.live()) {
      const peer = this.peerById.get(c.id) ?? this.folder.labelOf(peerOf(c.connection));
      counts.set(peer, (counts.get(peer) ?? 0) + 1);
    }
    for (const [peer, n] of counts) g.set({ target: this.target, peer }, n);
  }

  private collectFindings(): void {
    const g = this.gauge('sockwatch_finding');
    g.reset();
    const raised: Finding[] = this.view === undefined || this.view.tracker.process === undefined ? [] : this.view.tracker.findings(this.view.now());
    for (const f of raised) this.findingKinds.add(f.kind);
    const on = new Set(raised.map((f) => f.kind as string));
    for (const kind of this.findingKinds) g.set({ target: this.target, kind }, on.has(kind) ? 1 : 0);
  }

  private collectSource(): void {
    const g = this.gauge('sockwatch_source_info');
    g.reset();
    if (this.view !== undefined) g.set({ target: this.target, source: this.view.sourceName }, 1);
  }

  private collectTarget(): void {
    const g = this.gauge('sockwatch_target_info');
    g.reset();
    const p = this.view?.tracker.process;
    if (p !== undefined) g.set({ target: this.target, pid: String(p.pid), command: p.command, start_time: p.startTime ?? '' }, 1);
  }

  private collectUp(): void {
    const g = this.gauge('sockwatch_target_up');
    g.reset();
    const tr = this.view?.tracker;
    if (tr !== undefined && tr.process !== undefined) g.set({ target: this.target }, tr.exited ? 0 : 1);
  }

  private collectStartTime(): void {
    const g = this.gauge('sockwatch_target_start_time_seconds');
    g.reset();
    const start = this.view?.tracker.process?.startTime;
    const ms = start === undefined ? NaN : Date.parse(start);
    if (Number.isFinite(ms)) g.set({ target: this.target }, ms / 1000);
  }
}
