// The one walk over the netlink messages of a datagram (struct nlmsghdr: u32 length, u16 type,
// u16 flags, u32 seq, u32 port), for every reader of sock_diag replies and for stamping requests.
import { HOST_LE, NLMSG_HDRLEN, nlmsgAlign } from './sock-diag-constants';

/** How a walk ended: the visitor stopped it, a length did not fit, or the messages ran out. */
export type WalkEnd = { how: 'stopped' } | { how: 'bad'; len: number; at: number } | { how: 'end'; trailing: number };

/**
 * Calls `each(type, off, len)` for every message in the first `end` bytes (`off`: where its
 * nlmsghdr starts, `len`: its nlmsg_len; the payload is at off + NLMSG_HDRLEN). A visitor that
 * returns true stops the walk. A message whose length is shorter than a header or runs past `end`
 * ends it as 'bad': what follows cannot be trusted.
 */
export function walkNlmsgs(dv: DataView, end: number, each: (type: number, off: number, len: number) => boolean | void): WalkEnd {
  let off = 0;
  while (off + NLMSG_HDRLEN <= end) {
    const len = dv.getUint32(off, HOST_LE);
    if (len < NLMSG_HDRLEN || off + len > end) return { how: 'bad', len, at: off };
    if (each(dv.getUint16(off + 4, HOST_LE), off, len) === true) return { how: 'stopped' };
    off += nlmsgAlign(len);
  }
  return { how: 'end', trailing: Math.max(0, end - off) };
}
