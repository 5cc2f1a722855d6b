// A recording keeps a connection's bytes and exchange count only where an event names it (open,
// state change, close, the summary), not at every poll. The tracker counts exchanges from
// bytesSent at every poll, so replay has to feed it a bytesSent series between those observations
// that the tracker counts exactly as the recorded totals say, spread over the polls between them.
// That series is made up (the real bursts happened at unknown polls); the totals are not.
import { firstExchangeState, nextExchangeState, type ExchangeState } from '../core/exchanges';

export interface Observation {
  /** the replay step at which the recording saw the connection */
  step: number;
  exchanges: number;
  bytesSent: number;
}

export class SyntheticBytes {
  private state: ExchangeState;
  private next = 0;
  private sinceGrowth = 0;

  /** `observations` in step order; the first is the open */
  constructor(private readonly observations: readonly Observation[], bytesAtOpen: number) {
    this.state = firstExchangeState(bytesAtOpen);
  }

  get bytesSent(): number {
    return this.state.bytesSent;
  }

  /** bytesSent to show the tracker at replay step `step` (called once per step after the open) */
  advance(step: number): number {
    while (this.next < this.observations.length && this.observations[this.next]!.step < step) this.next++;
    const target = this.observations[this.next];
    const bytes = target === undefined ? this.state.bytesSent : this.choose(target, step);
    const grew = bytes > this.state.bytesSent;
    this.state = nextExchangeState(this.state, bytes);
    this.sinceGrowth = grew ? 0 : this.sinceGrowth + 1;
    return bytes;
  }

  private choose(target: Observation, step: number): number {
    const cur = this.state.bytesSent;
    const missing = target.exchanges - this.state.count;
    const pollsLeft = target.step - step + 1;
    if (missing > 0 && !this.state.sending) {
      // A burst needs a quiet poll before it, so k polls with no burst in progress hold at most
      // ceil(k/2) bursts: start one now when waiting would leave too few, else spread them evenly.
      const mustStart = missing > Math.ceil((pollsLeft - 1) / 2);
      const spacing = Math.max(2, Math.floor(pollsLeft / missing));
      if (mustStart || this.sinceGrowth + 1 >= spacing) {
        if (missing === 1) return Math.max(target.bytesSent, cur + 1);
        return cur + Math.max(1, Math.floor((target.bytesSent - cur) / missing));
      }
      return cur;
    }
    // Catch up with the recorded bytes only while a burst is in progress (it then counts no more).
    if (missing <= 0 && this.state.sending && target.bytesSent > cur) return target.bytesSent;
    return cur;
  }
}
