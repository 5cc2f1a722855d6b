// One pass of the whole recording through the tracker: what the replay view jumps between, the
// time span of every finding, and the summary a fresh computation arrives at.
import { CHURN_WINDOW_MS, churnSampleOf } from '../core/findings';
import { peerKeyOf } from '../core/peer-stats';
import type { Finding, TrackerEvent } from '../core/tracker-types';
import { summaryJson, type JsonObject } from '../views/output/json-shapes';
import type { Recording } from './recording';
import { Replayer } from './replayer';

export const MARK_OPEN = 1;
export const MARK_CLOSE = 2;
export const MARK_FINDING = 4;

export interface FindingSpan {
  kind: string;
  /** the latest message while it held */
  message: string;
  sinceMs: number;
  /** undefined: still raised when the recording ends */
  untilMs?: number;
  /** the recording's ids of the connections it is about */
  ids: string[];
  /** churn: the peer group it names ("out|addr:port"), when it names one */
  peer?: string;
}

export interface ReplayAnalysis {
  /** per replay step: MARK_* bits */
  marks: Uint8Array;
  spans: FindingSpan[];
  /** summaryJson() of the replayed tracker at the recording's end (its ids are the recording's) */
  summary: JsonObject;
  endMs: number;
}

interface OpenSpan {
  span: FindingSpan;
  ids: Set<string>;
}

export function analyzeRecording(rec: Recording): ReplayAnalysis {
  const r = new Replayer(rec);
  const steps = r.steps;
  const marks = new Uint8Array(steps.length);
  const spans: FindingSpan[] = [];
  const open = new Map<string, OpenSpan>();
  const named = new Map<FindingSpan, Set<string>>();
  // the closes the churn rule sampled, for the connections a churn span is about
  const churnCloses: ChurnClose[] = [];
  const openedAt = new Map<string, number>();
  const closedIds = new Set<string>();

  // Findings cost a walk over the live connections: look at every step with events, and in quiet
  // stretches no more often than the span resolution (a thousandth of the recording, a poll at least).
  const resolutionMs = Math.max(rec.start.intervalMs, (r.plan.endMs - rec.start.atMs) / 1000);
  let lastLookMs = -Infinity;
  for (let i = 0; i < steps.length; i++) {
    const events = r.next();
    const t = r.nowMs;
    const last = i === steps.length - 1;
    let m = 0;
    for (const e of events) {
      if (e.type === 'open') {
        m |= MARK_OPEN;
        openedAt.set(e.conn.id, t);
      } else if (e.type === 'close') {
        m |= MARK_CLOSE;
        closedIds.add(e.conn.id);
        const sampled = churnClose(e);
        if (sampled !== undefined) churnCloses.push(sampled);
      }
    }
    if (!last && t - lastLookMs < resolutionMs) {
      marks[i] = m;
      continue;
    }
    lastLookMs = t;
    const findings = r.tracker.findings(t);
    const kinds = new Set<string>(findings.map((f) => f.kind));
    for (const f of findings) {
      let s = open.get(f.kind);
      if (!s) {
        s = { span: { kind: f.kind, message: f.message, sinceMs: t, ids: [] }, ids: new Set() };
        open.set(f.kind, s);
        spans.push(s.span);
        named.set(s.span, s.ids);
        m |= MARK_FINDING;
      }
      s.span.message = f.message;
      if (f.kind === 'churn' && typeof f.peer === 'string' && typeof f.direction === 'string') s.span.peer = `${f.direction}|${f.peer}`;
      for (const id of findingIds(f)) s.ids.add(id);
    }
    for (const [kind, s] of open) {
      if (kinds.has(kind)) continue;
      s.span.untilMs = t;
      open.delete(kind);
      m |= MARK_FINDING;
    }
    marks[i] = m;
  }
  for (const s of spans) s.ids = [...spanIds(s, named.get(s) ?? new Set(), churnCloses, openedAt, closedIds)];

  const summary = summaryJson({ pid: rec.start.pid, tracker: r.tracker, nowMs: r.plan.endMs });
  return { marks, spans, summary, endMs: r.plan.endMs };
}

/** a close the churn rule sampled, and its peer group */
interface ChurnClose {
  atMs: number;
  id: string;
  peer: string;
}

/** The close as the churn rule took it (findings.ts churnSampleOf), or undefined when it did not. */
function churnClose(e: TrackerEvent & { type: 'close' }): ChurnClose | undefined {
  const at = e.brief === true ? e.conn.firstSeenMs + e.lifetimeMs : e.atMs;
  const sample = churnSampleOf({ preexisting: e.conn.preexisting, withExit: e.cause === 'exit', state: e.conn.connection.state, atMs: at, lifetimeMs: e.lifetimeMs });
  return sample === undefined ? undefined : { atMs: sample.atMs, id: e.conn.id, peer: peerKeyOf(e.conn.connection) };
}

/** The connections a finding names itself (reuse: the best one; close_wait: the stuck ones). */
function findingIds(f: Finding): string[] {
  const ids: string[] = [];
  if (typeof f.id === 'string') ids.push(f.id);
  if (Array.isArray(f.ids)) for (const x of f.ids) if (typeof x === 'string') ids.push(x);
  return ids;
}

/**
 * churn names no connection: it is about the closes its rule sampled in its window while it held
 * (those of the peer it names, when it names one; no verdict of its own here); growth is about
 * those that opened while it held and were never released.
 */
function spanIds(
  s: FindingSpan,
  named: ReadonlySet<string>,
  churnCloses: readonly ChurnClose[],
  openedAt: ReadonlyMap<string, number>,
  closedIds: ReadonlySet<string>,
): Set<string> {
  const until = s.untilMs ?? Infinity;
  const ids = new Set<string>(named);
  if (s.kind === 'churn') {
    const peer = s.peer;
    for (const c of churnCloses) if (c.atMs > s.sinceMs - CHURN_WINDOW_MS && c.atMs <= until && (peer === undefined || c.peer === peer)) ids.add(c.id);
  } else if (s.kind === 'growth') {
    for (const [id, at] of openedAt) if (at <= until && !closedIds.has(id)) ids.add(id);
  }
  return ids;
}
