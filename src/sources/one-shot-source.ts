// One PID read once, for the fast `snapshot PID` (src/cli/fast-snapshot.ts): as root the process's
// own descriptor table read in the kernel (ebpf/iterator-one-shot.ts), else netlink's one-shot
// without the availability probe of the auto source, procfs when netlink cannot see the target.
// Its connections are what the full path's group of one gives: the holder's PID, and (for JSON)
// the direction decided by the listeners beside it.
import type { Snapshot, StateFilter } from '../model';
import { isSockwatchError } from '../errors';
import { netlinkOneShot } from './netlink/one-shot';
import { assignDirections, ephemeralPorts } from './direction';

export interface OneShotNeeds {
  /** tcp_info (connection.tcp, exact retransmits): only JSON prints it */
  tcpInfo: boolean;
  /** each connection's direction: only JSON prints it (at 18,000 connections, 12 ms) */
  directions: boolean;
}

export function oneShotSource(pid: number, opts: OneShotNeeds): { snapshot(states: StateFilter): Promise<Snapshot>; close(): void } {
  return {
    async snapshot(states) {
      const snap = (await iteratorSnapshot(pid, states, opts)) ?? (await pollOnce(pid, states, opts));
      for (const c of snap.connections) c.pid = pid;
      if (opts.directions) assignDirections(snap.connections, new Map(), ephemeralPorts());
      return snap;
    },
    close: () => undefined,
  };
}

/**
 * The fd-socket iterator's snapshot (as root, for the table and CSV: JSON prints tcp_info, which
 * the netlink path reads); undefined where the iterator cannot run (an older kernel, no BTF),
 * and then the netlink path answers. The target's own errors (gone, not permitted) are thrown.
 */
async function iteratorSnapshot(pid: number, states: StateFilter, opts: OneShotNeeds): Promise<Snapshot | undefined> {
  if (opts.tcpInfo || process.platform !== 'linux' || process.geteuid?.() !== 0) return undefined;
  const { iteratorOneShot } = await import('./ebpf/iterator-one-shot');
  return iteratorOneShot(pid, states).catch((e: unknown) => {
    if (isSockwatchError(e)) throw e;
    return undefined;
  });
}

/** netlink's one-shot, or procfs where netlink cannot see the target. */
async function pollOnce(pid: number, states: StateFilter, opts: { tcpInfo: boolean }): Promise<Snapshot> {
  try {
    return await netlinkOneShot(pid, states, opts);
  } catch (e) {
    // The auto source's choice: procfs where netlink cannot see the target (another network
    // namespace, koffi cannot load). Errors about the target itself are thrown.
    if (!isSockwatchError(e) || e.code !== 'not_supported') throw e;
    // says why, once, when the reason is koffi
    (await import('./netlink/netlink-unavailable')).netlinkNeedsProcfs();
    const { createProcfsSource } = await import('./procfs/procfs-source');
    const source = await createProcfsSource(pid);
    try {
      return await source.snapshot(states);
    } finally {
      source.close();
    }
  }
}
