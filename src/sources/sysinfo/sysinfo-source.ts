import type { Systeminformation } from 'systeminformation';
import { noSuchProcess } from '../../errors';
import { compareByFd, connectionKey, stateMatches, type Connection, type ProcessInfo, type Snapshot, type StateFilter } from '../../model';
import { hasProcfs, processExists, validatePid } from '../../process/process-info';
import { WatchedProcess, readConsistently, watchProcess } from '../../process/watched-process';
import type { Source } from '../source';
import { connectionFromSysinfo } from './sysinfo-rows';
import { checkSysinfoCanSee } from './sysinfo-visibility';

type SystemInformation = typeof import('systeminformation');

/**
 * The fallback where /proc does not exist (macOS, BSD, Windows), via systeminformation's
 * networkConnections(), which runs netstat or ss for the whole host on every call: O(host) and
 * slow, and it gives no inode, fd, queues or timers (those stay absent). On Linux it still works
 * (handy for cross-checking procfs) and process info comes from /proc; there it refuses a target
 * it cannot see (sysinfo-visibility.ts). Elsewhere no such check exists: another user's process
 * may show no connections.
 */
export class SysinfoSource implements Source {
  readonly name = 'systeminformation' as const;

  constructor(
    readonly pid: number,
    private readonly si: SystemInformation,
    /** Linux: the process followed by start time (PID reuse is noticed); elsewhere fixed info */
    private readonly target: WatchedProcess | ProcessInfo,
  ) {}

  async snapshot(states: StateFilter): Promise<Snapshot> {
    const target = this.target;
    if (!(target instanceof WatchedProcess)) {
      const rows = await this.si.networkConnections();
      // checked after the (slow) listing: a target that exited meanwhile has no sockets in it
      if (!(await processExists(this.pid))) throw noSuchProcess(this.pid);
      return this.fromRows(rows, states, target);
    }
    // A new process on the PID (checked after the listing) may be one we cannot see.
    const rows = await readConsistently(target, () => this.si.networkConnections(), () => checkSysinfoCanSee(this.pid));
    return this.fromRows(rows, states, target.info);
  }

  private fromRows(rows: readonly Systeminformation.NetworkConnectionsData[], states: StateFilter, info: ProcessInfo): Snapshot {
    const byKey = new Map<string, Connection>();
    for (const row of rows) {
      if (row.pid !== this.pid) continue;
      const conn = connectionFromSysinfo(row);
      if (!conn || !stateMatches(states, conn.state)) continue;
      const key = connectionKey(conn);
      if (!byKey.has(key)) byKey.set(key, conn);
    }
    const connections = [...byKey.values()].sort(compareByFd); // no fds here: by local port
    return { process: { ...info }, source: 'systeminformation', connections };
  }

  close(): void {
    // nothing held: every call spawns and reaps its own netstat/ss
  }
}

async function processInfoFromSysinfo(si: SystemInformation, pid: number): Promise<ProcessInfo> {
  const { list } = await si.processes();
  const p = list.find((candidate) => candidate.pid === pid);
  if (!p) throw noSuchProcess(pid);
  // no uid, and no startTime: systeminformation derives "started" from the elapsed time, so it
  // jitters between calls and would look like PID reuse
  return { pid, command: p.name, cmdline: `${p.command} ${p.params}`.trim(), user: p.user };
}

/** Loads systeminformation on first use only: it is slow to load and `snapshot` must start fast. */
export async function createSysinfoSource(pid: number): Promise<SysinfoSource> {
  validatePid(pid);
  if (hasProcfs()) {
    const watched = await watchProcess(pid);
    await checkSysinfoCanSee(pid);
    const si = await import('systeminformation');
    return new SysinfoSource(pid, si, watched);
  }
  if (!(await processExists(pid))) throw noSuchProcess(pid);
  const si = await import('systeminformation');
  return new SysinfoSource(pid, si, await processInfoFromSysinfo(si, pid));
}
