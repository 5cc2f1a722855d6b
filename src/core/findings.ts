// Verdicts drawn from what the tracker saw. Each threshold is a named constant with the reason for
// its value; docs/findings.md lists them, and test/unit/docs-findings.test.ts keeps the two in step.
// The numbers only: the sentences are built in views (src/views/output/finding-message.ts).
import type { Connection } from '../model';
import type { FindingFacts, FindingSubject, LiveCountSample } from './tracker-types';
import { RATE_WINDOW_MS } from './rate';

/**
 * reuse: a connection that carried at least this many request/response exchanges is being reused.
 * Two could be a request and a late retry; three is a pattern.
 */
export const REUSE_MIN_EXCHANGES = 3;

/** churn: closes are looked at over this window of poll time (the same minute as the rates). */
export const CHURN_WINDOW_MS = RATE_WINDOW_MS;
/** churn: at least this many connections (opened while watched) closed within the window. */
export const CHURN_MIN_CLOSES = 5;
/**
 * churn: and their median lifetime is below this. A pooled keep-alive connection idles for
 * seconds between uses (Node's default keep-alive timeout is 5 s), so one that lived less has
 * hardly been reused.
 */
export const CHURN_MAX_MEDIAN_LIFETIME_MS = 5_000;
/**
 * churn: and, when the source gives exchanges, the median closed connection carried at most this
 * many — about one request each. Without exchanges the lifetime criterion decides alone.
 */
export const CHURN_MAX_MEDIAN_EXCHANGES = 1.5;
/** churn: the most recent closes kept for the medians (bounded memory at any close rate). */
export const CHURN_SAMPLE_LIMIT = 1_000;

/**
 * close_wait: a live connection in CLOSE_WAIT at least this long is reported. The peer has closed;
 * a process that handles it closes its end within milliseconds, so seconds mean it never will.
 */
export const CLOSE_WAIT_MIN_MS = 2_000;

/**
 * growth: judged over the whole history ring (600 polls by default: 1 min at 100 ms, 10 min at
 * 1 s), which must hold at least this many samples…
 */
export const GROWTH_MIN_SAMPLES = 10;
/** growth: …spanning at least this long, */
export const GROWTH_MIN_SPAN_MS = 5_000;
/** growth: the live count rose by at least this much from the first sample to the last, */
export const GROWTH_MIN_INCREASE = 5;
/**
 * growth: and a least-squares line through (time, count) has a positive slope and explains at least
 * this share of the variance (R²). A steady leak, even a staircase or a noisy one, fits a line
 * well; a pool that warmed up in a burst and then stayed flat does not, and neither does churn.
 */
export const GROWTH_MIN_FIT = 0.8;

/**
 * churn: and the closes in the window are at least this many times the most of those connections
 * that were alive at once: they were replaced over and over. A pool of eight busy keep-alive
 * connections closing together at the end of a run is eight closes of eight overlapping
 * lifetimes: no churn, even where exchanges are unknown.
 */
export const CHURN_MIN_TURNOVER = 2;

/** close_wait: at most this many connection ids listed in the finding (the count is exact). */
export const CLOSE_WAIT_MAX_IDS = 20;

/** a connection that closed, as the churn finding needs it */
export interface ClosedSample {
  atMs: number;
  lifetimeMs: number;
  exchanges?: number;
  /** known only from between-poll evidence */
  brief?: boolean;
  /** its peer group (peer-stats.ts peerKeyOf: "out|addr:port", "in|addr:port") */
  peer?: string;
  /** a brief connection only likely the target's: its owner could not be proven */
  likely?: boolean;
}

/** a connection that carried REUSE_MIN_EXCHANGES or more, live or closed */
export interface ReuseCandidate {
  id: string;
  connection: Connection;
  exchanges: number;
  firstSeenMs: number;
  /** when it closed; undefined while live (its lifetime then runs to nowMs) */
  closedAtMs?: number;
  /** the lifetime is a lower bound */
  preexisting: boolean;
  /** its peer group (peer-stats.ts peerKeyOf) */
  peer?: string;
}

/** a live connection in CLOSE_WAIT, and since when */
export interface CloseWaitCandidate {
  id: string;
  sinceMs: number;
}

export interface FindingsInput {
  nowMs: number;
  /** live connections in CLOSE_WAIT (listening sockets never are) */
  closeWait: readonly CloseWaitCandidate[];
  history: readonly LiveCountSample[];
  /**
   * recent closes that tell about keep-alive: connections opened while watched, brief ones
   * included; not those the exit closed, nor those that ended in CLOSE_WAIT (a leak's). Oldest first.
   */
  recentCloses: readonly ClosedSample[];
  /** the same closes, counted within the churn window */
  closesInWindow: number;
  closesPerMinute: number;
  /** the live and the closed connection with the most exchanges, if they reached REUSE_MIN_EXCHANGES */
  bestLive: ReuseCandidate | undefined;
  bestClosed: ReuseCandidate | undefined;
  /** connections (live + closed) that reached REUSE_MIN_EXCHANGES */
  reused: number;
}

/** A finding drawn, and what it is about (for its words). */
export interface DrawnFinding {
  facts: FindingFacts;
  subject?: FindingSubject;
}

/** Problems first: close_wait, growth, churn, then reuse. */
export function computeFindings(input: FindingsInput): DrawnFinding[] {
  const out: DrawnFinding[] = [];
  for (const f of [closeWaitFinding(input), growthFinding(input), churnFinding(input)]) {
    if (f !== undefined) out.push({ facts: f });
  }
  const reuse = reuseFinding(input);
  if (reuse !== undefined) out.push(reuse);
  return out;
}

// The predicates of the rules, shared by the watch's findings and the per-peer rows
// (peer-stats.ts): a peer's verdict and the watch's come from the same tests over the same samples.

/** reuse: a connection that carried this many exchanges is being reused */
export function carriesReuse(exchanges: number | undefined): boolean {
  return exchanges !== undefined && exchanges >= REUSE_MIN_EXCHANGES;
}

/** close_wait: a connection in CLOSE_WAIT since `sinceMs` is stuck there */
export function stuckInCloseWait(sinceMs: number, nowMs: number): boolean {
  return nowMs - sinceMs >= CLOSE_WAIT_MIN_MS;
}

/**
 * A close as the churn rule samples it, or undefined when it tells nothing about keep-alive: a
 * preexisting connection (its lifetime is unknown), one its process's exit closed (a process
 * exiting with ten connections is not ten connections churned), one that ended in CLOSE_WAIT (a
 * leak's). The one predicate for the watch's finding, the peer rows and what a replay names.
 */
export function churnSampleOf(c: { preexisting: boolean; withExit: boolean; state: string; atMs: number; lifetimeMs: number; exchanges?: number | undefined }): ClosedSample | undefined {
  if (c.preexisting || c.withExit || c.state === 'CLOSE_WAIT') return undefined;
  const s: ClosedSample = { atMs: c.atMs, lifetimeMs: c.lifetimeMs };
  if (c.exchanges !== undefined) s.exchanges = c.exchanges;
  return s;
}

/** The closes the churn rule looks at: those within the window ending at nowMs. */
export function closesInChurnWindow(closes: readonly ClosedSample[], nowMs: number): ClosedSample[] {
  return closes.filter((c) => c.atMs > nowMs - CHURN_WINDOW_MS && c.atMs <= nowMs);
}

/** What the churn rule found in a set of closes. */
export interface ChurnVerdict {
  closes: number;
  medianLifetimeMs: number;
  medianExchanges?: number;
  maxConcurrent: number;
  brief: number;
  /** of them, likely the target's but not proven */
  likely: number;
}

/** The churn rule over closes within the window (the watch's, or one peer's): undefined when it does not hold. */
export function churnVerdict(recent: readonly ClosedSample[]): ChurnVerdict | undefined {
  if (recent.length < CHURN_MIN_CLOSES) return undefined;
  const medianLifetimeMs = median(recent.map((c) => c.lifetimeMs));
  if (medianLifetimeMs >= CHURN_MAX_MEDIAN_LIFETIME_MS) return undefined;
  const exchanges = recent.flatMap((c) => (c.exchanges === undefined ? [] : [c.exchanges]));
  const medianExchanges = exchanges.length > 0 ? median(exchanges) : undefined;
  if (medianExchanges !== undefined && medianExchanges > CHURN_MAX_MEDIAN_EXCHANGES) return undefined;
  const maxConcurrent = maxOverlap(recent);
  if (recent.length < CHURN_MIN_TURNOVER * maxConcurrent) return undefined;
  const brief = recent.filter((c) => c.brief === true).length;
  const likely = recent.filter((c) => c.likely === true).length;
  const v: ChurnVerdict = { closes: recent.length, medianLifetimeMs, maxConcurrent, brief, likely };
  if (medianExchanges !== undefined) v.medianExchanges = medianExchanges;
  return v;
}

/** The peers (ClosedSample.peer) whose own closes in the window make churn, most closes first. */
export function churningPeers(recent: readonly ClosedSample[]): { peer: string; verdict: ChurnVerdict }[] {
  const byPeer = new Map<string, ClosedSample[]>();
  for (const c of recent) {
    if (c.peer === undefined) continue;
    const list = byPeer.get(c.peer);
    if (list) list.push(c);
    else byPeer.set(c.peer, [c]);
  }
  const out: { peer: string; verdict: ChurnVerdict }[] = [];
  for (const [peer, closes] of byPeer) {
    const verdict = churnVerdict(closes);
    if (verdict !== undefined) out.push({ peer, verdict });
  }
  return out.sort((a, b) => b.verdict.closes - a.verdict.closes || (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0));
}

/** "out|10.0.0.2:80" → the finding's `peer` and `direction` fields */
function peerFields(key: string): { peer: string; direction: string } {
  const bar = key.indexOf('|');
  return { peer: key.slice(bar + 1), direction: key.slice(0, bar) };
}

export function reuseFinding(input: FindingsInput): DrawnFinding | undefined {
  const a = input.bestLive;
  const b = input.bestClosed;
  const best = a === undefined ? b : b === undefined || a.exchanges >= b.exchanges ? a : b;
  if (best === undefined) return undefined;
  const lifetimeMs = (best.closedAtMs ?? input.nowMs) - best.firstSeenMs;
  const facts: FindingFacts = {
    kind: 'reuse',
    basis: 'exchanges',
    id: best.id,
    exchanges: best.exchanges,
    lifetimeMs,
    reusedConnections: input.reused,
  };
  if (best.peer !== undefined) Object.assign(facts, peerFields(best.peer));
  return { facts, subject: { connection: best.connection, preexisting: best.preexisting } };
}

/**
 * churn holds over every close of the window (brief ones included) or over one peer's alone, so
 * a busy keep-alive peer closing in the same window cannot hide a connection-per-request loop to
 * another. It names the churning peer with the most closes; its numbers are the whole window's
 * when the rule holds there, else that peer's.
 */
export function churnFinding(input: FindingsInput): FindingFacts | undefined {
  const recent = closesInChurnWindow(input.recentCloses, input.nowMs);
  const all = input.closesInWindow < CHURN_MIN_CLOSES ? undefined : churnVerdict(recent);
  const top = churningPeers(recent)[0];
  if (all === undefined && top === undefined) return undefined;
  const v = all ?? top!.verdict;
  const basis = v.brief === 0 ? 'polled' : v.brief === v.closes ? 'brief' : 'polled+brief';
  const closesInWindow = all !== undefined ? input.closesInWindow : v.closes;
  const finding: FindingFacts = {
    kind: 'churn',
    basis,
    // a peer's share of the watch's rate
    perMinute: all !== undefined || recent.length === 0 ? input.closesPerMinute : (input.closesPerMinute * v.closes) / recent.length,
    closesInWindow,
    briefInWindow: v.brief,
    maxConcurrent: v.maxConcurrent,
    medianLifetimeMs: v.medianLifetimeMs,
  };
  if (v.medianExchanges !== undefined) finding['medianExchanges'] = v.medianExchanges;
  // it rests on connections whose owner is not proven: it says so
  if (v.likely > 0) finding['likelyInWindow'] = v.likely;
  if (top !== undefined) Object.assign(finding, peerFields(top.peer));
  return finding;
}

export function closeWaitFinding(input: FindingsInput): FindingFacts | undefined {
  const stuck: { id: string; forMs: number }[] = [];
  for (const c of input.closeWait) {
    if (stuckInCloseWait(c.sinceMs, input.nowMs)) stuck.push({ id: c.id, forMs: input.nowMs - c.sinceMs });
  }
  if (stuck.length === 0) return undefined;
  let longestMs = 0;
  for (const s of stuck) if (s.forMs > longestMs) longestMs = s.forMs;
  return {
    kind: 'close_wait',
    basis: 'live',
    count: stuck.length,
    longestMs,
    ids: stuck.slice(0, CLOSE_WAIT_MAX_IDS).map((s) => s.id),
  };
}

export function growthFinding(input: FindingsInput): FindingFacts | undefined {
  const h = input.history;
  if (h.length < GROWTH_MIN_SAMPLES) return undefined;
  const first = h[0];
  const last = h[h.length - 1];
  if (first === undefined || last === undefined) return undefined;
  const spanMs = last.atMs - first.atMs;
  if (spanMs < GROWTH_MIN_SPAN_MS) return undefined;
  if (last.count - first.count < GROWTH_MIN_INCREASE) return undefined;
  const fit = linearFit(h.map((s) => s.atMs - first.atMs), h.map((s) => s.count));
  if (fit === undefined || fit.slope <= 0 || fit.r2 < GROWTH_MIN_FIT) return undefined;
  return {
    kind: 'growth',
    basis: 'history',
    from: first.count,
    to: last.count,
    spanMs,
    perMinute: fit.slope * 60_000,
  };
}

/** The most of these connections alive at one instant (each lived [atMs - lifetimeMs, atMs]). */
export function maxOverlap(closes: readonly ClosedSample[]): number {
  // +1 at each start, -1 at each end; at a tie the end comes first (one replacing another is not two at once)
  const edges: [number, number][] = [];
  for (const c of closes) edges.push([c.atMs - c.lifetimeMs, 1], [c.atMs, -1]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of edges) {
    now += d;
    if (now > max) max = now;
  }
  return max;
}

/** middle value (mean of the two middle ones for an even count); NaN when empty */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** least squares y = a + slope·x; undefined when x or y does not vary (no line to speak of) */
export function linearFit(xs: readonly number[], ys: readonly number[]): { slope: number; r2: number } | undefined {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return undefined;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i];
    sy += ys[i];
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i] - mx;
    const dy = ys[i] - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  if (sxx === 0 || syy === 0) return undefined;
  return { slope: sxy / sxx, r2: (sxy * sxy) / (sxx * syy) };
}
