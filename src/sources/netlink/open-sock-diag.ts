// Which sock_diag request socket the netlink source gets: direct libc calls through koffi
// (ffi-sock-diag-socket.ts) where they load, else the `netlink` package's addon (netlink-socket.ts).
// Both answer the same requests with the same datagrams; the first costs far less per datagram.
import { FfiSockDiagSocket } from './ffi-sock-diag-socket';
import { libcNetlinkAvailable } from './libc-netlink';
import { SockDiagSocket } from './netlink-socket';
import type { NetlinkDumpOptions, SockDiagRequests } from './sock-diag-requests';

/**
 * A sock_diag request socket, opened now. Throws SockwatchError('not_supported') when neither
 * implementation can open one (callers fall back to procfs).
 */
export function openSockDiagSocket(opts: NetlinkDumpOptions = {}): SockDiagRequests {
  const io = opts.io ?? (libcNetlinkAvailable() ? 'ffi' : 'addon');
  if (io === 'ffi') {
    try {
      return new FfiSockDiagSocket(opts);
    } catch (e) {
      // koffi loaded but the socket did not open through it: the addon may still open one;
      // only an explicit 'ffi' insists
      if (opts.io === 'ffi') throw e;
    }
  }
  return new SockDiagSocket(opts);
}
