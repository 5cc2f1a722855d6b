// The netlink source: the procfs source's data plus tcp_info (bytes, rtt, idle times, cookie).
// Whether it can see the target at all is netlink-availability's question.

import { SockwatchError, noSuchProcess } from '../../errors';
import { compareByFd, stateMatches, tcpStateCode, type Connection, type ProcessInfo, type Snapshot, type StateFilter } from '../../model';
import { readProcessInfo, readProcStat, validatePid } from '../../process/process-info';
import { procReadError } from '../../process/proc-errors';
import { FdSocketTable } from '../procfs/fd-socket-table';
import type { Source } from '../source';
import { rowToConnection } from './inet-diag-connection';
import { decodeInetDiag, forEachDumpEntry, type InetDiagRow, type InodeSet } from './inet-diag-decode';
import { BOTH_FAMILIES, FamilyDumper, checked, dumpTcp } from './dump-tcp';
import { checkSameNetNamespace } from './netlink-availability';
import { buildPortFilterBytecode, type PortFilter } from './inet-diag-bytecode';
import { planPortFilter } from './port-filter-plan';
import {
  ALL_STATES_MASK,
  FD_STATES_MASK,
  buildAckSentinel,
  buildInetDiagExactRequest,
  stateMask,
  type InetFamily,
} from './inet-diag-request';
import { LOOKUP_DATAGRAM_BYTES, SockDiagSocket, type NetlinkDumpOptions } from './netlink-socket';
import { AF_INET, AF_INET6 } from './sock-diag-constants';

/**
 * `connections` ordered by fd, as a sort by fd would: fd numbers are small, dense and unique
 * per connection here (inodeToFd gives each inode its own fd), so placing each at its fd index
 * is O(n + max fd) instead of a comparison sort (~10 ms per poll at 20,000 connections). Falls
 * back to the sort if that ever does not hold.
 */
function inFdOrder(connections: Connection[]): Connection[] {
  if (connections.length < 64) return connections.sort(compareByFd);
  let maxFd = 0;
  for (const c of connections) {
    const fd = c.fd;
    if (fd === undefined || !Number.isInteger(fd) || fd < 0) return connections.sort(compareByFd);
    if (fd > maxFd) maxFd = fd;
  }
  if (maxFd > 8 * connections.length + 1024) return connections.sort(compareByFd); // sparse: the slots would cost more
  const slots = new Array<Connection | undefined>(maxFd + 1);
  for (const c of connections) {
    const fd = c.fd!;
    if (slots[fd] !== undefined) return connections.sort(compareByFd);
    slots[fd] = c;
  }
  let n = 0;
  for (const c of slots) if (c !== undefined) connections[n++] = c;
  return connections;
}

function knownOf(row: InetDiagRow): KnownSocket {
  return {
    family: row.family === AF_INET6 ? AF_INET6 : AF_INET,
    sockId: row.sockId,
    localPort: row.srcPort,
    remotePort: row.dstPort,
    listening: row.state === LISTEN_CODE,
  };
}

const LISTEN_CODE = tcpStateCode('LISTEN');

/** How often a poll also dumps the host table and re-reads every fd link; see NetlinkSource. */
export const FULL_REFRESH_MS = 30_000;

/**
 * How a poll refreshes the known sockets: exact lookups or one kernel-filtered dump. A lookup
 * costs ~10 µs (≈3 µs kernel, the rest the addon's per-datagram callback: each reply is its own
 * datagram); a filtered dump costs one walk of the host's established table (kernel time, ~4–9 ms
 * at 22,000 sockets whatever the filter) plus ~3 µs per returned socket. Measured with 22,000
 * host sockets and a target of 1,000: lookups 10.7 ms, filtered dump 14.5 ms; with 19,800 the
 * dump wins by far. The crossover moves with the host's size; an adaptive choice from measured
 * costs mis-chose at 1,000 in the bench, so it is a fixed count: lookups up to LOOKUP_MAX.
 */
const LOOKUP_MAX = 2000;

/** A filtered dump returning more foreign sockets than this (and a quarter of the known) drops remote ports from the filter. */
const FOREIGN_ROWS_TOLERATED = 64;

/** A socket of the target learned from a dump: enough to ask the kernel for it again. */
interface KnownSocket {
  family: InetFamily;
  sockId: Uint8Array;
  localPort: number;
  remotePort: number;
  listening: boolean;
  /** its exact-lookup request, once built */
  request?: Buffer;
}

interface PortFilterCache {
  version: number;
  remoteAllowed: boolean;
  filter: PortFilter;
  bytecode: Uint8Array;
  families: ReadonlySet<InetFamily>;
}

/** The known sockets' fresh rows for this poll; `has` before the fd scan, `rows` after it. */
interface Refresh {
  /** the socket (target's or not) is in the refresh's answer, i.e. open */
  has(inode: number): boolean;
  /** decoded rows (tcp_info included) of the sockets in `wanted` */
  rows(wanted: ReadonlyMap<number, number>): InetDiagRow[];
}

export interface NetlinkSourceOptions extends NetlinkDumpOptions {
  /** longest time between full refreshes (default FULL_REFRESH_MS) */
  fullRefreshMs?: number;
  /** clock for the refresh rule; tests pass a fake one */
  nowMs?: () => number;
  /** refresh by lookups up to this many known sockets, by a filtered dump above (default LOOKUP_MAX); tests force one way */
  lookupMax?: number;
}

/**
 * Polls at O(target) user-space cost in steady state.
 *
 * The costly part of an unfiltered dump is the host: the kernel fills (tcp_info included) and we
 * receive every socket in the asked states, ~22,000 of them for a target holding 1,000. So such a
 * dump is done only to learn sockets not seen before; every other poll refreshes the known ones:
 * - up to LOOKUP_MAX of them by exact lookups (the kernel finds each by its inet_diag_sockid,
 *   O(1)), batched a few hundred per datagram;
 * - more than that by one dump of the families the target uses (one walk: FamilyDumper), filtered in the kernel by a port
 *   bytecode (planPortFilter: listening ports, shared remote ports, else each local port). The
 *   kernel still walks the host table but fills and sends only matching sockets, so user space
 *   pays for a few dozen datagrams instead of one per socket. Such a dump also returns new
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
 * - every fullRefreshMs (30 s): a settled socket that connected late, or one whose tuple changed
 *   (disconnect + connect again), is found within that time. The same poll re-reads every fd link
 *   (see FdSocketTable for the one case that needs it).
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
  /** kernel-filtered dumps done (walks) */
  filteredDumps = 0;
  /** exact lookups sent */
  lookups = 0;

  private readonly socket: SockDiagSocket;
  private readonly dumper: FamilyDumper;
  /** its own socket, opened on first use: small datagram buffers, see LOOKUP_DATAGRAM_BYTES */
  private lookupSocketOpened: SockDiagSocket | undefined;
  private readonly fds: FdSocketTable;
  private known = new Map<number, KnownSocket>();
  /** bumped on every change to `known`: the port filter is cached against it */
  private knownVersion = 0;
  private filterCache: PortFilterCache | undefined;
  /** inode → dumps it was missing from */
  private notInTable = new Map<number, number>();
  /** the target's rows of the last poll: unchanged identities reuse their decoded strings */
  private lastRows = new Map<number, InetDiagRow>();
  /** other processes use the target's remote ports heavily: filter by local ports only */
  private remoteNoisy = false;
  private lastFullMs = Number.NEGATIVE_INFINITY;
  private readonly fullRefreshMs: number;
  private readonly nowMs: () => number;
  private readonly lookupMax: number | undefined;
  private readonly socketOptions: NetlinkDumpOptions;

  constructor(
    readonly pid: number,
    private readonly info: ProcessInfo,
    private readonly startTicks: number,
    opts: NetlinkSourceOptions = {},
  ) {
    this.socketOptions = opts;
    this.socket = new SockDiagSocket(opts);
    this.dumper = new FamilyDumper(this.socket);
    this.fds = new FdSocketTable(pid);
    this.fullRefreshMs = opts.fullRefreshMs ?? FULL_REFRESH_MS;
    this.nowMs = opts.nowMs ?? Date.now;
    this.lookupMax = opts.lookupMax;
  }

  private get lookupSocket(): SockDiagSocket {
    this.lookupSocketOpened ??= new SockDiagSocket({ ...this.socketOptions, datagramBytes: LOOKUP_DATAGRAM_BYTES });
    return this.lookupSocketOpened;
  }

  async snapshot(states: StateFilter): Promise<Snapshot> {
    const now = this.nowMs();
    const full = now - this.lastFullMs >= this.fullRefreshMs || now < this.lastFullMs;

    // The refresh first: it tells the fd scan which sockets are still open (no readlink needed).
    let refresh: Refresh | undefined;
    if (!full && this.known.size > 0) refresh = await this.refreshKnown().catch(() => undefined);
    const inodeToFd = await this.fds.scan(refresh && ((inode) => refresh.has(inode)));

    let rows: InetDiagRow[];
    if (full || refresh === undefined || this.needsDump(inodeToFd, refresh)) {
      rows = await this.dumpAndLearn(inodeToFd, states);
      if (full) this.lastFullMs = now;
    } else {
      rows = refresh.rows(inodeToFd);
      // a filtered dump may bring new sockets of the target (a listener's, a backend's)
      for (const row of rows) {
        if (this.known.has(row.inode)) continue;
        this.known.set(row.inode, knownOf(row));
        this.knownVersion++;
      }
    }
    await this.checkStillRunning();

    const connections: Connection[] = [];
    const lastRows = new Map<number, InetDiagRow>();
    for (const row of rows) {
      const fd = inodeToFd.get(row.inode);
      if (fd === undefined) continue;
      lastRows.set(row.inode, row);
      const conn = rowToConnection(row, fd);
      if (conn && stateMatches(states, conn.state)) connections.push(conn);
    }
    this.lastRows = lastRows;
    return { process: { ...this.info }, source: 'netlink', connections: inFdOrder(connections) };
  }

  private needsDump(inodeToFd: ReadonlyMap<number, number>, refresh: Refresh): boolean {
    for (const inode of inodeToFd.keys()) {
      if (refresh.has(inode)) continue;
      const missed = this.notInTable.get(inode);
      if (missed === undefined || missed < 2) return true;
    }
    return false;
  }

  /** Fresh rows of the known sockets; forgets those that are gone. */
  private async refreshKnown(): Promise<Refresh> {
    if (this.known.size <= (this.lookupMax ?? LOOKUP_MAX)) {
      const fresh = await this.lookupKnown();
      return { has: (inode) => fresh.has(inode), rows: () => [...fresh.values()] };
    }
    return this.filteredDump();
  }

  /**
   * Exact lookups of every known socket, batched and serialized. Sockets whose lookup fails or
   * answers for another inode (0: closed by the target, now orphaned or TIME_WAIT) are forgotten.
   */
  private async lookupKnown(): Promise<Map<number, InetDiagRow>> {
    const fresh = new Map<number, InetDiagRow>();
    const socket = this.lookupSocket;
    const capacity = socket.batchCapacity();
    const entries = [...this.known.values()];
    const sentinel = buildAckSentinel();
    for (let i = 0; i < entries.length; i += capacity) {
      const slice = entries.slice(i, i + capacity);
      // built once per socket: the request never changes (the socket wrapper sets nlmsg_seq in its own copy)
      const requests = slice.map((k) => (k.request ??= buildInetDiagExactRequest(k.family, k.sockId)));
      this.lookups += requests.length;
      const decoded = decodeInetDiag(await socket.batch(requests, sentinel), { batch: true, previous: this.lastRows, modelTcpInfo: true });
      if (decoded.errno !== undefined || decoded.problem !== undefined || !decoded.done) {
        throw new SockwatchError('io_error', `netlink exact lookup failed: ${decoded.problem ?? `errno ${decoded.errno ?? 'none'}`}`);
      }
      for (const row of decoded.rows) if (row.inode !== 0 && this.known.has(row.inode)) fresh.set(row.inode, row);
    }
    this.forgetUnless(fresh);
    return fresh;
  }

  /** Forgets the known sockets that `present` does not hold (gone: closed, or their tuple changed). */
  private forgetUnless(present: InodeSet): void {
    let forgot = false;
    for (const inode of this.known.keys()) {
      if (present.has(inode)) continue;
      this.known.delete(inode);
      forgot = true;
    }
    if (forgot) this.knownVersion++;
  }

  /**
   * The filtered dump's port filter, rebuilt only when the known sockets (or remoteNoisy) changed:
   * planning it walks every known socket and sorts their ports (~10 ms per poll at 20,000), while
   * a steady target keeps the same sockets poll after poll.
   */
  private portFilter(): PortFilterCache {
    const remoteAllowed = !this.remoteNoisy;
    const cached = this.filterCache;
    if (cached !== undefined && cached.version === this.knownVersion && cached.remoteAllowed === remoteAllowed) return cached;
    const filter = planPortFilter(this.known.values(), remoteAllowed);
    const families = new Set<InetFamily>();
    for (const k of this.known.values()) families.add(k.family);
    this.filterCache = { version: this.knownVersion, remoteAllowed, filter, bytecode: buildPortFilterBytecode(filter), families };
    return this.filterCache;
  }

  /**
   * One dump of the families the known sockets use, filtered in the kernel by their ports, with
   * tcp_info. Its rows are decoded only once the fd scan has said which inodes are the target's.
   */
  private async filteredDump(): Promise<Refresh> {
    const { filter, bytecode, families } = this.portFilter();
    const { replies, walks } = await this.dumper.dump(families, { states: FD_STATES_MASK, bytecode });
    this.filteredDumps += walks;
    const seen = new Set<number>();
    for (const chunks of replies) forEachDumpEntry(chunks, (inode) => seen.add(inode));
    this.forgetUnless(seen);
    return {
      has: (inode) => seen.has(inode),
      rows: (wanted) => {
        const rows: InetDiagRow[] = [];
        const got = new Set<number>();
        for (const chunks of replies) {
          for (const row of checked(decodeInetDiag(chunks, { wantedInodes: wanted, previous: this.lastRows, modelTcpInfo: true }))) {
            if (got.has(row.inode)) continue; // a table changing while walked can show a socket twice
            got.add(row.inode);
            rows.push(row);
          }
        }
        // Many foreign sockets: other processes share the target's remote ports (say, a busy
        // database port); cover the target's sockets by their local ports instead.
        if (filter.remote.length > 0 && seen.size - got.size > Math.max(FOREIGN_ROWS_TOLERATED, this.known.size / 4)) this.remoteNoisy = true;
        return rows;
      },
    };
  }

  /**
   * Both families' tables (one walk, see FamilyDumper) in every state a socket holding an fd can be in (so a connection caught
   * in SYN_SENT is learned too), without tcp_info, decoding only the target's rows; then the
   * target's rows get tcp_info from a refresh (lookups or a filtered dump, as refreshKnown picks).
   *
   * tcp_info is most of an unfiltered dump's cost (22,000 sockets: 77 ms with it, 19 ms without),
   * and only the target's sockets need it.
   */
  private async dumpAndLearn(inodeToFd: ReadonlyMap<number, number>, states: StateFilter): Promise<InetDiagRow[]> {
    const mask = states === 'all' ? ALL_STATES_MASK : (stateMask(states) | FD_STATES_MASK) >>> 0;
    let rows: InetDiagRow[] = [];
    const known = new Map<number, KnownSocket>();
    if (inodeToFd.size > 0) {
      const dumped = await dumpTcp(this.dumper, BOTH_FAMILIES, { states: mask, extensions: 0 }, inodeToFd);
      this.dumps += dumped.walks;
      for (const row of dumped.rows) {
        known.set(row.inode, knownOf(row));
        rows.push(row);
      }
    }
    const notInTable = new Map<number, number>();
    for (const inode of inodeToFd.keys()) {
      if (!known.has(inode)) notInTable.set(inode, (this.notInTable.get(inode) ?? 0) + 1);
    }
    this.known = known;
    this.knownVersion++;
    this.notInTable = notInTable;
    this.remoteNoisy = false;
    if (rows.length > 0) {
      const refresh = await this.refreshKnown().catch(() => undefined);
      if (refresh) {
        const withInfo = new Map(refresh.rows(inodeToFd).map((r) => [r.inode, r]));
        // A socket closed between dump and refresh keeps its dump row (no tcp_info): it was there.
        rows = rows.map((r) => withInfo.get(r.inode) ?? r);
      }
    }
    return rows;
  }

  /** The PID is gone, a zombie, or someone else's now (start time changed) → no_such_process. */
  private async checkStillRunning(): Promise<void> {
    const stat = await readProcStat(this.pid);
    if (stat.startTicks !== this.startTicks) throw noSuchProcess(this.pid);
  }

  counters(): NetlinkCounters {
    return { dumps: this.dumps, filteredDumps: this.filteredDumps, lookups: this.lookups, readlinks: this.fds.lastReadlinks };
  }

  close(): void {
    this.socket.close();
    this.lookupSocketOpened?.close();
    this.known.clear();
    this.knownVersion++;
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
  const stat = await readProcStat(pid).catch((e: unknown) => {
    throw procReadError(e, pid, `/proc/${pid}/stat`);
  });
  const info = await readProcessInfo(pid);
  const source = new NetlinkSource(pid, info, stat.startTicks, opts);
  return {
    name: source.name,
    snapshot: (states) => source.snapshot(states),
    close: () => source.close(),
    counters: () => source.counters(),
  };
}
