import { SockwatchError } from '../../errors';
import { InetDiagDecoder, type DecodeResult, type InetDiagRow, type InodeSet } from './inet-diag-decode';
import { buildInetDiagDumpRequest, type InetDiagRequestOptions, type InetFamily } from './inet-diag-request';
import type { SockDiagRequests } from './sock-diag-requests';
import { AF_INET, AF_INET6, AF_UNSPEC } from './sock-diag-constants';

export type DumpOptions = Omit<InetDiagRequestOptions, 'family' | 'seq'>;

/** What reads one walk's reply datagrams as they arrive (each valid only during the call). */
export interface WalkReader {
  push(datagram: Uint8Array): void;
}

/**
 * Dumps the TCP sockets of the asked families, both in one walk where the kernel serves the
 * older TCPDIAG_GETSOCK request (every kernel with sock_diag does; see buildInetDiagDumpRequest),
 * else one walk per family. A failed two-family dump is retried per family, and from then on
 * this socket's dumps go per family. The failure is not told apart (a kernel refusing the request,
 * or a timeout): either way the cost is one more walk per dump, never a wrong answer.
 *
 * Each walk's replies go to a reader from `startWalk` as they arrive, uncopied; the readers of
 * the walks that completed are returned (one per walk), a failed walk's is dropped.
 */
export class FamilyDumper {
  private oneWalk = true;

  constructor(private readonly socket: Pick<SockDiagRequests, 'dump'>) {}

  async dump<R extends WalkReader>(families: ReadonlySet<InetFamily>, opts: DumpOptions, startWalk: () => R): Promise<R[]> {
    if (families.size === 0) return [];
    if (families.size === 2 && this.oneWalk) {
      const reader = startWalk();
      try {
        await this.socket.dump(buildInetDiagDumpRequest({ ...opts, family: AF_UNSPEC }), (d) => reader.push(d));
        return [reader];
      } catch {
        this.oneWalk = false;
      }
    }
    const readers: R[] = [];
    for (const family of [AF_INET, AF_INET6] as const) {
      if (!families.has(family)) continue;
      const reader = startWalk();
      await this.socket.dump(buildInetDiagDumpRequest({ ...opts, family }), (d) => reader.push(d));
      readers.push(reader);
    }
    return readers;
  }
}

export const BOTH_FAMILIES: ReadonlySet<InetFamily> = new Set<InetFamily>([AF_INET, AF_INET6]);

/**
 * The rows of a dump of `families` whose inode is wanted (all rows without `wantedInodes`),
 * each socket once: a table changing while walked can show a socket twice. `tableSize`: the
 * sockets the dump walked past, wanted or not (how the cost of a later filtered dump compares).
 */
export async function dumpTcp(dumper: FamilyDumper, families: ReadonlySet<InetFamily>, opts: DumpOptions, wantedInodes?: InodeSet): Promise<{ rows: InetDiagRow[]; walks: number; tableSize: number }> {
  const walks = await dumper.dump(families, opts, () => new InetDiagDecoder(wantedInodes ? { wantedInodes, modelTcpInfo: true } : { modelTcpInfo: true }));
  const rows: InetDiagRow[] = [];
  const seen = new Set<number>();
  let tableSize = 0;
  for (const walk of walks) {
    tableSize += walk.result.messages;
    for (const row of checked(walk.result)) {
      if (seen.has(row.inode)) continue;
      seen.add(row.inode);
      rows.push(row);
    }
  }
  return { rows, walks: walks.length, tableSize };
}

/** The rows of a complete, well-formed dump reply; an io_error otherwise. */
export function checked(decoded: DecodeResult): InetDiagRow[] {
  if (decoded.errno !== undefined) {
    throw new SockwatchError('io_error', `netlink sock_diag dump failed: errno ${decoded.errno}`);
  }
  if (decoded.problem !== undefined || !decoded.done) {
    throw new SockwatchError('io_error', `malformed netlink sock_diag reply: ${decoded.problem ?? 'no NLMSG_DONE'}`);
  }
  return decoded.rows;
}
