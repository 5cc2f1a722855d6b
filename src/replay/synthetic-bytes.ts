// A recording keeps a connection's bytes and exchange count only where an event names it (open,
// state change, close, the summary), not at every poll. The tracker counts exchanges from the
// data-segment counters at every poll (core/exchanges.ts: the smaller of the segments sent and
// received since the previous poll), so replay feeds it counters that grow by the same amount each
// way — exactly the recorded exchanges, spread evenly over the polls between two observations.
// When each exchange happened is made up; the totals are not. Bytes are interpolated alike.
import type { TcpInternals } from '../model';

export interface Observation {
  /** the replay step at which the recording saw the connection */
  step: number;
  exchanges: number;
  bytesSent: number;
}

export type SyntheticSample = Pick<TcpInternals, 'bytesSent' | 'segmentsSent' | 'segmentsReceived' | 'lastSendMs' | 'lastReceiveMs'>;

export class SyntheticBytes {
  private next = 0;
  private count: number;
  private bytes: number;

  /** `observations` in step order; `atOpen`: what the open event recorded */
  constructor(
    private readonly observations: readonly Observation[],
    atOpen: { bytesSent: number; exchanges?: number },
    /** the connection's own retransmits, which the estimator takes off the sent side */
    private readonly retransmits: () => number = () => 0,
  ) {
    this.count = Math.max(0, atOpen.exchanges ?? 0);
    this.bytes = atOpen.bytesSent;
  }

  get bytesSent(): number {
    return this.bytes;
  }

  /** The counters as the open showed them. */
  sample(): SyntheticSample {
    // Equal idle times: no segment is carried as unanswered to the next poll.
    return { bytesSent: this.bytes, segmentsSent: this.count + this.retransmits(), segmentsReceived: this.count, lastSendMs: 0, lastReceiveMs: 0 };
  }

  /** The counters to show the tracker at replay step `step` (called once per step after the open). */
  advance(step: number): SyntheticSample {
    while (this.next < this.observations.length && this.observations[this.next]!.step < step) this.next++;
    const target = this.observations[this.next];
    if (target !== undefined) {
      const pollsLeft = target.step - step + 1;
      const missing = target.exchanges - this.count;
      if (missing > 0) this.count += Math.ceil(missing / pollsLeft);
      const moreBytes = target.bytesSent - this.bytes;
      if (moreBytes > 0) this.bytes += pollsLeft <= 1 ? moreBytes : Math.floor(moreBytes / pollsLeft);
    }
    return this.sample();
  }
}
