// The netlink source: the procfs source's data plus tcp_info (bytes, rtt, idle times, cookie).
// Whether it can see the target at all is netlink-availability's question.

import { stateMatches, type Connection, type Snapshot, type StateFilter } from '../../model';
import { validatePid } from '../../process/process-info';
import { WatchedProcess, readConsistently, watchProcess } from '../../process/watched-process';
import { FdSocketTable } from '../procfs/fd-socket-table';
import type { Source } from '../source';
import { polledConnection } from './inet-diag-connection';
import type { InetDiagRow } from './inet-diag-decode';
import { BOTH_FAMILIES, FamilyDumper, dumpTcp } from './dump-tcp';
import { checkSameNetNamespace } from './netlink-availability';
import { FD_STATES_MASK, stateMask } from './inet-diag-request';
import { KnownSockets, type Refresh } from './known-sockets';
import { inFdOrder } from './in-fd-order';
import { UnixSockets } from './unix-sockets';
import { openSockDiagSocket } from './open-sock-diag';
import type { NetlinkDumpOptions, SockDiagRequests, SockDiagSocketFactory } from './sock-diag-requests';

/** How often a poll also dumps the host table and re-reads every fd link; see NetlinkSource. */
export const FULL_REFRESH_MS = 30_000;

export interface NetlinkSourceOptions extends NetlinkDumpOptions {
  /** longest time between full refreshes (default FULL_REFRESH_MS) */
  fullRefreshMs?: number;
  /** clock for the refresh rule; tests pass a fake one */
  nowMs?: () => number;
  /** refresh by lookups up to this many known sockets, by a filtered dump above (default LOOKUP_MAX); tests force one way */
  lookupMax?: number;
  /** opens every sock_diag socket the source uses (default openSockDiagSocket) */
  openSocket?: SockDiagSocketFactory;
}

/**
 * Polls at O(target) user-space cost in steady state.
 *
 * The costly part of an unfiltered dump is the host: the kernel fills (tcp_info included) and we
 * receive every socket in the asked states, ~22,000 of them for a target holding 1,000. So such a
 * dump is done only to learn sockets not seen before; every other poll refreshes the known ones:
 * - up to LOOKUP_MAX (known-sockets.ts) of them by exact lookups (the kernel finds each by its inet_diag_sockid,
 *   O(1)), batched a few hundred per datagram;
 * - more than that by one dump of the families the target uses (one walk: FamilyDumper),
 *   filtered in the kernel by a port bytecode (planPortFilter: listening ports, shared remote
 *   ports, else each local port). The kernel still walks the host table but fills and sends
 *   only matching sockets, so user space pays for a few dozen datagrams instead of one per
 *   socket. Such a dump also returns new
 *   connections on a listening port or to a known backend port: they need no unfiltered dump.
 * Either gives fresh state, queues, timers and tcp_info (bytes, idle times) for every live
 * connection on every poll.
 *
 * When a poll does an unfiltered dump (rescan rule):
 * - the fd scan shows a socket inode that the refresh did not return and that is not settled as
 *   "not in the table" (a new connection: it must be looked up now, whatever the interval);
 * - an inode missing from one dump gets one more dump at the next poll (a socket created just
 *   before a dump may connect just after it); missing from two, it is settled: a UDP or unix
 *   socket, or TCP not yet connected — still read by readlink every poll, so a new inode on its fd
 *   is seen at once;
 * - the refresh fails (the poll falls back to a dump);
 * - every fullRefreshMs (30 s), while some socket inode is settled as not in the table: one that
 *   connected late is found within that time. Unix sockets (told apart by unix_diag lookups,
 *   UnixSockets) never count as unsettled: a unix socket never becomes TCP. A known socket whose
 *   tuple changed (disconnect + connect again) fails its lookup and is dumped for at once. Every
 *   fullRefreshMs the poll also re-reads every fd link (see FdSocketTable for the case that needs it).
 * An unfiltered dump asks for no tcp_info (the host's tcp_info is most of its cost); the target's
 * rows then get it from a refresh as above.
 * A closed connection needs no dump: its fd disappears, and the refresh no longer returns it
 * (a closed socket's lookup fails or answers with inode 0; TIME_WAIT is not in the dump's
 * states), so it is gone from that very poll — and an fd number reused by a new socket in the
 * same interval is read again (FdSocketTable) and shows a new inode.
 */
export class NetlinkSource implements Source {
  readonly name = 'netlink' as const;
  /** unfiltered dumps done (walks of the kernel's tables), for benchmarks and tests of the rescan rule */
  dumps = 0;

  private readonly socket: SockDiagRequests;
  private readonly dumper: FamilyDumper;
  private readonly fds: FdSocketTable;
  private readonly known: KnownSockets;
  private readonly unixSockets: UnixSockets;
  /** inode → dumps it was missing from */
  private notInTable = new Map<number, number>();
  /**
   * The target's rows of the last poll: unchanged identities reuse their decoded strings. Updated
   * in place (a new Map of every row each poll was a good part of a large target's garbage).
   */
  private lastRows = new Map<number, InetDiagRow>();
  /** which poll last set each lastRows entry */
  private readonly rowPoll = new Map<number, number>();
  private polls = 0;
  private lastFullMs = Number.NEGATIVE_INFINITY;
  private readonly fullRefreshMs: number;
  private readonly nowMs: () => number;

  constructor(
    readonly pid: number,
    private readonly target: WatchedProcess,
    opts: NetlinkSourceOptions = {},
  ) {
    const openSocket = opts.openSocket ?? openSockDiagSocket;
    this.socket = openSocket(opts);
    this.dumper = new FamilyDumper(this.socket);
    this.known = new KnownSockets(this.dumper, { openSocket, socketOptions: opts, ...(opts.lookupMax === undefined ? {} : { lookupMax: opts.lookupMax }) });
    this.fds = new FdSocketTable(pid);
    this.unixSockets = new UnixSockets(this.socket);
    this.fullRefreshMs = opts.fullRefreshMs ?? FULL_REFRESH_MS;
    this.nowMs = opts.nowMs ?? Date.now;
  }

  /**
   * Read, then check the PID still holds the process read: when another process took it, every
   * cache is dropped and the new process is read (so the tracker sees pid_reused). A new process
   * in another network namespace is refused here like at start (the fallback then takes over).
   */
  snapshot(states: StateFilter): Promise<Snapshot> {
    return readConsistently(this.target, () => this.read(states), () => this.forget());
  }

  private forget(): void {
    this.fds.reset();
    this.notInTable = new Map();
    this.lastRows = new Map();
    this.rowPoll.clear();
    this.lastFullMs = Number.NEGATIVE_INFINITY;
    checkSameNetNamespace(this.pid);
  }

  private async read(states: StateFilter): Promise<Snapshot> {
    const now = this.nowMs();
    const full = now - this.lastFullMs >= this.fullRefreshMs || now < this.lastFullMs;

    // The refresh first: it tells the fd scan which sockets are still open (no readlink needed).
    // A periodic refresh reads every fd link again, and dumps only if some socket is unaccounted for.
    let refresh: Refresh | undefined;
    if (this.known.size > 0) refresh = await this.known.refresh(this.lastRows).catch(() => undefined);
    const inodeToFd = await this.fds.scan(!full && refresh ? (inode) => refresh.has(inode) : undefined);
    // The read that sees a socket gone: the time of this snapshot's evidence.
    const observedAtMs = this.nowMs();

    let rows: InetDiagRow[];
    if (refresh === undefined || this.needsDump(inodeToFd, refresh, full)) {
      rows = await this.dumpAndLearn(inodeToFd, states);
    } else {
      rows = refresh.rows(inodeToFd);
      // a filtered dump may bring new sockets of the target (a listener's, a backend's)
      for (const row of rows) this.known.learn(row);
    }
    if (full) this.lastFullMs = now;

    // sized once: grown by push, an array of 20,000 is reallocated as large objects several times
    const connections = new Array<Connection>(rows.length);
    let count = 0;
    const poll = ++this.polls;
    const lastRows = this.lastRows;
    const rowPoll = this.rowPoll;
    for (const row of rows) {
      const fd = inodeToFd.get(row.inode);
      if (fd === undefined) continue;
      lastRows.set(row.inode, row);
      rowPoll.set(row.inode, poll);
      const conn = polledConnection(row, fd);
      if (conn && stateMatches(states, conn.state)) connections[count++] = conn;
    }
    connections.length = count;
    rowPoll.forEach((p, inode) => {
      if (p === poll) return;
      rowPoll.delete(inode);
      lastRows.delete(inode);
    });
    return { process: this.target.info, source: 'netlink', connections: inFdOrder(connections), observedAtMs };
  }

  /**
   * An unfiltered dump is needed for a socket the refresh did not return, unless it is a unix
   * socket (never TCP) or, outside a periodic refresh, settled as not in the table.
   */
  private needsDump(inodeToFd: ReadonlyMap<number, number>, refresh: Refresh, periodic: boolean): boolean {
    let needed = false;
    // forEach, not for…of: no iterator result per socket, every poll
    inodeToFd.forEach((_fd, inode) => {
      if (needed || refresh.has(inode) || this.unixSockets.has(inode)) return;
      const missed = this.notInTable.get(inode);
      if (periodic || missed === undefined || missed < 2) needed = true;
    });
    return needed;
  }

  /**
   * Both families' tables (one walk, see FamilyDumper) in every state a socket holding an fd can
   * be in (so a connection caught in SYN_SENT is learned too), without tcp_info, decoding only the
   * target's rows; then the target's rows get tcp_info from a refresh (KnownSockets.refresh).
   * Whatever `states` asks, the mask is FD_STATES_MASK: 'all' adds only TIME_WAIT and
   * NEW_SYN_RECV, which never hold an fd, and on a busy host are most of the table.
   *
   * tcp_info is most of an unfiltered dump's cost (the kernel fills it for every socket),
   * and only the target's sockets need it.
   */
  private async dumpAndLearn(inodeToFd: ReadonlyMap<number, number>, states: StateFilter): Promise<InetDiagRow[]> {
    const mask = states === 'all' ? FD_STATES_MASK : (stateMask(states) | FD_STATES_MASK) >>> 0;
    let rows: InetDiagRow[] = [];
    let tableSize = 0;
    if (inodeToFd.size > 0) {
      const dumped = await dumpTcp(this.dumper, BOTH_FAMILIES, { states: mask, extensions: 0 }, inodeToFd);
      this.dumps += dumped.walks;
      rows = dumped.rows;
      tableSize = dumped.tableSize;
    }
    this.known.replaceWith(rows, tableSize);
    const notInTable = new Map<number, number>();
    for (const inode of inodeToFd.keys()) {
      if (!this.known.has(inode)) notInTable.set(inode, (this.notInTable.get(inode) ?? 0) + 1);
    }
    this.notInTable = notInTable;
    await this.unixSockets.learn(notInTable.keys(), inodeToFd);
    if (rows.length > 0) {
      // The dump's rows as the earlier poll where there was none (the first poll): the refresh
      // then gives them tcp_info in place instead of a second row each.
      const previous = this.lastRows;
      if (previous.size === 0) {
        for (const r of rows) {
          previous.set(r.inode, r);
          this.rowPoll.set(r.inode, this.polls); // an older poll's stamp: gone unless read() returns it
        }
      }
      const refresh = await this.known.refresh(previous).catch(() => undefined);
      if (refresh) rows = this.known.withTcpInfo(rows, refresh, inodeToFd);
    }
    return rows;
  }

  counters(): NetlinkCounters {
    return { dumps: this.dumps, filteredDumps: this.known.filteredDumps, lookups: this.known.lookups, readlinks: this.fds.lastReadlinks };
  }

  close(): void {
    this.socket.close();
    this.known.close();
    this.fds.reset();
  }
}

export interface NetlinkCounters {
  /** unfiltered dumps (walks of the kernel's tables) */
  dumps: number;
  /** kernel-filtered dumps (walks) */
  filteredDumps: number;
  lookups: number;
  /** readlink calls of the last fd scan */
  readlinks: number;
}

/** A Source with own-property methods (callers may spread it), plus the rescan counters. */
export type NetlinkSourceHandle = Source & { counters(): NetlinkCounters };

export async function createNetlinkSource(pid: number, opts: NetlinkSourceOptions = {}): Promise<NetlinkSourceHandle> {
  validatePid(pid);
  checkSameNetNamespace(pid);
  const source = new NetlinkSource(pid, await watchProcess(pid), opts);
  return {
    name: source.name,
    snapshot: (states) => source.snapshot(states),
    close: () => source.close(),
    counters: () => source.counters(),
  };
}
