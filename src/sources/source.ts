import type { Snapshot, SourceName, StateFilter } from '../model';
import type { LifecycleStatus, SocketLifecycleEvent } from '../core/lifecycle-types';

/**
 * The only layer that touches the OS. A source is created for one PID and may keep caches
 * between calls (that is how steady-state polling stays O(target), not O(host)).
 *
 * `snapshot()` resolves with the target's TCP connections whose state passes `states`, in
 * compareByFd order (model.ts), so views need not sort them again. Its connection objects are
 * the caller's until the next call: a source may refresh them in place then (the netlink source
 * does), so whoever keeps one past the next poll keeps a copy (the tracker does).
 * It rejects with a SockwatchError: `no_such_process` when the target is gone (also mid-scan),
 * `permission_denied` when the caller may not read it, `not_supported` where the source cannot run.
 */
export interface Source {
  readonly name: SourceName;
  snapshot(states: StateFilter): Promise<Snapshot>;
  /**
   * Evidence gathered since the last call about sockets that started or ended between polls
   * (destroy notifications, eBPF), oldest first. Absent on sources without such a facility.
   */
  drainLifecycle?(): SocketLifecycleEvent[];
  /** which facility feeds drainLifecycle, and why not a better one */
  readonly lifecycleStatus?: LifecycleStatus;
  /**
   * Resolves once the evidence of everything up to `atMs` has arrived, or after a bound: eBPF's
   * events wait in its ring buffer until read (this reads it). The last poll of a watch waits for
   * it, so the end of a run is not lost with it. Never rejects.
   */
  lifecycleCaughtUp?(atMs: number): Promise<void>;
  /** Release handles (netlink sockets, timers). Safe to call twice. */
  close(): void;
}
