import { noSuchProcess } from '../../errors';
import { compareByFd, connectionKey, stateMatches, type Connection, type ProcessInfo, type Snapshot, type StateFilter } from '../../model';
import { hasProcfs, processExists, readProcessInfo, readProcStat, validatePid } from '../../process/process-info';
import type { Source } from '../source';
import { connectionFromSysinfo } from './sysinfo-rows';

type SystemInformation = typeof import('systeminformation');

/**
 * The fallback where /proc does not exist (macOS, BSD, Windows), via systeminformation's
 * networkConnections(), which runs netstat or ss for the whole host on every call: O(host) and
 * slow, and it gives no inode, fd, queues or timers (those stay absent). On Linux it still works
 * (handy for cross-checking procfs) and process info comes from /proc.
 */
export class SysinfoSource implements Source {
  readonly name = 'systeminformation' as const;

  constructor(
    readonly pid: number,
    private readonly si: SystemInformation,
    private readonly info: ProcessInfo,
    /** /proc start ticks on Linux, to notice PID reuse; elsewhere only existence is checked */
    private readonly startTicks: number | undefined,
  ) {}

  async snapshot(states: StateFilter): Promise<Snapshot> {
    const rows = await this.si.networkConnections();
    // checked after the (slow) listing: a target that exited meanwhile has no sockets in it
    await this.checkStillRunning();
    const byKey = new Map<string, Connection>();
    for (const row of rows) {
      if (row.pid !== this.pid) continue;
      const conn = connectionFromSysinfo(row);
      if (!conn || !stateMatches(states, conn.state)) continue;
      const key = connectionKey(conn);
      if (!byKey.has(key)) byKey.set(key, conn);
    }
    const connections = [...byKey.values()].sort(compareByFd); // no fds here: by local port
    return { process: { ...this.info }, source: 'systeminformation', connections };
  }

  private async checkStillRunning(): Promise<void> {
    if (this.startTicks !== undefined) {
      const stat = await readProcStat(this.pid);
      if (stat.startTicks !== this.startTicks) throw noSuchProcess(this.pid);
    } else if (!(await processExists(this.pid))) {
      throw noSuchProcess(this.pid);
    }
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
    const stat = await readProcStat(pid);
    const info = await readProcessInfo(pid);
    const si = await import('systeminformation');
    return new SysinfoSource(pid, si, info, stat.startTicks);
  }
  if (!(await processExists(pid))) throw noSuchProcess(pid);
  const si = await import('systeminformation');
  return new SysinfoSource(pid, si, await processInfoFromSysinfo(si, pid), undefined);
}
