// A poll's events handed out batch by batch (Tracker.pollBatches): the open events, one per
// connection at a first poll of a big target, are built as they are taken.
import type { LiveRecord } from './live-record';
import type { TrackerEvent, TrackerEventBatches } from './tracker-types';

/** A poll's events: those before the opens, the records opened (open events at atMs), those after. */
export interface PollEvents {
  head: TrackerEvent[];
  opened: LiveRecord[];
  atMs: number;
  tail: TrackerEvent[];
}

export class PollBatches implements TrackerEventBatches {
  private events: PollEvents | undefined;
  private headGiven = false;
  private nextOpen = 0;

  constructor(
    events: PollEvents,
    /** false once a later poll has changed the records */
    private readonly current: () => boolean,
  ) {
    this.events = events;
  }

  next(maxOpens: number): TrackerEvent[] | undefined {
    const o = this.events;
    if (o === undefined) return undefined;
    // an open event shows its record as the poll left it: a later poll has changed it since
    if (!this.current()) throw new Error('tracker events taken after a later poll');
    const out: TrackerEvent[] = [];
    if (!this.headGiven) {
      append(out, o.head);
      this.headGiven = true;
    }
    const end = Math.min(o.opened.length, this.nextOpen + Math.max(1, maxOpens));
    for (; this.nextOpen < end; this.nextOpen++) out.push({ type: 'open', atMs: o.atMs, conn: o.opened[this.nextOpen]!.snapshot(true) });
    if (this.nextOpen >= o.opened.length) {
      append(out, o.tail);
      this.events = undefined;
    }
    return out;
  }
}

/** appended one by one: a spread passes every element as an argument (a first poll has one per connection) */
export function append<T>(dst: T[], src: readonly T[]): void {
  for (let i = 0; i < src.length; i++) dst.push(src[i]!);
}
