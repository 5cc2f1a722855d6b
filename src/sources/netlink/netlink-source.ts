// The netlink source: the procfs source's data plus tcp_info (bytes, rtt, idle times, cookie).
// sock_diag answers for the network namespace of the socket that asks, so it only sees the
// target's sockets when the target lives in ours; otherwise we refuse instead of returning an
// empty, misleading list.

import { readlinkSync } from 'node:fs';
import { SockwatchError, noSuchProcess } from '../../errors';
import { stateMatches, type Connection, type ProcessInfo, type Snapshot, type StateFilter } from '../../model';
import { readProcessInfo, readProcStat, validatePid } from '../../process/process-info';
import { isGoneError, procReadError } from '../../process/proc-errors';
import { FdSocketTable } from '../procfs/fd-socket-table';
import type { Source } from '../source';
import { rowToConnection } from './inet-diag-connection';
import { decodeInetDiag, type InetDiagRow } from './inet-diag-decode';
import {
  ALL_STATES_MASK,
  FD_STATES_MASK,
  buildAckSentinel,
  buildInetDiagDumpRequest,
  buildInetDiagExactRequest,
  stateMask,
  type InetFamily,
} from './inet-diag-request';
import { LOOKUP_DATAGRAM_BYTES, SockDiagSocket, type NetlinkDumpOptions } from './netlink-socket';
import { AF_INET, AF_INET6 } from './sock-diag-constants';

/** Rejects unless PID shares our network namespace; no_such_process when PID does not exist. */
export function checkSameNetNamespace(pid: number): void {
  let ours: string;
  let theirs: string;
  try {
    ours = readlinkSync('/proc/self/ns/net');
  } catch (e) {
    throw new SockwatchError('not_supported', `netlink source cannot read sockwatch's network namespace (${errText(e)}); use --source procfs`);
  }
  try {
    theirs = readlinkSync(`/proc/${pid}/ns/net`);
  } catch (e) {
    if (isGoneError(e)) throw noSuchProcess(pid);
    throw new SockwatchError(
      'not_supported',
      `netlink source cannot tell which network namespace PID ${pid} is in (${errText(e)}); use --source procfs`,
    );
  }
  if (ours !== theirs) {
    throw new SockwatchError(
      'not_supported',
      `netlink source needs the target in sockwatch's network namespace (PID ${pid} is in another one); use --source procfs`,
    );
  }
}

/**
 * Dump one family's TCP sockets in `states` (a stateMask) and decode the rows whose inode is wanted.
 * The dump is the whole host's table in those states; the inode set keeps decoding cheap.
 */
export async function dumpTcp(
  socket: SockDiagSocket,
  family: InetFamily,
  states: number,
  wantedInodes?: ReadonlySet<number>,
  extensions?: number,
): Promise<InetDiagRow[]> {
  const chunks = await socket.dump(buildInetDiagDumpRequest({ family, states, ...(extensions === undefined ? {} : { extensions }) }));
  const decoded = wantedInodes ? decodeInetDiag(chunks, { wantedInodes }) : decodeInetDiag(chunks);
  if (decoded.errno !== undefined) {
    throw new SockwatchError('io_error', `netlink sock_diag dump failed: errno ${decoded.errno}`);
  }
  if (decoded.problem !== undefined || !decoded.done) {
    throw new SockwatchError('io_error', `malformed netlink sock_diag reply: ${decoded.problem ?? 'no NLMSG_DONE'}`);
  }
  return decoded.rows;
}

/** How often a poll also dumps the host table and re-reads every fd link; see NetlinkSource. */
export const FULL_REFRESH_MS = 30_000;

/** See NetlinkSource.dumpAndLearn. */
const LOOKUP_AFTER_DUMP_MAX = 4096;

/** A socket of the target learned from a dump: enough to ask the kernel for it alone. */
interface KnownSocket {
  family: InetFamily;
  sockId: Uint8Array;
}

export interface NetlinkSourceOptions extends NetlinkDumpOptions {
  /** longest time between full refreshes (default FULL_REFRESH_MS) */
  fullRefreshMs?: number;
  /** clock for the refresh rule; tests pass a fake one */
  nowMs?: () => number;
}

/**
 * Polls at O(target) cost in steady state.
 *
 * The costly part of a dump is the host: the kernel fills (tcp_info included) and we receive
 * every socket in the asked states, ~22,000 of them for a target holding 1,000. So a dump is done
 * only to learn the identity (inet_diag_sockid: tuple + cookie) of sockets not seen before; every
 * other poll asks the kernel for each known socket by that identity — an exact lookup, O(1) in
 * its hash tables — in batches of up to a few hundred per datagram. That gives fresh state,
 * queues, timers and tcp_info (bytes, idle times) for every live connection on every poll.
 *
 * When a poll dumps (rescan rule):
 * - the fd scan shows a socket inode that is neither known nor settled as "not in the table"
 *   (a new connection: it must be looked up now, whatever the interval);
 * - an inode missing from one dump gets one more dump at the next poll (a socket created just
 *   before a dump may connect just after it); missing from two, it is settled: a UDP or unix
 *   socket, or TCP not yet connected — still read by readlink every poll, so a new inode on its fd
 *   is seen at once;
 * - an exact-lookup batch fails (the poll falls back to a dump, on a fresh netlink socket);
 * - every fullRefreshMs (30 s): a settled socket that connected late, or one whose tuple changed
 *   (disconnect + connect again), is found within that time. The same poll re-reads every fd link
 *   (see FdSocketTable for the one case that needs it).
 * A closed connection needs no dump: its fd disappears, and its lookup fails or answers with
 * inode 0 (orphaned, TIME_WAIT), so it is gone from that very poll.
 */
export class NetlinkSource implements Source {
  readonly name = 'netlink' as const;
  /** dumps done (per family), for benchmarks and tests of the rescan rule */
  dumps = 0;
  /** exact lookups sent */
  lookups = 0;

  private readonly socket: SockDiagSocket;
  /** its own socket: small datagram buffers, see LOOKUP_DATAGRAM_BYTES */
  private readonly lookupSocket: SockDiagSocket;
  private readonly fds: FdSocketTable;
  private known = new Map<number, KnownSocket>();
  /** inode → dumps it was missing from */
  private notInTable = new Map<number, number>();
  private lastFullMs = Number.NEGATIVE_INFINITY;
  private readonly fullRefreshMs: number;
  private readonly nowMs: () => number;

  constructor(
    readonly pid: number,
    private readonly info: ProcessInfo,
    private readonly startTicks: number,
    opts: NetlinkSourceOptions = {},
  ) {
    this.socket = new SockDiagSocket(opts);
    this.lookupSocket = new SockDiagSocket({ ...opts, datagramBytes: LOOKUP_DATAGRAM_BYTES });
    this.fds = new FdSocketTable(pid);
    this.fullRefreshMs = opts.fullRefreshMs ?? FULL_REFRESH_MS;
    this.nowMs = opts.nowMs ?? Date.now;
  }

  async snapshot(states: StateFilter): Promise<Snapshot> {
    const now = this.nowMs();
    const full = now - this.lastFullMs >= this.fullRefreshMs || now < this.lastFullMs;

    // Lookups first: they tell the fd scan which sockets are still open (no readlink needed).
    let fresh: Map<number, InetDiagRow> | undefined;
    if (!full && this.known.size > 0) fresh = await this.lookupKnown().catch(() => undefined);
    const inodeToFd = await this.fds.scan(fresh && ((inode) => fresh.has(inode)));

    let rows: Iterable<InetDiagRow>;
    if (full || fresh === undefined || this.needsDump(inodeToFd, fresh)) {
      rows = await this.dumpAndLearn(inodeToFd, states);
      this.lastFullMs = full ? now : this.lastFullMs;
    } else {
      rows = fresh.values();
    }
    await this.checkStillRunning();

    const connections: Connection[] = [];
    for (const row of rows) {
      const fd = inodeToFd.get(row.inode);
      if (fd === undefined) continue;
      const conn = rowToConnection(row, fd);
      if (conn && stateMatches(states, conn.state)) connections.push(conn);
    }
    connections.sort((a, b) => (a.fd ?? 0) - (b.fd ?? 0));
    return { process: { ...this.info }, source: 'netlink', connections };
  }

  private needsDump(inodeToFd: ReadonlyMap<number, number>, fresh: ReadonlyMap<number, InetDiagRow>): boolean {
    for (const inode of inodeToFd.keys()) {
      if (fresh.has(inode)) continue;
      const missed = this.notInTable.get(inode);
      if (missed === undefined || missed < 2) return true;
    }
    return false;
  }

  /**
   * Exact lookups of every known socket, batched and serialized. Sockets whose lookup fails or
   * answers for another inode (0: closed by the target, now orphaned or TIME_WAIT) are forgotten.
   */
  private async lookupKnown(): Promise<Map<number, InetDiagRow>> {
    const fresh = new Map<number, InetDiagRow>();
    const capacity = this.lookupSocket.batchCapacity();
    const entries = [...this.known];
    const sentinel = buildAckSentinel();
    for (let i = 0; i < entries.length; i += capacity) {
      const slice = entries.slice(i, i + capacity);
      const requests = slice.map(([, k]) => buildInetDiagExactRequest(k.family, k.sockId));
      this.lookups += requests.length;
      const decoded = decodeInetDiag(await this.lookupSocket.batch(requests, sentinel), { batch: true });
      if (decoded.errno !== undefined || decoded.problem !== undefined || !decoded.done) {
        throw new SockwatchError('io_error', `netlink exact lookup failed: ${decoded.problem ?? `errno ${decoded.errno ?? 'none'}`}`);
      }
      for (const row of decoded.rows) if (row.inode !== 0 && this.known.has(row.inode)) fresh.set(row.inode, row);
    }
    for (const inode of this.known.keys()) if (!fresh.has(inode)) this.known.delete(inode);
    return fresh;
  }

  /**
   * Both families' tables in every state a socket holding an fd can be in (so a connection caught
   * in SYN_SENT is learned too), decoding only the target's rows.
   *
   * tcp_info is most of a dump's cost (22,000 sockets: 77 ms with it, 19 ms without), and only the
   * target's sockets need it. So for a target of up to LOOKUP_AFTER_DUMP_MAX sockets the dump asks
   * for no extensions and the target's rows are then looked up exactly, with tcp_info (~8 ms per
   * 1,000). Past that the lookups would cost more than the host's tcp_info; one dump asks for it.
   */
  private async dumpAndLearn(inodeToFd: ReadonlyMap<number, number>, states: StateFilter): Promise<InetDiagRow[]> {
    const mask = states === 'all' ? ALL_STATES_MASK : (stateMask(states) | FD_STATES_MASK) >>> 0;
    const wanted = new Set(inodeToFd.keys());
    const twoPhase = wanted.size <= LOOKUP_AFTER_DUMP_MAX;
    let rows: InetDiagRow[] = [];
    const known = new Map<number, KnownSocket>();
    if (wanted.size > 0) {
      for (const family of [AF_INET, AF_INET6] as const) {
        this.dumps++;
        for (const row of await dumpTcp(this.socket, family, mask, wanted, twoPhase ? 0 : undefined)) {
          if (known.has(row.inode)) continue; // a table changing while walked can show a socket twice
          known.set(row.inode, { family, sockId: row.sockId });
          rows.push(row);
        }
      }
    }
    const notInTable = new Map<number, number>();
    for (const inode of wanted) {
      if (!known.has(inode)) notInTable.set(inode, (this.notInTable.get(inode) ?? 0) + 1);
    }
    this.known = known;
    this.notInTable = notInTable;
    if (twoPhase && rows.length > 0) {
      const withInfo = await this.lookupKnown().catch(() => undefined);
      // A socket closed between dump and lookup keeps its dump row (no tcp_info): it was there.
      if (withInfo) rows = rows.map((r) => withInfo.get(r.inode) ?? r);
    }
    return rows;
  }

  /** The PID is gone, a zombie, or someone else's now (start time changed) → no_such_process. */
  private async checkStillRunning(): Promise<void> {
    const stat = await readProcStat(this.pid);
    if (stat.startTicks !== this.startTicks) throw noSuchProcess(this.pid);
  }

  counters(): NetlinkCounters {
    return { dumps: this.dumps, lookups: this.lookups, readlinks: this.fds.lastReadlinks };
  }

  close(): void {
    this.socket.close();
    this.lookupSocket.close();
    this.known.clear();
    this.fds.reset();
  }
}

export interface NetlinkCounters {
  dumps: number;
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

/**
 * For the CLI's source auto-selection: true when the netlink source would work for PID (same
 * network namespace, addon loads, the kernel answers a LISTEN-only dump). Never throws.
 */
export async function canUseNetlink(pid: number): Promise<boolean> {
  let socket: SockDiagSocket | undefined;
  try {
    checkSameNetNamespace(pid);
    socket = new SockDiagSocket({ timeoutMs: 1000 });
    await dumpTcp(socket, AF_INET, stateMask(new Set(['LISTEN'])), new Set());
    return true;
  } catch {
    return false;
  } finally {
    socket?.close();
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
