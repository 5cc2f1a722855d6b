import { SockwatchError } from '../../errors';
import { compareByFd, stateMatches, type Connection, type Protocol, type Snapshot, type StateFilter } from '../../model';
import { hasProcfs, permissionDeniedFor, validatePid } from '../../process/process-info';
import { WatchedProcess, readConsistently, watchProcess } from '../../process/watched-process';
import { isPermissionError, procReadError } from '../../process/proc-errors';
import type { Source } from '../source';
import { readSocketInodes } from './fd-inodes';
import { NetTableReader } from './net-table-reader';
import { parseNetTcpForInodes } from './parse-net-tcp';

export interface ProcfsSourceOptions {
  /**
   * Longest reuse of a table read while the target's socket-inode set is unchanged (default:
   * adaptive, see DEFAULT_RESCAN_MS and ProcfsSource.needsTableRead). A number fixes it.
   */
  rescanMs?: number;
  /** Clock for the rescan rule; tests pass a fake one. */
  nowMs?: () => number;
}

/**
 * Floor of the adaptive rescan period. Reading the host tables costs time in proportion to the
 * sockets on the host, so rereading them every poll would make every poll O(host). Instead a
 * reread happens at most every max(DEFAULT_RESCAN_MS, RESCAN_COST_FACTOR × the last read's
 * duration), so periodic rereads take at most 1/RESCAN_COST_FACTOR of a CPU however big the host.
 * A new socket inode still triggers a read at once.
 */
export const DEFAULT_RESCAN_MS = 5000;
const RESCAN_COST_FACTOR = 50;

const TABLES: ReadonlyArray<{ file: string; protocol: Protocol }> = [
  { file: 'tcp', protocol: 'tcp' },
  { file: 'tcp6', protocol: 'tcp6' },
];

interface TableRead {
  /** the inodes asked for, found in the tables or not (most fds are not TCP sockets) */
  wanted: ReadonlySet<number>;
  /** every TCP row of the target, unfiltered by state, without fd */
  rows: readonly Connection[];
  atMs: number;
}

/**
 * The target's TCP connections from /proc/PID/fd and /proc/PID/net/tcp{,6}. The tables are read
 * through /proc/PID/net, i.e. in the target's network namespace, so a target in a container works.
 */
export class ProcfsSource implements Source {
  readonly name = 'procfs' as const;
  /** How many times the host tables were read; lets tests and benchmarks see the rescan rule. */
  tableReads = 0;

  private readonly reader = new NetTableReader();
  private lastRead: TableRead | undefined;
  private readonly rescanMs: number | undefined;
  private readonly nowMs: () => number;
  /** how long the last table read took (wall ms), for the adaptive rescan period */
  private lastReadCostMs = 0;

  constructor(
    readonly pid: number,
    private readonly target: WatchedProcess,
    options: ProcfsSourceOptions = {},
  ) {
    this.rescanMs = options.rescanMs;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /**
   * Read, then check the PID still holds the process read: when another process took it, the
   * cached rows are dropped and the new process is read (so the tracker sees pid_reused).
   */
  snapshot(states: StateFilter): Promise<Snapshot> {
    return readConsistently(this.target, () => this.read(states), () => (this.lastRead = undefined));
  }

  private async read(states: StateFilter): Promise<Snapshot> {
    const fdsByInode = await readSocketInodes(this.pid);
    // The read that sees a socket gone: the time of this snapshot's evidence.
    const now = this.nowMs();
    let read = this.lastRead;
    if (!read || this.needsTableRead(read, fdsByInode, now)) {
      const wanted = new Set(fdsByInode.keys());
      const t0 = performance.now();
      read = { wanted, rows: await this.readTables(wanted), atMs: now };
      this.lastReadCostMs = performance.now() - t0;
      this.lastRead = read;
    }

    const connections: Connection[] = [];
    for (const row of read.rows) {
      const fd = fdsByInode.get(row.inode);
      // a reused row whose socket has since closed has no fd any more
      if (fd === undefined || !stateMatches(states, row.state)) continue;
      connections.push({ ...row, fd });
    }
    connections.sort(compareByFd);
    return { process: this.target.info, source: 'procfs', connections, observedAtMs: now };
  }

  /**
   * The rescan rule that keeps steady-state polls O(target) instead of O(host):
   * - an inode not asked for at the last read → read now (a new connection to look up);
   * - otherwise reuse the last rows until they are rescanMs old (adaptive by default: 5 s, or 50×
   *   the last read's cost when that is longer), so state changes (ESTABLISHED →
   *   CLOSE_WAIT), queues, timers and sockets that were created earlier but connected only since
   *   (an unconnected socket is not in the table yet) are caught within rescanMs;
   * - inodes that disappeared need no read: their rows are dropped by the fd join.
   * Between reads, reused rows keep their old timer.expiresMs (it does not count down) and old
   * queue sizes; both are accurate as of the last read.
   */
  private needsTableRead(read: TableRead, fdsByInode: ReadonlyMap<number, number>, now: number): boolean {
    const period = this.rescanMs ?? Math.max(DEFAULT_RESCAN_MS, RESCAN_COST_FACTOR * this.lastReadCostMs);
    if (now - read.atMs >= period || now < read.atMs) return true;
    for (const inode of fdsByInode.keys()) if (!read.wanted.has(inode)) return true;
    return false;
  }

  private async readTables(wanted: ReadonlySet<number>): Promise<Connection[]> {
    const rows: Connection[] = [];
    const seen = new Set<number>();
    for (const { file, protocol } of TABLES) {
      const path = `/proc/${this.pid}/net/${file}`;
      let length: number;
      try {
        length = this.reader.read(path);
      } catch (e) {
        if (isPermissionError(e)) throw await permissionDeniedFor(this.pid);
        throw procReadError(e, this.pid, path);
      }
      if (length < 0) continue;
      this.tableReads++;
      for (const row of parseNetTcpForInodes(this.reader.buffer, protocol, wanted, length)) {
        // a table changing while it is read can show one socket twice
        if (seen.has(row.inode)) continue;
        seen.add(row.inode);
        rows.push(row);
      }
    }
    return rows;
  }

  close(): void {
    this.lastRead = undefined;
    this.reader.release();
  }
}

/** Rejects with not_supported off Linux and no_such_process when the PID does not exist. */
export async function createProcfsSource(pid: number, options: ProcfsSourceOptions = {}): Promise<ProcfsSource> {
  validatePid(pid);
  if (!hasProcfs()) throw new SockwatchError('not_supported', 'the procfs source needs Linux /proc');
  return new ProcfsSource(pid, await watchProcess(pid), options);
}
