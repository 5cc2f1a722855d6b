// The counters behind TrackerStats. The tracker keeps two sets fed alike: one for the whole watch
// (what `summary` reports) and one from the display baseline the TUI's `r` moves.
import { LifetimeHistogram } from './lifetime-histogram';
import { WindowCounter } from './rate';

export class CounterSet {
  sinceMs = 0;
  peak = 0;
  opened = 0;
  closed = 0;
  closedPreexisting = 0;
  brief = 0;
  /** brief connections likely the target's, owner not proven (tracker.ts settleEvidence); never in the counts above */
  likelyBrief = 0;
  readonly lifetimes = new LifetimeHistogram();
  readonly recentOpens = new WindowCounter();

  reset(nowMs: number, live: number): void {
    this.sinceMs = nowMs;
    this.peak = live;
    this.opened = 0;
    this.closed = 0;
    this.closedPreexisting = 0;
    this.brief = 0;
    this.likelyBrief = 0;
    this.lifetimes.clear();
    this.recentOpens.clear();
  }

  opens(atMs: number, n: number): void {
    this.opened += n;
    this.recentOpens.add(atMs, n);
  }

  /** `lifetimeMs` undefined: not a known lifetime (preexisting) */
  closes(preexisting: boolean, lifetimeMs: number | undefined): void {
    this.closed++;
    if (preexisting) this.closedPreexisting++;
    if (lifetimeMs !== undefined) this.lifetimes.add(lifetimeMs);
  }

  live(count: number): void {
    if (count > this.peak) this.peak = count;
  }
}
