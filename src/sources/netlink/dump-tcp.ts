import { SockwatchError } from '../../errors';
import { decodeInetDiag, type DecodeResult, type InetDiagRow, type InodeSet } from './inet-diag-decode';
import { buildInetDiagDumpRequest, type InetFamily } from './inet-diag-request';
import type { SockDiagSocket } from './netlink-socket';

/**
 * Dump one family's TCP sockets in `states` (a stateMask) and decode the rows whose inode is wanted.
 * The dump is the whole host's table in those states; the inode set keeps decoding cheap.
 */
export async function dumpTcp(
  socket: SockDiagSocket,
  family: InetFamily,
  states: number,
  wantedInodes?: InodeSet,
  extensions?: number,
): Promise<InetDiagRow[]> {
  const chunks = await socket.dump(buildInetDiagDumpRequest({ family, states, ...(extensions === undefined ? {} : { extensions }) }));
  return checked(wantedInodes ? decodeInetDiag(chunks, { wantedInodes }) : decodeInetDiag(chunks));
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

