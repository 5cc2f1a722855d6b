// A source of between-poll evidence (destroy notifications, eBPF), kept apart from the poll
// source it is paired with: the same feed serves the netlink and procfs sources, and survives a
// netlink → procfs fallback.
import type { LifecycleStatus, SocketLifecycleEvent } from '../../core/lifecycle-types';
import type { Snapshot, SourceName, StateFilter } from '../../model';
import type { Source } from '../source';

export interface LifecycleFeed {
  /** events since the last call, oldest first */
  drain(): SocketLifecycleEvent[];
  readonly status: LifecycleStatus;
  /** when the feed started to see events (session ms), where it knows exactly (eBPF: the attach) */
  readonly sinceMs?: number;
  /** resolves, with why, if the feed stops by itself (bpftrace exited); never on close() */
  readonly stopped?: Promise<string>;
  /** see Source.lifecycleCaughtUp; absent where events are never late (destroy notifications) */
  caughtUp?(atMs: number): Promise<void>;
  close(): void;
}

/** A feed that has nothing, and says why. */
export function noFeed(reason: string): LifecycleFeed {
  return { drain: () => [], status: { facility: 'none', reason }, close: () => undefined };
}

/** `source` with drainLifecycle/lifecycleStatus from `feed`; closing it closes both. */
export function withLifecycle(source: Source, feed: LifecycleFeed): Source {
  return {
    get name(): SourceName {
      return source.name;
    },
    snapshot: (states: StateFilter): Promise<Snapshot> => source.snapshot(states),
    drainLifecycle: () => feed.drain(),
    lifecycleCaughtUp: (atMs: number) => feed.caughtUp?.(atMs) ?? Promise.resolve(),
    get lifecycleStatus(): LifecycleStatus {
      return feed.status;
    },
    close(): void {
      feed.close();
      source.close();
    },
  };
}
