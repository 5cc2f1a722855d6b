// The target's sockets that the netlink source has learned from dumps, and the two ways a poll
// refreshes them without dumping the host: exact lookups, or one kernel-filtered dump.
import { SockwatchError } from '../../errors';
import { tcpStateCode } from '../../model';
import { InetDiagDecoder, decodeInetDiag, type InetDiagRow, type InodeSet } from './inet-diag-decode';
import { checked, type FamilyDumper } from './dump-tcp';
import { buildPortFilterBytecode, type PortFilter } from './inet-diag-bytecode';
import { planPortFilter } from './port-filter-plan';
import { FD_STATES_MASK, buildAckSentinel, buildInetDiagExactRequest, type InetFamily } from './inet-diag-request';
import { LOOKUP_DATAGRAM_BYTES, type NetlinkDumpOptions, type SockDiagRequests, type SockDiagSocketFactory } from './sock-diag-requests';
import { AF_INET, AF_INET6 } from './sock-diag-constants';

/**
 * How a poll refreshes the known sockets: exact lookups or one kernel-filtered dump. A lookup
 * costs kernel time in the sendmsg that carries its batch (more per lookup as the target grows
 * and its sockets fall out of the CPU's caches) and little else now that replies arrive a batch
 * per system call. A filtered dump costs one walk of the host's connection table whatever the
 * filter, plus a little per returned socket: it grows with the host. Lookups win for small
 * targets, the dump for large ones; the crossover moves with the host's size, and an adaptive
 * choice from measured costs mis-chose in the bench, so it is a fixed count. Measured on a host
 * of 22,000 sockets (docs/performance.md): 5,000 known sockets 18–20 ms by lookups, 37 ms by a
 * filtered dump; 10,000: 56 ms against 38–45 ms.
 */
export const LOOKUP_MAX = 6000;

/**
 * On a larger host the crossover moves up with the table a filtered dump walks: the walk costs
 * about 0.5 µs per socket of the host, passing the filter or not, a lookup about 3 µs per known
 * socket, so lookups stay cheaper up to about a quarter of the table (on the 22,000-socket host
 * that is LOOKUP_MAX). Measured (bench/kernel-floor.c, 138,000 host sockets, 18,000 known):
 * lookups 52 ms, the filtered dump 85 ms; the netlink source's poll 105 ms by the dump.
 */
export const LOOKUP_SHARE_OF_TABLE = 0.25;

/** A filtered dump returning more foreign sockets than this (and a quarter of the known) drops remote ports from the filter. */
const FOREIGN_ROWS_TOLERATED = 64;

const LISTEN_CODE = tcpStateCode('LISTEN');

/** A socket of the target learned from a dump: enough to ask the kernel for it again. */
interface KnownSocket {
  family: InetFamily;
  sockId: Uint8Array;
  localPort: number;
  remotePort: number;
  listening: boolean;
  /** its exact-lookup request, once built */
  request: Buffer | undefined;
  /** the filtered dump (by KnownSockets.dumpCount) that last returned it */
  seenIn: number;
}

function knownOf(row: InetDiagRow): KnownSocket {
  return {
    family: row.family === AF_INET6 ? AF_INET6 : AF_INET,
    sockId: row.sockId,
    localPort: row.srcPort,
    remotePort: row.dstPort,
    listening: row.state === LISTEN_CODE,
    request: undefined,
    seenIn: 0,
  };
}

interface PortFilterCache {
  version: number;
  remoteAllowed: boolean;
  filter: PortFilter;
  bytecode: Uint8Array;
  families: ReadonlySet<InetFamily>;
}

/** The known sockets' fresh rows for this poll; `has` before the fd scan, `rows` after it. */
export interface Refresh {
  /** the socket (target's or not) is in the refresh's answer, i.e. open */
  has(inode: number): boolean;
  /** decoded rows (tcp_info included) of the sockets in `wanted`; asked once per refresh (a second call answers as the first) */
  rows(wanted: ReadonlyMap<number, number>): InetDiagRow[];
}

export interface KnownSocketsOptions {
  /** refresh by lookups up to this many known sockets, by a filtered dump above (default LOOKUP_MAX) */
  lookupMax?: number;
  /** how the lookup socket is opened on first use: the factory the source was given */
  openSocket: SockDiagSocketFactory;
  /** options of the lookup socket (its datagram size is LOOKUP_DATAGRAM_BYTES whatever they say) */
  socketOptions?: NetlinkDumpOptions;
}

export class KnownSockets {
  /** exact lookups sent */
  lookups = 0;
  /** kernel-filtered dumps done (walks) */
  filteredDumps = 0;
  /** filtered dumps done, as the stamp of the latest (KnownSocket.seenIn) */
  private dumpCount = 0;

  private known = new Map<number, KnownSocket>();
  /** bumped on every change to `known`: the port filter is cached against it */
  private version = 0;
  private filterCache: PortFilterCache | undefined;
  /** other processes use the target's remote ports heavily: filter by local ports only */
  private remoteNoisy = false;
  /** its own socket, opened on first use: small datagram buffers, see LOOKUP_DATAGRAM_BYTES */
  private lookupSocketOpened: SockDiagRequests | undefined;
  private readonly lookupMax: number;
  /** the sockets the last unfiltered dump walked past (replaceWith), 0 before one */
  private tableSize = 0;

  constructor(
    private readonly dumper: FamilyDumper,
    private readonly opts: KnownSocketsOptions,
  ) {
    this.lookupMax = opts.lookupMax ?? LOOKUP_MAX;
  }

  get size(): number {
    return this.known.size;
  }

  has(inode: number): boolean {
    return this.known.has(inode);
  }

  /** Adds a socket seen in a refresh's rows (a filtered dump can bring new ones). */
  learn(row: InetDiagRow): void {
    if (this.known.has(row.inode)) return;
    this.known.set(row.inode, knownOf(row));
    this.version++;
  }

  /**
   * After an unfiltered dump: exactly these rows' sockets are known. `tableSize`: how many sockets
   * that dump walked past (dumpTcp's), which moves the lookups' limit up on a large host.
   */
  replaceWith(rows: readonly InetDiagRow[], tableSize = 0): void {
    this.tableSize = tableSize;
    this.known = new Map(rows.map((r) => [r.inode, knownOf(r)]));
    this.version++;
    this.remoteNoisy = false;
  }

  /**
   * Fresh rows of the known sockets; forgets those that are gone. `previous`: last poll's rows,
   * whose decoded strings unchanged identities reuse.
   */
  async refresh(previous: ReadonlyMap<number, InetDiagRow>): Promise<Refresh> {
    if (this.known.size <= this.lookupLimit) {
      const fresh = await this.lookupAll(previous);
      return { has: (inode) => fresh.has(inode), rows: () => [...fresh.values()] };
    }
    return this.filteredDump(previous);
  }

  /** Up to how many known sockets a refresh looks them up: an explicit lookupMax holds as given. */
  get lookupLimit(): number {
    if (this.opts.lookupMax !== undefined) return this.lookupMax;
    return Math.max(this.lookupMax, Math.floor(this.tableSize * LOOKUP_SHARE_OF_TABLE));
  }

  close(): void {
    this.lookupSocketOpened?.close();
    this.known.clear();
    this.version++;
  }

  private get lookupSocket(): SockDiagRequests {
    this.lookupSocketOpened ??= this.opts.openSocket({ ...this.opts.socketOptions, datagramBytes: LOOKUP_DATAGRAM_BYTES });
    return this.lookupSocketOpened;
  }

  /**
   * Exact lookups of every known socket, batched and serialized. Sockets whose lookup fails or
   * answers for another inode (0: closed by the target, now orphaned or TIME_WAIT) are forgotten.
   */
  private async lookupAll(previous: ReadonlyMap<number, InetDiagRow>): Promise<Map<number, InetDiagRow>> {
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
      const decoder = new InetDiagDecoder({ batch: true, previous, modelTcpInfo: true });
      await socket.batch(requests, sentinel, (d) => decoder.push(d));
      const decoded = decoder.result;
      if (decoded.errno !== undefined || decoded.problem !== undefined || !decoded.done) {
        throw new SockwatchError('io_error', `netlink exact lookup failed: ${decoded.problem ?? `errno ${decoded.errno ?? 'none'}`}`);
      }
      for (const row of decoded.rows) if (row.inode !== 0 && this.known.has(row.inode)) fresh.set(row.inode, row);
    }
    this.forgetUnless(fresh);
    return fresh;
  }

  /**
   * An unfiltered dump's rows (no tcp_info) as the refresh that followed it answered them: the
   * same row objects, given tcp_info in place, unless a tuple changed. A socket closed between
   * dump and refresh keeps its dump row: it was there. Only known sockets: one that appeared
   * since the dump is the next poll's to learn.
   */
  withTcpInfo(dumped: readonly InetDiagRow[], refresh: Refresh, wanted: ReadonlyMap<number, number>): InetDiagRow[] {
    const rows: InetDiagRow[] = [];
    for (const r of refresh.rows(wanted)) if (this.known.has(r.inode)) rows.push(r);
    for (const r of dumped) if (!refresh.has(r.inode)) rows.push(r);
    return rows;
  }

  /** Forgets the known sockets that `present` does not hold (gone: closed, or their tuple changed). */
  private forgetUnless(present: InodeSet): void {
    let forgot = false;
    // forEach, not for…of: no iterator result per entry (this runs every poll over every socket)
    this.known.forEach((_k, inode, known) => {
      if (present.has(inode)) return;
      known.delete(inode);
      forgot = true;
    });
    if (forgot) this.version++;
  }

  /**
   * The filtered dump's port filter, rebuilt only when the known sockets (or remoteNoisy) changed:
   * planning it walks every known socket and sorts their ports (costly for large targets), while
   * a steady target keeps the same sockets poll after poll.
   */
  private portFilter(): PortFilterCache {
    const remoteAllowed = !this.remoteNoisy;
    const cached = this.filterCache;
    if (cached !== undefined && cached.version === this.version && cached.remoteAllowed === remoteAllowed) return cached;
    const filter = planPortFilter(this.known.values(), remoteAllowed);
    const families = new Set<InetFamily>();
    for (const k of this.known.values()) families.add(k.family);
    this.filterCache = { version: this.version, remoteAllowed, filter, bytecode: buildPortFilterBytecode(filter), families };
    return this.filterCache;
  }

  /**
   * One dump of the families the known sockets use, filtered in the kernel by their ports, with
   * tcp_info. The known sockets' rows are decoded as the replies arrive (nothing of the dump is
   * kept); any other socket's message is copied aside — another process's socket on the same
   * ports, or a new one of the target — and decoded only if the fd scan says it is the target's.
   */
  private async filteredDump(previous: ReadonlyMap<number, InetDiagRow>): Promise<Refresh> {
    const { filter, bytecode, families } = this.portFilter();
    const known = this.known;
    const others = new Map<number, Uint8Array>();
    const keepAside = (inode: number, message: Uint8Array): void => {
      // a table changing while walked can show a socket twice
      if (!others.has(inode)) others.set(inode, Buffer.from(message));
    };
    const walks = await this.dumper.dump(families, { states: FD_STATES_MASK, bytecode }, () => new InetDiagDecoder({ wantedInodes: known, unwanted: keepAside, previous, modelTcpInfo: true }));
    this.filteredDumps += walks.length;
    // Which known sockets the dump holds: a stamp on each (a set of every inode was rebuilt each
    // poll, and at 20,000 connections that was a good part of the poll's garbage).
    const dump = ++this.dumpCount;
    // The decoder's own array, compacted in place (arrays of 20,000 rows are large objects that
    // only a full collection frees): each known socket once, stamped.
    const knownRows = walks.length === 1 ? checked(walks[0]!.result) : walks.flatMap((w) => checked(w.result));
    let n = 0;
    for (let i = 0; i < knownRows.length; i++) {
      const row = knownRows[i]!;
      const k = known.get(row.inode);
      if (k === undefined || k.seenIn === dump) continue;
      k.seenIn = dump;
      knownRows[n++] = row;
    }
    knownRows.length = n;
    this.forgetUnseen(dump);
    const has = (inode: number): boolean => known.get(inode)?.seenIn === dump || others.has(inode);
    let answered: InetDiagRow[] | undefined;
    return {
      has,
      rows: (wanted) => {
        if (answered !== undefined) return answered;
        const rows = (answered = knownRows);
        let kept = 0;
        for (let i = 0; i < rows.length; i++) if (wanted.has(rows[i]!.inode)) rows[kept++] = rows[i]!;
        rows.length = kept;
        let gotOthers = 0;
        others.forEach((message, inode) => {
          if (!wanted.has(inode)) return;
          const row = decodeInetDiag(message, { previous, modelTcpInfo: true }).rows[0];
          if (row === undefined) return;
          gotOthers++;
          rows.push(row);
        });
        // Many foreign sockets: other processes share the target's remote ports (say, a busy
        // database port); cover the target's sockets by their local ports instead.
        const foreign = others.size - gotOthers;
        if (filter.remote.length > 0 && foreign > Math.max(FOREIGN_ROWS_TOLERATED, this.known.size / 4)) this.remoteNoisy = true;
        return rows;
      },
    };
  }

  /** Forgets the known sockets the filtered dump `dump` did not return. */
  private forgetUnseen(dump: number): void {
    let forgot = false;
    // forEach, not for…of: no [key, value] array per entry (this runs every poll over every socket)
    this.known.forEach((k, inode, known) => {
      if (k.seenIn === dump) return;
      known.delete(inode);
      forgot = true;
    });
    if (forgot) this.version++;
  }
}
