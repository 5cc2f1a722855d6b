// Findings that last: the tracker evaluates its findings after every poll, and this log turns that
// series into episodes with a start and an end, so a verdict outlives its evidence (a leak watched
// until the target exits is still a leak in the summary).
import type { EndCause, Finding, FindingChange, FindingKind, LastingFinding } from './tracker-types';

/**
 * Episodes kept. A finding that keeps clearing and coming back (churn near its threshold) would
 * otherwise grow the list without bound; past this many, a returning kind reopens its latest
 * episode instead of starting a new one.
 */
export const FINDING_HISTORY_MAX = 64;

/**
 * A holding finding is `updated` when its basis changes, or when its headline number has doubled
 * or halved since it was last written: a leak growing from 1 to 30 connections gives a handful of
 * events, not one per poll.
 */
export const FINDING_UPDATE_FACTOR = 2;

/** The number that says how strong a finding is, per kind. */
export function findingMagnitude(f: Finding): number {
  const n = (key: string): number => {
    const v = f[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : 0;
  };
  switch (f.kind) {
    case 'close_wait':
      return n('count');
    case 'churn':
      return n('perMinute');
    case 'reuse':
      return n('reusedConnections');
    case 'growth':
      return n('to') - n('from');
  }
}

export interface FindingEvent {
  change: FindingChange;
  finding: LastingFinding;
}

interface Open {
  entry: LastingFinding;
  writtenBasis: string;
  writtenMagnitude: number;
}

export class FindingLog {
  private readonly entries: LastingFinding[] = [];
  private readonly open = new Map<FindingKind, Open>();

  /**
   * The findings that hold at atMs (all of them: a kind missing here has cleared). `cause`: why
   * this evaluation was made (`exit`: as the target left), given to the episodes it ends.
   */
  update(findings: readonly Finding[], atMs: number, cause?: EndCause): FindingEvent[] {
    const out: FindingEvent[] = [];
    const holding = new Set<FindingKind>();
    for (const f of findings) {
      holding.add(f.kind);
      const o = this.open.get(f.kind);
      if (o !== undefined) {
        o.entry.finding = f;
        const m = findingMagnitude(f);
        const moved = m >= o.writtenMagnitude * FINDING_UPDATE_FACTOR || m * FINDING_UPDATE_FACTOR <= o.writtenMagnitude;
        if (f.basis !== o.writtenBasis || (moved && m !== o.writtenMagnitude)) {
          o.writtenBasis = f.basis;
          o.writtenMagnitude = m;
          out.push({ change: 'updated', finding: copy(o.entry) });
        }
        continue;
      }
      let entry: LastingFinding | undefined;
      if (this.entries.length >= FINDING_HISTORY_MAX) {
        for (let i = this.entries.length - 1; i >= 0 && entry === undefined; i--) if (this.entries[i]?.finding.kind === f.kind) entry = this.entries[i];
      }
      if (entry === undefined) {
        entry = { finding: f, sinceMs: atMs, untilMs: null };
        this.entries.push(entry);
      } else {
        entry.finding = f;
        entry.untilMs = null;
        delete entry.cause;
      }
      this.open.set(f.kind, { entry, writtenBasis: f.basis, writtenMagnitude: findingMagnitude(f) });
      out.push({ change: 'raised', finding: copy(entry) });
    }
    for (const [kind, o] of this.open) {
      if (holding.has(kind)) continue;
      o.entry.untilMs = atMs;
      if (cause !== undefined) o.entry.cause = cause;
      this.open.delete(kind);
      out.push({ change: 'cleared', finding: copy(o.entry) });
    }
    return out;
  }

  /** every episode, oldest first (copies) */
  all(): LastingFinding[] {
    return this.entries.map(copy);
  }
}

function copy(e: LastingFinding): LastingFinding {
  const c: LastingFinding = { finding: { ...e.finding }, sinceMs: e.sinceMs, untilMs: e.untilMs };
  if (e.cause !== undefined) c.cause = e.cause;
  return c;
}
