// Picks the source for a target. Each is loaded lazily: `snapshot` start-up must stay lean, and
// koffi (netlink's libc calls) or systeminformation are only paid for when used.
import type { SourceName } from '../model';
import type { Source } from './source';
import { SockwatchError } from '../errors';
import { withFallback } from './fallback-source';
import { hasProcfs } from '../process/process-info';
import type { BriefChoice } from './lifecycle/open-lifecycle';

export const SOURCE_NAMES: readonly SourceName[] = ['procfs', 'netlink', 'systeminformation'];

/**
 * `brief` adds the facility for connections shorter than one poll (drainLifecycle,
 * lifecycleStatus; see lifecycle/open-lifecycle.ts); without it (a one-shot snapshot) none is opened.
 */
export async function openSource(pid: number, forced?: SourceName, brief?: BriefChoice): Promise<Source> {
  const poll = await openPollSource(pid, forced);
  if (brief === undefined || poll.name === 'systeminformation') return poll;
  try {
    const { openLifecycle } = await import('./lifecycle/open-lifecycle');
    const { withLifecycle } = await import('./lifecycle/lifecycle-feed');
    return withLifecycle(poll, await openLifecycle(pid, brief));
  } catch (e) {
    poll.close();
    throw e;
  }
}

async function openPollSource(pid: number, forced?: SourceName): Promise<Source> {
  switch (forced) {
    case 'procfs':
      if (!hasProcfs()) throw new SockwatchError('not_supported', 'the procfs source needs Linux /proc; use --source systeminformation');
      return (await import('./procfs/procfs-source')).createProcfsSource(pid);
    case 'netlink':
      if (process.platform !== 'linux') throw new SockwatchError('not_supported', 'the netlink source needs Linux');
      if ((await import('./netlink/netlink-unavailable')).netlinkNeedsProcfs()) return (await import('./procfs/procfs-source')).createProcfsSource(pid);
      return (await import('./netlink/netlink-source')).createNetlinkSource(pid);
    case 'systeminformation':
      return (await import('./sysinfo/sysinfo-source')).createSysinfoSource(pid);
    case undefined:
      return autoSource(pid);
  }
}

/**
 * netlink where it adds data (TCP internals) and sees the target's sockets (same network
 * namespace); procfs otherwise, which also works for a target in a container; systeminformation
 * where there is no /proc.
 */
async function autoSource(pid: number): Promise<Source> {
  if (!hasProcfs()) return (await import('./sysinfo/sysinfo-source')).createSysinfoSource(pid);
  const { canUseNetlink } = await import('./netlink/netlink-availability');
  const procfs = async (): Promise<Source> => (await import('./procfs/procfs-source')).createProcfsSource(pid);
  if ((await import('./netlink/netlink-unavailable')).netlinkNeedsProcfs()) return procfs();
  if (await canUseNetlink(pid)) return withFallback(await (await import('./netlink/netlink-source')).createNetlinkSource(pid), procfs);
  return procfs();
}
