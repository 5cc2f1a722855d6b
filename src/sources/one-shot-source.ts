// One PID read once, for the fast `snapshot PID` (src/cli/fast-snapshot.ts): netlink's one-shot
// without the availability probe of the auto source, procfs when netlink cannot see the target.
// Its connections are what the full path's group of one gives: the holder's PID, and the direction
// decided by the listeners beside it.
import type { Snapshot, StateFilter } from '../model';
import { isSockwatchError } from '../errors';
import { netlinkOneShot } from './netlink/one-shot';
import { assignDirections, ephemeralPorts } from './direction';

export function oneShotSource(pid: number, opts: { tcpInfo: boolean }): { snapshot(states: StateFilter): Promise<Snapshot>; close(): void } {
  return {
    async snapshot(states) {
      let snap: Snapshot;
      try {
        snap = await netlinkOneShot(pid, states, opts);
      } catch (e) {
        // The auto source's choice: procfs where netlink cannot see the target (another network
        // namespace, koffi cannot load). Errors about the target itself are thrown.
        if (!isSockwatchError(e) || e.code !== 'not_supported') throw e;
        // says why, once, when the reason is koffi
        (await import('./netlink/netlink-unavailable')).netlinkNeedsProcfs();
        const { createProcfsSource } = await import('./procfs/procfs-source');
        const source = await createProcfsSource(pid);
        try {
          snap = await source.snapshot(states);
        } finally {
          source.close();
        }
      }
      for (const c of snap.connections) c.pid = pid;
      assignDirections(snap.connections, new Map(), ephemeralPorts());
      return snap;
    },
    close: () => undefined,
  };
}
