// Chooses the facility that reports connections shorter than one poll (see lifecycle-types.ts):
// eBPF (root or CAP_BPF+CAP_PERFMON: every connection of the target with its PID and exact
// times, loaded in process in milliseconds) when it works, else sock_diag destroy notifications
// (any user, same network namespace; no owner), else none — each time with one line saying why
// not the better one.
import { readlinkSync } from 'node:fs';
import { isSockwatchError } from '../../errors';
import type { LifecycleStatus } from '../../core/lifecycle-types';
import { noFeed, type LifecycleFeed } from './lifecycle-feed';
import type { EbpfLifecycle } from '../ebpf/ebpf-lifecycle';

export const BRIEF_CHOICES = ['auto', 'ebpf', 'destroy', 'none'] as const;
export type BriefChoice = (typeof BRIEF_CHOICES)[number];

export interface LifecycleOptions {
  nowMs?: () => number;
  /** every process of the target now (default: the PID given); eBPF follows them all */
  pids?: readonly number[];
  /** eBPF: processes the watched ones fork join at once (--children) */
  follow?: boolean;
}

/**
 * 'auto' never fails: eBPF when it loads (it takes milliseconds, so the watch waits for it), else
 * destroy notifications saying why not eBPF. 'ebpf' rejects with a one-line SockwatchError when
 * eBPF cannot be used.
 */
export async function openLifecycle(pid: number, choice: BriefChoice, opts: LifecycleOptions = {}): Promise<LifecycleFeed> {
  switch (choice) {
    case 'none':
      return noFeed('turned off (--brief none)');
    case 'destroy':
      return openDestroyFeed(pid, 'eBPF turned off (--brief destroy)', opts);
    case 'ebpf':
      return startEbpf(pid, opts);
    case 'auto':
      try {
        return await startEbpf(pid, opts);
      } catch (e) {
        const why = isSockwatchError(e) ? e.message : `eBPF failed (${e instanceof Error ? e.message : String(e)})`;
        return openDestroyFeed(pid, why, opts);
      }
  }
}

export async function startEbpf(pid: number, opts: LifecycleOptions): Promise<EbpfLifecycle> {
  const { EbpfLifecycle } = await import('../ebpf/ebpf-lifecycle');
  const { listeningPortsOf } = await import('../ebpf/listening-ports');
  const pids = opts.pids && opts.pids.length > 0 ? opts.pids : [pid];
  const feed = EbpfLifecycle.start({ pids, follow: opts.follow ?? false, netnsPid: pid, ...(opts.nowMs ? { nowMs: opts.nowMs } : {}) });
  // After the attach: ports that start listening from now on are learned by the program itself.
  for (const l of await listeningPortsOf(pids).catch(() => [])) feed.addListener(l.port, l.pid);
  return feed;
}

/** Destroy notifications, or why not, with `better` as the reason eBPF is not in use. */
async function openDestroyFeed(pid: number, better: string, opts: LifecycleOptions): Promise<LifecycleFeed> {
  const otherNs = otherNamespace(pid);
  if (otherNs) return noFeed(`${better}; ${otherNs}`);
  try {
    const { DestroyListener } = await import('../netlink/destroy-listener');
    const listener = new DestroyListener(opts.nowMs ? { nowMs: opts.nowMs } : {});
    return {
      drain: () => listener.drain(),
      caughtUp: () => listener.caughtUp(),
      get status(): LifecycleStatus {
        const s = listener.status;
        return s.reason === undefined ? { ...s, reason: better } : s;
      },
      close: () => listener.close(),
    };
  } catch (e) {
    return noFeed(`${better}; destroy notifications unavailable (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Why destroy notifications cannot see the target's sockets, or undefined when they can. */
function otherNamespace(pid: number): string | undefined {
  try {
    if (readlinkSync('/proc/self/ns/net') === readlinkSync(`/proc/${pid}/ns/net`)) return undefined;
    return `destroy notifications only cover sockwatch's network namespace and PID ${pid} is in another one`;
  } catch (e) {
    return `cannot compare network namespaces (${e instanceof Error ? e.message : String(e)})`;
  }
}
