// `run`'s gate: as root, the eBPF source is attached and CMD is in its filter before CMD execs,
// so its first connection is seen. How, without a shell or a helper process: sockwatch marks
// itself in the kernel's watched set as FOLLOW-only (its own sockets are not reported), so the
// fork that spawn() makes joins the set, with REPORT, inside the kernel and before the child
// runs; the mark is removed as soon as spawn() returns. Without eBPF, one line says what cannot be
// seen, and the watch uses what it can.
import type { LifecycleFeed } from '../sources/lifecycle/lifecycle-feed';
import type { BriefChoice } from '../sources/lifecycle/open-lifecycle';
import type { EbpfLifecycle } from '../sources/ebpf/ebpf-lifecycle';
import { isSockwatchError } from '../errors';

export interface RunGate {
  /** the feed already following CMD, handed to the watch (undefined: the watch opens its own) */
  readonly feed: LifecycleFeed | undefined;
  /** CMD has been spawned (or failed to be): stop following sockwatch's own forks */
  spawned(pid: number | undefined): void;
}

export async function openRunGate(brief: BriefChoice, say: (line: string) => void): Promise<RunGate> {
  const none: RunGate = { feed: undefined, spawned: () => undefined };
  if (brief === 'none' || brief === 'destroy') return none;
  const { EbpfLifecycle } = await import('../sources/ebpf/ebpf-lifecycle');
  let feed: EbpfLifecycle;
  try {
    feed = EbpfLifecycle.start({ pids: [], follow: true, netnsPid: process.pid });
  } catch (e) {
    if (brief === 'ebpf' || !isSockwatchError(e)) throw e;
    say(`sockwatch: ${e.message}: CMD's connections are seen from the first poll on, and the shorter ones without proof they are CMD's`);
    return none;
  }
  feed.followSelf(true);
  return {
    feed,
    spawned(pid) {
      feed.followSelf(false);
      if (pid === undefined) feed.close();
      else feed.watch([pid]);
    },
  };
}
