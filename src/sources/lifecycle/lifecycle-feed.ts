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
  /** see Source.lifecycleCaughtUp; absent where events are never late (destroy notifications) */
  caughtUp?(atMs: number): Promise<void>;
  /** the target's processes are now `pids` (eBPF filters on them in the kernel); absent where the feed has no owner */
  watch?(pids: readonly number[]): void;
  close(): void;
}

/** A feed that has nothing, and says why. */
export function noFeed(reason: string): LifecycleFeed {
  return { drain: () => [], status: { facility: 'none', reason }, close: () => undefined };
}

/**
 * `source` with drainLifecycle/lifecycleStatus from `feed`; closing it closes both. `members`
 * (a group's PIDs) is handed to the feed after each snapshot, so it follows the group as members
 * come and go.
 */
export function withLifecycle(source: Source, feed: LifecycleFeed, members?: () => readonly number[]): Source {
  return {
    get name(): SourceName {
      return source.name;
    },
    snapshot: async (states: StateFilter): Promise<Snapshot> => {
      const snap = await source.snapshot(states);
      if (members && feed.watch) feed.watch(members());
      return snap;
    },
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
