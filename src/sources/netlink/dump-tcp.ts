import { SockwatchError } from '../../errors';
import { decodeInetDiag, type DecodeResult, type InetDiagRow, type InodeSet } from './inet-diag-decode';
import { buildInetDiagDumpRequest, type InetDiagRequestOptions, type InetFamily } from './inet-diag-request';
import type { SockDiagRequests } from './sock-diag-requests';
import { AF_INET, AF_INET6, AF_UNSPEC } from './sock-diag-constants';

export type DumpOptions = Omit<InetDiagRequestOptions, 'family' | 'seq'>;

export interface FamilyDump {
  /** reply datagrams, one list per walk of the kernel's tables */
  replies: Buffer[][];
  /** walks the kernel did: 1 for both families at once, else one per family */
  walks: number;
}

/**
 * Dumps the TCP sockets of the asked families, both in one walk where the kernel serves the
 * older TCPDIAG_GETSOCK request (every kernel with sock_diag does; see buildInetDiagDumpRequest),
 * else one walk per family. A failed two-family dump is retried per family, and from then on
 * this socket's dumps go per family. The failure is not told apart (a kernel refusing the request,
 * or a timeout): either way the cost is one more walk per dump, never a wrong answer.
 */
export class FamilyDumper {
  private oneWalk = true;

  constructor(private readonly socket: Pick<SockDiagRequests, 'dump'>) {}

  async dump(families: ReadonlySet<InetFamily>, opts: DumpOptions): Promise<FamilyDump> {
    if (families.size === 0) return { replies: [], walks: 0 };
    if (families.size === 2 && this.oneWalk) {
      try {
        return { replies: [await this.socket.dump(buildInetDiagDumpRequest({ ...opts, family: AF_UNSPEC }))], walks: 1 };
      } catch {
        this.oneWalk = false;
      }
    }
    const replies: Buffer[][] = [];
    for (const family of [AF_INET, AF_INET6] as const) {
      if (families.has(family)) replies.push(await this.socket.dump(buildInetDiagDumpRequest({ ...opts, family })));
    }
    return { replies, walks: replies.length };
  }
}

export const BOTH_FAMILIES: ReadonlySet<InetFamily> = new Set<InetFamily>([AF_INET, AF_INET6]);

/**
 * The rows of a dump of `families` whose inode is wanted (all rows without `wantedInodes`),
 * each socket once: a table changing while walked can show a socket twice.
 */
export async function dumpTcp(dumper: FamilyDumper, families: ReadonlySet<InetFamily>, opts: DumpOptions, wantedInodes?: InodeSet): Promise<{ rows: InetDiagRow[]; walks: number }> {
  const { replies, walks } = await dumper.dump(families, opts);
  const rows: InetDiagRow[] = [];
  const seen = new Set<number>();
  for (const chunks of replies) {
    for (const row of checked(wantedInodes ? decodeInetDiag(chunks, { wantedInodes, modelTcpInfo: true }) : decodeInetDiag(chunks, { modelTcpInfo: true }))) {
      if (seen.has(row.inode)) continue;
      seen.add(row.inode);
      rows.push(row);
    }
  }
  return { rows, walks };
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
