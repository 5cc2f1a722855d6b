// One pass of the whole recording through the tracker: what the replay view jumps between, the
// time span of every finding, and the summary a fresh computation arrives at.
import { CHURN_MAX_MEDIAN_LIFETIME_MS, CHURN_WINDOW_MS } from '../core/findings';
import type { Finding } from '../core/tracker-types';
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
}

export interface ReplayAnalysis {
  /** per replay step: MARK_* bits */
  marks: Uint8Array;
  spans: FindingSpan[];
  /** summaryJson() of the replayed tracker at the recording's end, ids as in the recording */
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
  // closes per step, for the connections a churn span is about
  const closedAt: { atMs: number; id: string; lifetimeMs: number }[] = [];
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
        openedAt.set(r.recordedId.get(e.conn.id) ?? e.conn.id, t);
      } else if (e.type === 'close') {
        m |= MARK_CLOSE;
        const id = r.recordedId.get(e.conn.id) ?? e.conn.id;
        closedIds.add(id);
        if (!e.conn.preexisting) closedAt.push({ atMs: t, id, lifetimeMs: e.lifetimeMs });
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
      for (const id of findingIds(f)) s.ids.add(r.recordedId.get(id) ?? id);
    }
    for (const [kind, s] of open) {
      if (kinds.has(kind)) continue;
      s.span.untilMs = t;
      open.delete(kind);
      m |= MARK_FINDING;
    }
    marks[i] = m;
  }
  for (const s of spans) s.ids = [...spanIds(s, named.get(s) ?? new Set(), closedAt, openedAt, closedIds)];

  const summary = summaryJson({ pid: rec.start.pid, tracker: r.tracker, nowMs: r.plan.endMs });
  return { marks, spans, summary: withRecordedIds(summary, r.recordedId), endMs: r.plan.endMs };
}

/** The connections a finding names itself (reuse: the best one; close_wait: the stuck ones). */
function findingIds(f: Finding): string[] {
  const ids: string[] = [];
  if (typeof f.id === 'string') ids.push(f.id);
  if (Array.isArray(f.ids)) for (const x of f.ids) if (typeof x === 'string') ids.push(x);
  return ids;
}

/**
 * churn names no connection: it is about the short ones that closed while it held; growth is about
 * those that opened while it held and were never released.
 */
function spanIds(
  s: FindingSpan,
  named: ReadonlySet<string>,
  closedAt: readonly { atMs: number; id: string; lifetimeMs: number }[],
  openedAt: ReadonlyMap<string, number>,
  closedIds: ReadonlySet<string>,
): Set<string> {
  const until = s.untilMs ?? Infinity;
  const ids = new Set<string>(named);
  if (s.kind === 'churn') {
    for (const c of closedAt) if (c.atMs > s.sinceMs - CHURN_WINDOW_MS && c.atMs <= until && c.lifetimeMs < CHURN_MAX_MEDIAN_LIFETIME_MS) ids.add(c.id);
  } else if (s.kind === 'growth') {
    for (const [id, at] of openedAt) if (at <= until && !closedIds.has(id)) ids.add(id);
  }
  return ids;
}

function withRecordedIds(summary: JsonObject, recordedId: ReadonlyMap<string, string>): JsonObject {
  const map = (id: unknown): unknown => (typeof id === 'string' ? (recordedId.get(id) ?? id) : id);
  const conns = Array.isArray(summary.connections) ? summary.connections : [];
  const findings = Array.isArray(summary.findings) ? summary.findings : [];
  return {
    ...summary,
    connections: conns.map((c) => (c && typeof c === 'object' && !Array.isArray(c) ? { ...c, id: map(c.id) as string } : c)),
    findings: findings.map((f) => {
      if (!f || typeof f !== 'object' || Array.isArray(f)) return f;
      const o = { ...f };
      if ('id' in o) o.id = map(o.id) as string;
      if (Array.isArray(o.ids)) o.ids = o.ids.map((x) => map(x) as string);
      return o;
    }),
  };
}
