// The between-poll facility's loss counts (LifecycleStatus.dropped, .overruns, .missed) start
// again at 0 whenever sockwatch opens a new feed (a netlink → procfs fallback reopens the source
// and its feed). A Prometheus counter must never go down, so
// the metric adds up what each feed lost. What an old feed lost after the last scrape before the
// switch is not seen (its counts go with it): the total can only under-count.
import type { LifecycleFacility } from '../../core/lifecycle-types';

export class FeedLoss {
  private facility: LifecycleFacility | undefined;
  private last = 0;

  /** The current feed's count (since it opened); returns how much the counter grows. */
  delta(facility: LifecycleFacility, count: number | undefined): number {
    const n = count !== undefined && Number.isFinite(count) && count > 0 ? count : 0;
    const newFeed = facility !== this.facility || n < this.last;
    const grew = newFeed ? n : n - this.last;
    this.facility = facility;
    this.last = n;
    return grew;
  }
}
