// Chooses the facility that reports connections shorter than one poll (see lifecycle-types.ts):
// eBPF (root, bpftrace: every connection of the target with its PID and exact times) when it
// works, else sock_diag destroy notifications (any user, same network namespace; no owner),
// else none — each time with one line saying why not the better one.
import { readlinkSync } from 'node:fs';
import { isSockwatchError } from '../../errors';
import type { LifecycleStatus, SocketLifecycleEvent } from '../../core/lifecycle-types';
import { noFeed, type LifecycleFeed } from './lifecycle-feed';

export const BRIEF_CHOICES = ['auto', 'ebpf', 'destroy', 'none'] as const;
export type BriefChoice = (typeof BRIEF_CHOICES)[number];

/** bpftrace compiles its program with LLVM: a few seconds on a loaded machine. */
export const EBPF_ATTACH_TIMEOUT_MS = 15_000;

export interface LifecycleOptions {
  nowMs?: () => number;
  attachTimeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * 'auto' never fails: it starts with destroy notifications at once and moves to eBPF when
 * bpftrace has attached (in the background, so the watch does not wait for it). 'ebpf' waits
 * for the attach and rejects with a SockwatchError when eBPF cannot be used.
 */
export async function openLifecycle(pid: number, choice: BriefChoice, opts: LifecycleOptions = {}): Promise<LifecycleFeed> {
  switch (choice) {
    case 'none':
      return noFeed('turned off (--brief none)');
    case 'destroy':
      return openDestroyFeed(pid, 'eBPF turned off (--brief destroy)', opts);
    case 'ebpf':
      return startEbpf(pid, opts);
    case 'auto': {
      const fallback = await openDestroyFeed(pid, 'eBPF is attaching', opts);
      // closing the feed while bpftrace still compiles kills it, so it cannot hold sockwatch's exit
      const abort = new AbortController();
      return new PreferEbpf(fallback, startEbpf(pid, { ...opts, signal: abort.signal }), opts, abort, () => openDestroyFeed(pid, 'eBPF is attaching', opts));
    }
  }
}

async function startEbpf(pid: number, opts: LifecycleOptions): Promise<LifecycleFeed> {
  const { TcpLifeTracer } = await import('../ebpf/tcp-life-tracer');
  const { listeningPorts } = await import('../ebpf/listening-ports');
  const ports = await listeningPorts(pid).catch(() => []);
  return TcpLifeTracer.start({
    targetPid: pid,
    listenPorts: ports,
    attachTimeoutMs: opts.attachTimeoutMs ?? EBPF_ATTACH_TIMEOUT_MS,
    ...(opts.nowMs ? { nowMs: opts.nowMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
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

/**
 * Destroy notifications until eBPF has attached, eBPF from then on. Destroy events from the
 * moment eBPF attached are dropped at the switch: eBPF reports the target's own from then on.
 */
export class PreferEbpf implements LifecycleFeed {
  private current: LifecycleFeed;
  private ebpfFailed: string | undefined;
  private closed = false;
  private handover: SocketLifecycleEvent[] = [];

  constructor(
    fallback: LifecycleFeed,
    ebpf: Promise<LifecycleFeed>,
    opts: LifecycleOptions,
    private readonly abort: AbortController,
    /** destroy notifications again, should bpftrace stop after attaching */
    private readonly reopenFallback: () => Promise<LifecycleFeed> = async () => noFeed('eBPF stopped'),
  ) {
    this.current = fallback;
    ebpf.then(
      (feed) => {
        if (this.closed) {
          feed.close();
          return;
        }
        const since = feed.sinceMs ?? (opts.nowMs ?? Date.now)();
        this.handover = fallback.drain().filter((ev) => ev.atMs < since);
        fallback.close();
        this.current = feed;
        void feed.stopped?.then((reason) => this.ebpfStopped(feed, reason));
      },
      (e: unknown) => {
        this.ebpfFailed = isSockwatchError(e) ? e.message : `eBPF failed (${e instanceof Error ? e.message : String(e)})`;
      },
    );
  }

  /** bpftrace died under us (killed, crashed): keep what it reported, go back to destroy notifications. */
  private async ebpfStopped(feed: LifecycleFeed, reason: string): Promise<void> {
    if (this.closed || this.current !== feed) return;
    this.handover.push(...feed.drain());
    feed.close();
    this.ebpfFailed = reason;
    this.current = noFeed('eBPF is attaching');
    const fallback = await this.reopenFallback().catch((e: unknown) => noFeed(`destroy notifications unavailable (${e instanceof Error ? e.message : String(e)})`));
    if (this.closed) fallback.close();
    else this.current = fallback;
  }

  caughtUp(atMs: number): Promise<void> {
    return this.current.caughtUp?.(atMs) ?? Promise.resolve();
  }

  drain(): SocketLifecycleEvent[] {
    const out = this.handover.length > 0 ? [...this.handover, ...this.current.drain()] : this.current.drain();
    this.handover = [];
    return out;
  }

  get status(): LifecycleStatus {
    const s = this.current.status;
    if (this.ebpfFailed === undefined || s.facility === 'ebpf') return s;
    // the fallback's own reason ("eBPF is attaching") is replaced by why eBPF failed
    const own = s.reason?.replace(/^eBPF is attaching(; )?/, '') ?? '';
    return { ...s, reason: own ? `${this.ebpfFailed}; ${own}` : this.ebpfFailed };
  }

  close(): void {
    this.closed = true;
    this.abort.abort();
    this.current.close();
  }
}
