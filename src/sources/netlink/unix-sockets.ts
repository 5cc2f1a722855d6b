// Which of the target's socket inodes are unix sockets (unix_diag exact lookups by inode). A unix
// socket never becomes TCP, so once told apart it needs no more TCP dumps to be accounted for:
// without this, every unix socket (a Node process's stdio pipes are socketpairs) keeps the
// netlink source dumping the host's TCP table at the second poll and at every periodic refresh.
import { HOST_LE, NLM_F_REQUEST, NLMSG_DONE, NLMSG_HDRLEN, SOCK_DIAG_BY_FAMILY } from './sock-diag-constants';
import { buildAckSentinel, newNlRequest } from './inet-diag-request';
import { walkNlmsgs } from './nlmsg-walk';
import type { SockDiagRequests } from './sock-diag-requests';

const AF_UNIX = 1;
/** sizeof(struct unix_diag_req): family, protocol, pad, states, ino, show, cookie[2] */
const UNIX_DIAG_REQ_LEN = 24;
/** the inode in struct unix_diag_msg: family, type, state, pad, then ino */
const UNIX_DIAG_MSG_INO = 4;
/** A few dozen unknown inodes at most in practice; a batch stays one datagram. */
const BATCH = 64;

/** One unix_diag exact lookup: the kernel finds the socket by inode (any cookie). */
export function buildUnixLookup(inode: number): Buffer {
  const { buf, dv } = newNlRequest(UNIX_DIAG_REQ_LEN, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST);
  const p = NLMSG_HDRLEN;
  buf[p] = AF_UNIX;
  dv.setUint32(p + 4, 0xffffffff, HOST_LE); // every state
  dv.setUint32(p + 8, inode >>> 0, HOST_LE);
  dv.setUint32(p + 16, 0xffffffff, HOST_LE); // INET_DIAG_NOCOOKIE
  dv.setUint32(p + 20, 0xffffffff, HOST_LE);
  return buf;
}

/** The inodes that replies to unix lookups name (errors, e.g. ENOENT for a non-unix inode, skipped). */
export function unixInodesIn(replies: readonly Uint8Array[]): number[] {
  const inodes: number[] = [];
  for (const buf of replies) {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    walkNlmsgs(dv, buf.length, (type, off, len) => {
      if (type === NLMSG_DONE) return true;
      // errors (ENOENT: not a unix socket) and anything else are not an answer to us
      if (type === SOCK_DIAG_BY_FAMILY && len >= NLMSG_HDRLEN + UNIX_DIAG_MSG_INO + 4 && buf[off + NLMSG_HDRLEN] === AF_UNIX) {
        inodes.push(dv.getUint32(off + NLMSG_HDRLEN + UNIX_DIAG_MSG_INO, HOST_LE));
      }
      return false;
    });
  }
  return inodes;
}

export class UnixSockets {
  private readonly unix = new Set<number>();
  /** inodes asked about and found not unix: not asked again */
  private readonly notUnix = new Set<number>();

  constructor(private readonly socket: Pick<SockDiagRequests, 'batch'>) {}

  has(inode: number): boolean {
    return this.unix.has(inode);
  }

  /**
   * Asks about the inodes not asked about before; forgets those the target no longer holds.
   * A failure (no unix_diag in this kernel) leaves them unknown: the TCP dumps go on as before.
   */
  async learn(inodes: Iterable<number>, held: { has(inode: number): boolean }): Promise<void> {
    for (const set of [this.unix, this.notUnix]) for (const i of set) if (!held.has(i)) set.delete(i);
    const ask: number[] = [];
    for (const i of inodes) if (!this.unix.has(i) && !this.notUnix.has(i)) ask.push(i);
    for (let at = 0; at < ask.length; at += BATCH) {
      const part = ask.slice(at, at + BATCH);
      let found: number[];
      try {
        found = unixInodesIn(await this.socket.batch(part.map(buildUnixLookup), buildAckSentinel()));
      } catch {
        return;
      }
      const wanted = new Set(part);
      for (const i of found) if (wanted.has(i)) this.unix.add(i);
      for (const i of part) if (!this.unix.has(i)) this.notUnix.add(i);
    }
  }
}
