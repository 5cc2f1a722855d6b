// Which ports a kernel-side filtered dump asks for, so that it returns the target's known
// sockets — and, where possible, its next ones — with few foreign sockets.
import { MAX_FILTER_RANGES, portRanges, type PortFilter } from './inet-diag-bytecode';

export interface FilterSocket {
  localPort: number;
  remotePort: number;
  listening: boolean;
}

/**
 * Service ports cover many sockets at once and also match the next connection to or from the
 * same service: a listener's port (every connection it accepts has it as local port) and a
 * remote port shared by two or more connections (a client's backend). Every other socket is
 * covered by its own local port. So a server's filter is its listening ports, a client's its
 * backends' ports, and only one-off connections cost a range each.
 *
 * `remoteAllowed` false leaves remote ports out: set when the last filtered dump showed many
 * foreign sockets, i.e. other processes talk to the same remote ports.
 */
export function planPortFilter(sockets: Iterable<FilterSocket>, remoteAllowed: boolean): PortFilter {
  const list = [...sockets];
  const local = new Set<number>();
  for (const s of list) if (s.listening) local.add(s.localPort);
  const remote = new Set<number>();
  if (remoteAllowed) {
    const seen = new Set<number>();
    for (const s of list) {
      if (s.listening || s.remotePort === 0) continue;
      if (seen.has(s.remotePort)) remote.add(s.remotePort);
      else seen.add(s.remotePort);
    }
  }
  for (const s of list) if (!local.has(s.localPort) && !remote.has(s.remotePort)) local.add(s.localPort);
  const remoteRanges = portRanges(remote, Math.floor(MAX_FILTER_RANGES / 2));
  return { local: portRanges(local, MAX_FILTER_RANGES - remoteRanges.length), remote: remoteRanges };
}
