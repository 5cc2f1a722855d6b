// The sock_diag request socket the netlink source gets: direct libc calls through koffi
// (ffi-sock-diag-socket.ts). Where koffi cannot load there is none: the netlink source is not
// offered and procfs answers instead, said in one line (netlink-unavailable.ts).
import { FfiSockDiagSocket } from './ffi-sock-diag-socket';
import type { NetlinkDumpOptions, SockDiagRequests } from './sock-diag-requests';

/** A sock_diag request socket, opened now. Throws SockwatchError('not_supported') when it cannot be (callers fall back to procfs). */
export function openSockDiagSocket(opts: NetlinkDumpOptions = {}): SockDiagRequests {
  return new FfiSockDiagSocket(opts);
}
