import { tcpStateCode, type StateFilter } from '../../model';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  HOST_LE,
  INET_DIAG_INFO,
  INET_DIAG_REQ_LEN,
  INET_DIAG_REQ_V2_LEN,
  IPPROTO_TCP,
  INET_DIAG_SOCKID_LEN,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_HDRLEN,
  NLMSG_NOOP,
  SOCK_DIAG_BY_FAMILY,
  TCPDIAG_GETSOCK,
  nlmsgAlign,
} from './sock-diag-constants';
import { INET_DIAG_REQ_BYTECODE } from './inet-diag-bytecode';

/**
 * A zeroed request of `bodyLen` bytes after its nlmsghdr (length, type, flags, seq; port 0: the
 * kernel fills in the sender), in host byte order as netlink wants. Every request builder's header.
 */
export function newNlRequest(bodyLen: number, type: number, flags: number, seq = 0): { buf: Buffer; dv: DataView } {
  const buf = Buffer.alloc(NLMSG_HDRLEN + bodyLen);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setUint32(0, buf.length, HOST_LE);
  dv.setUint16(4, type, HOST_LE);
  dv.setUint16(6, flags, HOST_LE);
  dv.setUint32(8, seq >>> 0, HOST_LE);
  return { buf, dv };
}

const NLA_HDRLEN = 4;

export type InetFamily = typeof AF_INET | typeof AF_INET6;
/** What a dump may ask for: one family, or both in one walk (AF_UNSPEC, see buildInetDiagDumpRequest). */
export type DumpFamily = InetFamily | typeof AF_UNSPEC;

/** All states, including ones our model has no name for: 'all' must not hide anything. */
export const ALL_STATES_MASK = 0xffffffff;

/**
 * Every state a socket that holds an fd can be in: TIME_WAIT and NEW_SYN_RECV entries never have
 * an inode (no process holds them), so a dump that learns the target's sockets skips them.
 */
export const FD_STATES_MASK = (ALL_STATES_MASK & ~(1 << 6) & ~(1 << 12)) >>> 0;

/**
 * The kernel walks only the hash tables the mask asks for (a LISTEN-only mask never touches the
 * established table), which is why the filter is applied there rather than after decoding.
 */
export function stateMask(filter: StateFilter): number {
  if (filter === 'all') return ALL_STATES_MASK;
  let mask = 0;
  for (const state of filter) mask |= 1 << tcpStateCode(state);
  return mask >>> 0;
}

export interface InetDiagRequestOptions {
  family: DumpFamily;
  /** from stateMask(); 0 asks for nothing (the kernel answers with DONE alone) */
  states: number;
  /** nlmsg_seq; the socket wrapper overwrites it with its own */
  seq?: number;
  /** idiag_ext bitmask; default asks for INET_DIAG_INFO (struct tcp_info) */
  extensions?: number;
  /** a kernel-side filter from buildPortFilterBytecode (sent as INET_DIAG_REQ_BYTECODE) */
  bytecode?: Uint8Array;
}

export const EXT_TCP_INFO = 1 << (INET_DIAG_INFO - 1);

/**
 * nlmsghdr + inet_diag_req_v2 (SOCK_DIAG_BY_FAMILY) for one family, in host byte order as netlink
 * wants. For AF_UNSPEC: nlmsghdr + the older inet_diag_req (TCPDIAG_GETSOCK), whose dump the
 * kernel runs with AF_UNSPEC, i.e. both families in one walk of the tables instead of two (the
 * walk is a dump's kernel cost; see docs/performance.md). Same attributes, same reply messages (typed
 * TCPDIAG_GETSOCK), same bytecode filter.
 */
export function buildInetDiagDumpRequest(opts: InetDiagRequestOptions): Buffer {
  const bc = opts.bytecode;
  const attrLen = bc === undefined ? 0 : NLA_HDRLEN + bc.length;
  const legacy = opts.family === AF_UNSPEC;
  const reqLen = legacy ? INET_DIAG_REQ_LEN : INET_DIAG_REQ_V2_LEN;
  const { buf, dv } = newNlRequest(reqLen + nlmsgAlign(attrLen), legacy ? TCPDIAG_GETSOCK : SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, opts.seq);
  const le = HOST_LE;
  const p = NLMSG_HDRLEN;
  const ext = opts.extensions ?? EXT_TCP_INFO;
  // id (sport, dport, addresses, if, cookie) stays zero: match everything.
  if (legacy) {
    // family (ignored by the dump: AF_UNSPEC), src_len, dst_len, ext, id[48], states, dbs
    buf[p] = AF_UNSPEC;
    buf[p + 3] = ext;
    dv.setUint32(p + 4 + INET_DIAG_SOCKID_LEN, opts.states >>> 0, le);
  } else {
    buf[p] = opts.family;
    buf[p + 1] = IPPROTO_TCP;
    buf[p + 2] = ext;
    dv.setUint32(p + 4, opts.states >>> 0, le);
  }
  if (bc !== undefined) {
    const a = NLMSG_HDRLEN + reqLen;
    dv.setUint16(a, attrLen, le);
    dv.setUint16(a + 2, INET_DIAG_REQ_BYTECODE, le);
    buf.set(bc, a + NLA_HDRLEN);
  }
  return buf;
}

/**
 * One exact lookup (no NLM_F_DUMP): the kernel finds the socket by its id (ports, addresses,
 * interface, cookie — the 48-byte inet_diag_sockid copied from an earlier reply) in its hash
 * tables, O(1), and answers with one inet_diag_msg, or NLMSG_ERROR ENOENT when no socket with
 * that tuple and cookie exists any more (the cookie keeps a listener or a new socket that took
 * the tuple from answering for a closed one). The state mask does not apply to exact lookups.
 */
export function buildInetDiagExactRequest(family: InetFamily, sockId: Uint8Array, extensions = EXT_TCP_INFO): Buffer {
  if (sockId.length !== INET_DIAG_SOCKID_LEN) throw new RangeError(`inet_diag_sockid is ${INET_DIAG_SOCKID_LEN} bytes, got ${sockId.length}`);
  const { buf, dv } = newNlRequest(INET_DIAG_REQ_V2_LEN, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST);
  const p = NLMSG_HDRLEN;
  buf[p] = family;
  buf[p + 1] = IPPROTO_TCP;
  buf[p + 2] = extensions;
  dv.setUint32(p + 4, ALL_STATES_MASK, HOST_LE);
  buf.set(sockId, p + 8);
  return buf;
}

/**
 * NLMSG_NOOP with NLM_F_ACK: the kernel handles a datagram's messages in order and acks this one
 * (NLMSG_ERROR, errno 0) after answering all before it, so its ack marks the end of a batch.
 */
export function buildAckSentinel(): Buffer {
  return newNlRequest(0, NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK).buf;
}
