// Decodes a sock_diag dump reply (a run of nlmsghdr-framed inet_diag_msg records) into rows.
// It runs every poll over the whole host's socket table, so the common path per message is:
// read length, type and inode; skip if the inode is not wanted. Only wanted rows pay for address
// formatting and tcp_info decoding. Malformed input never throws: the problem is reported as a
// value and decoding stops there, so a caller can still use the rows read before it.

import { walkNlmsgs } from './nlmsg-walk';
import {
  HOST_LE,
  INET_DIAG_INFO,
  INET_DIAG_MSG_LEN,
  INET_DIAG_SOCKID_LEN,
  NLA_TYPE_MASK,
  NLM_F_DUMP_INTR,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  AF_INET,
  isInetDiagMsgType,
  nlmsgAlign,
} from './sock-diag-constants';
import { decodeTcpInfo, decodeTcpInfoForModel, type TcpInfo } from './tcp-info';
import { formatIpv4Bytes, formatIpv6Groups } from '../procfs/ip-format';
import type { Connection, Endpoint } from '../../model';

const ENOENT = 2;

/** A Set or a Map keyed by inode: all the decoder asks is membership. */
export interface InodeSet {
  has(inode: number): boolean;
}

/** One inet_diag_msg, host-order numbers, formatted addresses. */
export interface InetDiagRow {
  family: number;
  /** kernel TCP state code (model.tcpStateFromCode) */
  state: number;
  /** idiag_timer: 0 none, 1 retransmit, 2 keepalive, 3 time_wait, 4 zero-window probe */
  timer: number;
  /** idiag_retrans: retransmits for timer 1, probes sent for timers 2 and 4 */
  retrans: number;
  srcAddress: string;
  srcPort: number;
  dstAddress: string;
  dstPort: number;
  ifindex: number;
  /** 64-bit socket cookie as a decimal string */
  cookie: string;
  /** ms until the timer fires */
  expiresMs: number;
  rqueue: number;
  wqueue: number;
  uid: number;
  inode: number;
  /**
   * The raw 48-byte inet_diag_sockid (ports, addresses, interface, cookie) as the kernel sent it:
   * exactly what an exact lookup of this socket puts in its request (buildInetDiagExactRequest).
   */
  sockId: Uint8Array;
  /** absent when the reply carried no INET_DIAG_INFO attribute (TIME_WAIT, NEW_SYN_RECV, or not asked) */
  tcpInfo?: TcpInfo;
  /**
   * The connection's endpoint objects, built by rowToConnection once per socket and carried from
   * poll to poll with the decoded strings: every poll's Connection shares them (never mutated).
   */
  endpoints?: { local: Endpoint; remote: Endpoint } | undefined;
  /** the poller's Connection for this socket, refreshed in place each poll (polledConnection) */
  connection?: Connection | undefined;
}

export interface DecodeOptions {
  /** keep only rows whose inode is in this set (inode 0, i.e. TIME_WAIT and request socks, never is) */
  wantedInodes?: InodeSet;
  /**
   * Replies to a batch of exact lookups ended by an ack sentinel: an NLMSG_ERROR with an errno
   * answers one lookup (ENOENT: that socket is gone) and decoding goes on; the ack (errno 0) is
   * the end. Without it, the first NLMSG_ERROR ends decoding, as it ends a dump.
   */
  batch?: boolean;
  /**
   * Rows of an earlier poll by inode: a row whose 48-byte sockId is unchanged reuses their
   * formatted addresses, cookie and sockId copy instead of building new ones (most of a steady
   * poll's decoding cost and garbage, for a target of thousands of connections). When the new
   * reply carries tcp_info, the earlier row object itself is updated and returned: a caller
   * passing `previous` must not keep those rows as a record of the earlier poll.
   */
  previous?: ReadonlyMap<number, InetDiagRow>;
  /**
   * tcpInfo holds only the fields rowToConnection reads (decodeTcpInfoForModel), not the whole
   * struct: for the source's every-poll decoding, where the full object was most of the cost.
   */
  modelTcpInfo?: boolean;
  /**
   * Called for each well-formed inet_diag message whose inode is not in wantedInodes, with the
   * message's bytes (header included; valid only during the call: copy what is kept).
   */
  unwanted?: UnwantedMessage;
}

export type UnwantedMessage = (inode: number, message: Uint8Array) => void;

export interface DecodeResult {
  rows: InetDiagRow[];
  /** NLMSG_DONE was seen: the dump is complete */
  done: boolean;
  /** the kernel answered NLMSG_ERROR with this (positive) errno */
  errno?: number;
  /** the dump changed while the kernel walked it; rows may miss or repeat a socket */
  interrupted: boolean;
  /** why decoding stopped early on malformed input */
  problem?: string;
  /** batch mode only: lookups answered with ENOENT (no such socket any more) */
  missing?: number;
  /** well-formed inet_diag messages seen, wanted or not: for a dump, the size of the table walked */
  messages: number;
}

/**
 * Decode one or more receive buffers (netlink never splits a message across datagrams, so each
 * buffer is decoded on its own, without concatenation).
 */
export function decodeInetDiag(
  input: Uint8Array | readonly Uint8Array[],
  opts: DecodeOptions = {},
): DecodeResult {
  const decoder = new InetDiagDecoder(opts);
  const buffers = input instanceof Uint8Array ? [input] : input;
  for (const buf of buffers) {
    if (decoder.finished) break;
    decoder.push(buf);
  }
  return decoder.result;
}

/**
 * decodeInetDiag one datagram at a time, as a reply arrives: a datagram is decoded while it is
 * still in the receive memory, so a dump's replies are never copied or kept (at 20,000
 * connections they were megabytes per poll). Rows copy what they keep.
 */
export class InetDiagDecoder {
  readonly result: DecodeResult = { rows: [], done: false, interrupted: false, messages: 0 };
  private readonly tcpInfoOf: TcpInfoDecoder;

  constructor(private readonly opts: DecodeOptions = {}) {
    if (opts.batch === true) this.result.missing = 0;
    this.tcpInfoOf = opts.modelTcpInfo === true ? decodeTcpInfoForModel : decodeTcpInfo;
  }

  /** The end, an error or malformed input was seen: later datagrams are ignored. */
  get finished(): boolean {
    const r = this.result;
    return r.done || r.errno !== undefined || r.problem !== undefined;
  }

  push(buf: Uint8Array): void {
    if (this.finished) return;
    const o = this.opts;
    decodeBuffer(buf, o.wantedInodes, o.batch === true, o.previous, this.tcpInfoOf, o.unwanted, this.result);
  }
}

function decodeBuffer(
  buf: Uint8Array,
  wanted: InodeSet | undefined,
  batch: boolean,
  previous: ReadonlyMap<number, InetDiagRow> | undefined,
  tcpInfoOf: TcpInfoDecoder,
  unwanted: UnwantedMessage | undefined,
  out: DecodeResult,
): void {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const end = buf.byteLength;
  // The visitor returns true where the decoding ends (done, an error, a short message).
  const walked = walkNlmsgs(dv, end, (type, off, len) => {
    if (dv.getUint16(off + 6, HOST_LE) & NLM_F_DUMP_INTR) out.interrupted = true;
    const p = off + NLMSG_HDRLEN;
    const payloadLen = len - NLMSG_HDRLEN;
    if (isInetDiagMsgType(type)) {
      if (payloadLen < INET_DIAG_MSG_LEN) {
        out.problem = `inet_diag_msg of ${payloadLen} bytes (need ${INET_DIAG_MSG_LEN})`;
        return true;
      }
      const inode = dv.getUint32(p + 68, HOST_LE);
      out.messages++;
      if (wanted !== undefined && !wanted.has(inode)) {
        unwanted?.(inode, buf.subarray(off, off + len));
        return false;
      }
      out.rows.push(decodeRow(buf, dv, p, payloadLen, inode, previous?.get(inode), tcpInfoOf));
    } else if (type === NLMSG_DONE) {
      out.done = true;
      return true;
    } else if (type === NLMSG_ERROR) {
      // struct nlmsgerr starts with a negative errno; 0 would be an ACK, which a dump never asks for
      const err = payloadLen >= 4 ? dv.getInt32(p, HOST_LE) : 0;
      if (batch && err !== 0) {
        if (err === -ENOENT) out.missing = (out.missing ?? 0) + 1;
        else out.errno ??= -err;
        return false;
      }
      if (err === 0) {
        out.done = true;
      } else {
        out.errno = -err;
      }
      return true;
    }
    // NLMSG_NOOP and anything unknown: skip
    return false;
  });
  if (walked.how === 'bad') out.problem = `bad nlmsg_len ${walked.len} at offset ${walked.at} of ${end}`;
  else if (walked.how === 'end' && walked.trailing > 0) out.problem = `${walked.trailing} trailing bytes after the last message`;
}

function sameSockId(buf: Uint8Array, at: number, sockId: Uint8Array): boolean {
  for (let i = 0; i < INET_DIAG_SOCKID_LEN; i++) if (buf[at + i] !== sockId[i]) return false;
  return true;
}

/** `into`: an earlier row's tcp_info object the decoder may refill instead of building one */
type TcpInfoDecoder = (dv: DataView, off: number, len: number, into?: TcpInfo) => TcpInfo;

function decodeRow(
  buf: Uint8Array,
  dv: DataView,
  p: number,
  payloadLen: number,
  inode: number,
  prev: InetDiagRow | undefined,
  tcpInfoOf: TcpInfoDecoder,
): InetDiagRow {
  const family = buf[p]!;
  const attrsEnd = p + payloadLen;
  let infoAt = -1;
  let infoLen = 0;
  let a = p + nlmsgAlign(INET_DIAG_MSG_LEN);
  while (a + 4 <= attrsEnd) {
    const alen = dv.getUint16(a, HOST_LE);
    if (alen < 4 || a + alen > attrsEnd) break; // a broken attribute list costs only the attributes
    if ((dv.getUint16(a + 2, HOST_LE) & NLA_TYPE_MASK) === INET_DIAG_INFO) {
      infoAt = a + 4;
      infoLen = alen - 4;
    }
    a += nlmsgAlign(alen);
  }
  const same = prev !== undefined && prev.family === family && sameSockId(buf, p + 4, prev.sockId);

  // The same socket as last poll, with tcp_info: its row object is updated in place (and gets
  // tcp_info when the earlier row, from a dump without it, had none), so a steady poll of
  // thousands of connections leaves no row garbage and a first poll holds one row per socket.
  // Rows never leave the netlink source (rowToConnection copies what it needs), so nothing else
  // sees the update.
  if (same && infoAt >= 0) {
    prev.state = buf[p + 1]!;
    prev.timer = buf[p + 2]!;
    prev.retrans = buf[p + 3]!;
    prev.expiresMs = dv.getUint32(p + 52, HOST_LE);
    prev.rqueue = dv.getUint32(p + 56, HOST_LE);
    prev.wqueue = dv.getUint32(p + 60, HOST_LE);
    prev.uid = dv.getUint32(p + 64, HOST_LE);
    prev.tcpInfo = tcpInfoOf(dv, infoAt, infoLen, prev.tcpInfo);
    return prev;
  }

  let srcAddress: string;
  let dstAddress: string;
  let cookie: string;
  let sockId: Uint8Array;
  let endpoints: InetDiagRow['endpoints'];
  if (same) {
    ({ srcAddress, dstAddress, cookie, sockId, endpoints } = prev);
  } else {
    const v4 = family === AF_INET;
    srcAddress = v4 ? formatV4(buf, p + 8) : formatV6(buf, p + 8);
    dstAddress = v4 ? formatV4(buf, p + 24) : formatV6(buf, p + 24);
    // the kernel stores the u64 cookie as two host-order u32 halves, low half first
    const cookieLo = dv.getUint32(p + 44, HOST_LE);
    const cookieHi = dv.getUint32(p + 48, HOST_LE);
    cookie = ((BigInt(cookieHi) << 32n) | BigInt(cookieLo)).toString();
    // A copy (a view would keep the whole datagram alive for as long as the row is kept), from
    // Node's shared pool: an ArrayBuffer of its own per socket cost more than the 48 bytes.
    sockId = Buffer.allocUnsafe(INET_DIAG_SOCKID_LEN);
    sockId.set(buf.subarray(p + 4, p + 4 + INET_DIAG_SOCKID_LEN));
  }
  const row: InetDiagRow = {
    family,
    state: buf[p + 1]!,
    timer: buf[p + 2]!,
    retrans: buf[p + 3]!,
    srcPort: dv.getUint16(p + 4, false),
    dstPort: dv.getUint16(p + 6, false),
    srcAddress,
    dstAddress,
    ifindex: dv.getUint32(p + 40, HOST_LE),
    cookie,
    expiresMs: dv.getUint32(p + 52, HOST_LE),
    rqueue: dv.getUint32(p + 56, HOST_LE),
    wqueue: dv.getUint32(p + 60, HOST_LE),
    uid: dv.getUint32(p + 64, HOST_LE),
    inode,
    sockId,
    endpoints,
  };
  if (infoAt >= 0) row.tcpInfo = tcpInfoOf(dv, infoAt, infoLen);
  return row;
}

// Addresses arrive in network order (here and in the fd-socket iterator's records); the procfs
// formatters give every source one spelling.
export function formatV4(b: Uint8Array, o: number): string {
  return formatIpv4Bytes(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!);
}

export function formatV6(b: Uint8Array, o: number): string {
  const groups = new Array<number>(8);
  for (let i = 0; i < 8; i++) groups[i] = (b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!;
  return formatIpv6Groups(groups);
}
