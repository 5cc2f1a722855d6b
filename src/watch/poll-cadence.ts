// How well the polls keep up with the interval asked for. The poll loop schedules each poll one
// interval after the previous one began; a poll that takes longer than that delays the next, and
// the watch falls behind. This measures the real gaps between poll starts and says when it does.
import { LifetimeHistogram } from '../core/lifetime-histogram';
import { RingBuffer } from '../core/ring-buffer';
import type { LagStats } from '../views/session-types';

/** A poll is late when it starts more than this many intervals after the previous one. */
export const LATE_FACTOR = 1.25;
/** Lagging: the median of the last this-many gaps is late. One slow poll (a GC pause) is not lagging. */
export const LAG_WINDOW = 10;
/** …and at least this many gaps have been seen. */
export const LAG_MIN_GAPS = 5;


export class PollCadence {
  private polls = 0;
  private late = 0;
  private lastStartMs: number | undefined;
  private readonly gaps = new LifetimeHistogram();
  private readonly recent = new RingBuffer<number>(LAG_WINDOW);
  private lagging = false;
  private everLagged = false;

  constructor(readonly intervalMs: number) {}

  /** Returns true the first time the watch starts lagging (to say so once). */
  pollStarted(atMs: number): boolean {
    this.polls++;
    const last = this.lastStartMs;
    this.lastStartMs = atMs;
    if (last === undefined) return false;
    const gap = Math.max(0, atMs - last);
    this.gaps.add(gap);
    this.recent.push(gap);
    if (gap > this.intervalMs * LATE_FACTOR) this.late++;
    const recent = this.recent.toArray().sort((a, b) => a - b);
    const median = recent[recent.length >> 1] ?? 0;
    this.lagging = recent.length >= LAG_MIN_GAPS && median > this.intervalMs * LATE_FACTOR;
    if (this.lagging && !this.everLagged) {
      this.everLagged = true;
      return true;
    }
    return false;
  }

  stats(): LagStats {
    const has = this.gaps.count > 0;
    const round = (v: number): number => Math.round(v * 10) / 10;
    return {
      intervalMs: this.intervalMs,
      polls: this.polls,
      late: this.late,
      medianGapMs: has ? round(this.gaps.quantile(0.5)) : null,
      p95GapMs: has ? round(this.gaps.quantile(0.95)) : null,
      maxGapMs: has ? round(this.gaps.max) : null,
      lagging: this.lagging,
    };
  }
}
