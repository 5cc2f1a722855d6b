// Drives the real tracker (src/core) through a recording: at each replay step it rebuilds the
// snapshot the source would have returned — the connections the recording says were live then —
// and calls tracker.poll(snapshot, stepTime). Findings, statistics and ids therefore come from the
// same code as in a live watch, not from the file.
//
// Not replayed: connections the recording marks `brief` (shorter than one poll, seen only by their
// close): a snapshot cannot hold them. The tracker's between-poll evidence input is where they
// belong once it takes recorded ones.
import type { Connection, ProcessInfo, SourceName } from '../model';
import { createTracker } from '../core/tracker';
import { findingMessage } from '../views/output/finding-message';
import type { Tracker, TrackerEvent } from '../core/tracker-types';
import type { RecordedConnection, Recording } from './recording';
import { planSteps, type ReplayPlan, type ReplayStep } from './replay-plan';
import { SyntheticBytes, type Observation } from './synthetic-bytes';

interface LiveEntry {
  rc: RecordedConnection;
  bytes: SyntheticBytes | undefined;
  openedAtStep: number;
}

const KNOWN_SOURCES: readonly SourceName[] = ['procfs', 'netlink', 'systeminformation'];

export function sourceNameOf(rec: Recording): SourceName {
  return KNOWN_SOURCES.find((s) => s === rec.start.source) ?? 'procfs';
}

export class Replayer {
  readonly plan: ReplayPlan;
  private readonly observations = new Map<string, Observation[]>();
  private trackerNow!: Tracker;
  private live = new Map<string, LiveEntry>();
  /** connectionKey → the recording's id of the latest connection opened under it */
  private idByKey = new Map<string, string>();
  private process!: ProcessInfo;
  private processGeneration = 0;
  /** index of the last step applied; -1 before the first */
  private pos = -1;
  /** tracker id → the recording's id (they differ only when the recording holds what a poll cannot see) */
  readonly recordedId = new Map<string, string>();

  constructor(readonly recording: Recording) {
    this.plan = planSteps(recording);
    this.indexObservations();
    this.reset();
  }

  get tracker(): Tracker {
    return this.trackerNow;
  }

  get steps(): readonly ReplayStep[] {
    return this.plan.steps;
  }

  get position(): number {
    return this.pos;
  }

  get done(): boolean {
    return this.pos >= this.plan.steps.length - 1;
  }

  /** the time of the last step applied (the start before the first) */
  get nowMs(): number {
    return this.plan.steps[Math.max(0, this.pos)]!.atMs;
  }

  /** A fresh tracker, before the first step. */
  reset(): void {
    this.trackerNow = createTracker({ describeFinding: findingMessage });
    this.live = new Map();
    this.idByKey = new Map();
    this.process = { ...this.recording.start.process };
    this.processGeneration = 0;
    this.pos = -1;
    this.recordedId.clear();
  }

  /** Applies the next step; returns the tracker's events (empty at the end). */
  next(): TrackerEvent[] {
    if (this.done) return [];
    this.pos++;
    return this.apply(this.pos, this.plan.steps[this.pos]!);
  }

  /** Moves to step `index` (backwards means replaying from the start: the tracker only goes forward). */
  seek(index: number): TrackerEvent[] {
    const target = Math.max(-1, Math.min(index, this.plan.steps.length - 1));
    if (target < this.pos) this.reset();
    const events: TrackerEvent[] = [];
    while (this.pos < target) events.push(...this.next());
    return events;
  }

  private apply(index: number, step: ReplayStep): TrackerEvent[] {
    let exit: { reason: string } | undefined;
    for (const e of step.events) {
      switch (e.type) {
        case 'open': {
          const tcp = e.conn.connection.tcp;
          const obs = this.observations.get(e.conn.id) ?? [];
          this.live.delete(e.conn.id);
          this.idByKey.set(e.conn.key, e.conn.id);
          const entry: LiveEntry = { rc: e.conn, bytes: undefined, openedAtStep: index };
          if (tcp) entry.bytes = new SyntheticBytes(obs, { bytesSent: tcp.bytesSent, ...(e.conn.exchanges === undefined ? {} : { exchanges: e.conn.exchanges }) }, () => entry.rc.connection.tcp?.retransmits ?? 0);
          this.live.set(e.conn.id, entry);
          break;
        }
        case 'state': {
          const entry = this.live.get(e.conn.id);
          if (entry) entry.rc = e.conn;
          break;
        }
        case 'close':
          this.live.delete(e.conn.id);
          break;
        case 'exit':
          exit = e;
          break;
        case 'finding':
          break;
      }
    }
    let events: TrackerEvent[];
    if (exit !== undefined && exit.reason !== 'pid_reused') {
      events = this.trackerNow.processGone(step.atMs);
    } else {
      if (exit !== undefined) {
        // Another process took the PID; the recording does not name it, only that it differs.
        this.processGeneration++;
        this.process = { ...this.process, startTime: `${this.recording.start.process.startTime ?? ''}#${this.processGeneration}` };
      }
      const connections: Connection[] = [];
      for (const entry of this.live.values()) connections.push(this.connectionAt(entry, index));
      events = this.trackerNow.poll({ process: this.process, source: sourceNameOf(this.recording), connections }, step.atMs);
    }
    for (const e of events) {
      if (e.type !== 'open') continue;
      const id = this.idByKey.get(e.conn.key);
      if (id !== undefined) this.recordedId.set(e.conn.id, id);
    }
    return events;
  }


  private connectionAt(entry: LiveEntry, index: number): Connection {
    const c = entry.rc.connection;
    if (!entry.bytes || !c.tcp) return c;
    const counters = entry.openedAtStep === index ? entry.bytes.sample() : entry.bytes.advance(index);
    return { ...c, tcp: { ...c.tcp, ...counters } };
  }

  /** Where the recording saw each connection's exchange count: its events and the summary. */
  private indexObservations(): void {
    const steps = this.plan.steps;
    steps.forEach((step, i) => {
      for (const e of step.events) {
        if (e.type === 'open' || e.type === 'state' || e.type === 'close') this.observe(e.conn, i);
      }
    });
    const conns = this.recording.summary?.connections;
    if (Array.isArray(conns)) {
      // The summary lists the connections still live at the end, as of the last poll.
      const last = steps.length - 1;
      const byId = new Map<string, RecordedConnection>();
      for (const step of steps) for (const e of step.events) if (e.type === 'open') byId.set(e.conn.id, e.conn);
      for (const v of conns) {
        if (typeof v !== 'object' || v === null) continue;
        const o = v as Record<string, unknown>;
        const known = typeof o.id === 'string' ? byId.get(o.id) : undefined;
        const tcp = o.tcp as Record<string, unknown> | undefined;
        if (!known || typeof o.exchanges !== 'number' || typeof tcp?.bytesSent !== 'number') continue;
        this.pushObservation(known.id, { step: last, exchanges: o.exchanges, bytesSent: tcp.bytesSent });
      }
    }
  }

  private observe(rc: RecordedConnection, step: number): void {
    const bytesSent = rc.connection.tcp?.bytesSent;
    if (rc.exchanges === undefined || bytesSent === undefined) return;
    this.pushObservation(rc.id, { step, exchanges: rc.exchanges, bytesSent });
  }

  private pushObservation(id: string, o: Observation): void {
    const list = this.observations.get(id);
    if (list) list.push(o);
    else this.observations.set(id, [o]);
  }
}
