// Lifetime percentiles in constant memory.
//
// Why a log-bucketed histogram rather than the exact values of the last N closes: the percentiles
// then describe every close since the counters were reset, not a recent sample whose meaning
// drifts on long runs, and the memory stays a few kilobytes whatever the close rate. The price is a
// bounded relative error, which a lifetime measured with ±1 poll interval can well afford.
//
// Scheme (as in DDSketch): bucket i holds values in (γ^(i-1), γ^i] with γ = (1+α)/(1-α), and
// reports 2γ^i/(γ+1) for them, which is within a factor (1 ± α) of every value in the bucket.
// With α = 1% a lifetime of 100 days lands in bucket ~1140, so the bucket array cannot exceed
// ~1,200 numbers. Quantiles use the nearest-rank definition (the ceil(q·n)-th smallest value);
// the estimate is that value ±1%, clamped to the exact minimum and maximum, and `max` is exact.
// Values below 1 ms share one bucket reported as 0 (absolute error < 1 ms).

import type { LifetimeStats } from './tracker-types';

/** relative error of the reported percentiles */
export const LIFETIME_RELATIVE_ERROR = 0.01;

const GAMMA = (1 + LIFETIME_RELATIVE_ERROR) / (1 - LIFETIME_RELATIVE_ERROR);
const LOG_GAMMA = Math.log(GAMMA);

export class LifetimeHistogram {
  /** buckets[i] counts values in (γ^(i-1), γ^i]; bucket 0 holds values of exactly 1 ms */
  private buckets: number[] = [];
  private belowOneMs = 0;
  private n = 0;
  private minValue = Infinity;
  private maxValue = -Infinity;

  get count(): number {
    return this.n;
  }

  add(valueMs: number): void {
    if (!Number.isFinite(valueMs)) return;
    const v = Math.max(0, valueMs);
    this.n++;
    if (v < this.minValue) this.minValue = v;
    if (v > this.maxValue) this.maxValue = v;
    if (v < 1) {
      this.belowOneMs++;
      return;
    }
    const i = Math.max(0, Math.ceil(Math.log(v) / LOG_GAMMA));
    while (this.buckets.length <= i) this.buckets.push(0);
    this.buckets[i] = (this.buckets[i] ?? 0) + 1;
  }

  clear(): void {
    this.buckets = [];
    this.belowOneMs = 0;
    this.n = 0;
    this.minValue = Infinity;
    this.maxValue = -Infinity;
  }

  /** nearest-rank quantile, q in [0, 1]; NaN when empty */
  quantile(q: number): number {
    if (this.n === 0) return NaN;
    const rank = Math.min(this.n, Math.max(1, Math.ceil(q * this.n)));
    let seen = this.belowOneMs;
    let estimate = 0;
    if (seen < rank) {
      for (let i = 0; i < this.buckets.length; i++) {
        seen += this.buckets[i] ?? 0;
        if (seen >= rank) {
          estimate = (2 * Math.pow(GAMMA, i)) / (GAMMA + 1);
          break;
        }
      }
    }
    return Math.min(this.maxValue, Math.max(this.minValue, estimate));
  }

  get max(): number {
    return this.n === 0 ? NaN : this.maxValue;
  }

  summary(): LifetimeStats | null {
    if (this.n === 0) return null;
    return { p50: this.quantile(0.5), p95: this.quantile(0.95), max: this.maxValue };
  }
}
