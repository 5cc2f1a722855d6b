// Numbers from linux/netlink.h, linux/sock_diag.h and linux/inet_diag.h. They are kernel ABI,
// stable since the sock_diag interface appeared (3.3); shared by the request builder, the
// decoder and the socket wrapper so that each one does not grow its own copy.

export const NETLINK_SOCK_DIAG = 4;

export const NLMSG_HDRLEN = 16;

/**
 * sock_diag multicast groups (linux/sock_diag.h, enum sknetlink_groups): the kernel sends each
 * TCP socket it destroys to these, as an inet_diag_msg with attributes (what `ss -E` reads).
 * Group numbers, not bitmasks: they are joined with NETLINK_ADD_MEMBERSHIP.
 */
export const SKNLGRP_INET_TCP_DESTROY = 1;
export const SKNLGRP_INET6_TCP_DESTROY = 3;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const SOCK_DIAG_BY_FAMILY = 20;
/**
 * The pre-sock_diag request type (linux/inet_diag.h, still served): its dump has no family field
 * the kernel honours (it asks for AF_UNSPEC), so one walk of the TCP tables returns IPv4 and IPv6
 * sockets alike, where SOCK_DIAG_BY_FAMILY needs a walk per family. Replies carry this type.
 */
export const TCPDIAG_GETSOCK = 18;

/** Both message types whose payload is an inet_diag_msg. */
export function isInetDiagMsgType(type: number): boolean {
  return type === SOCK_DIAG_BY_FAMILY || type === TCPDIAG_GETSOCK;
}

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
/** NLM_F_ROOT | NLM_F_MATCH */
export const NLM_F_DUMP = 0x300;
/** The kernel sets this on a dump whose table changed while it was walked. */
export const NLM_F_DUMP_INTR = 0x10;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;

/** sizeof(struct inet_diag_req): family, src_len, dst_len, ext, sockid, states, dbs */
export const INET_DIAG_REQ_LEN = 60;
/** sizeof(struct inet_diag_req_v2) */
export const INET_DIAG_REQ_V2_LEN = 56;
/** sizeof(struct inet_diag_sockid): sport, dport, src[4], dst[4], if, cookie[2] */
export const INET_DIAG_SOCKID_LEN = 48;
/** sizeof(struct inet_diag_msg) */
export const INET_DIAG_MSG_LEN = 72;

export const INET_DIAG_MEMINFO = 1;
export const INET_DIAG_INFO = 2;

/** The attribute type lives in the low 14 bits; the top two are NLA_F_NESTED / NLA_F_NET_BYTEORDER. */
export const NLA_TYPE_MASK = 0x3fff;

export function nlmsgAlign(len: number): number {
  return (len + 3) & ~3;
}

/** Netlink speaks the host's byte order; ports and addresses inside are network order. */
export const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
