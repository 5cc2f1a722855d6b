// The one decoder of the tcp-life program's ring records (layout: RECORD in tcp-life-program.ts)
// into lifecycle events. Pure: kernel times stay CLOCK_MONOTONIC nanoseconds until `toMs` (the
// feed's clock) turns them into session time. A record that does not decode is counted by the
// caller, not guessed at.

import type { SocketLifecycleEvent } from '../../core/lifecycle-types';
import { tcpStateFromCode, type Endpoint } from '../../model';
import { formatIpv4Bytes, formatIpv6Groups } from '../procfs/ip-format';
import { KIND_ENDED, KIND_STARTED, RECORD } from './tcp-life-program';

const AF_INET = 2;
const AF_INET6 = 10;

/** Kernel CLOCK_MONOTONIC ns → session ms. */
export type KernelClock = (ns: bigint) => number;

/** The event a record holds, or a reason it holds none. */
export function decodeTcpLifeRecord(v: DataView, at: number, length: number, toMs: KernelClock): SocketLifecycleEvent | string {
  if (length < RECORD.size) return `record of ${length} bytes`;
  const kind = v.getUint8(at + RECORD.kind);
  const family = v.getUint16(at + RECORD.family, true);
  const pid = v.getUint32(at + RECORD.pid, true);
  if (kind !== KIND_STARTED && kind !== KIND_ENDED) return `record kind ${kind}`;
  if (family !== AF_INET && family !== AF_INET6) return `address family ${family}`;
  if (pid === 0 || pid > 0x3fffffff) return `pid ${pid}`;
  const v4 = family === AF_INET;
  const local = endpoint(v, at + (v4 ? RECORD.saddr : RECORD.saddrV6), v.getUint16(at + RECORD.sport, true), v4);
  const remote = endpoint(v, at + (v4 ? RECORD.daddr : RECORD.daddrV6), v.getUint16(at + RECORD.dport, true), v4);
  // every record passed the program's filter of watched processes: the owner is proven a member
  const base = { atMs: toMs(v.getBigUint64(at + RECORD.ns, true)), protocol: v4 ? ('tcp' as const) : ('tcp6' as const), local, remote, pid, member: true };
  if (kind === KIND_STARTED) return { kind: 'started', ...base };
  const startNs = v.getBigUint64(at + RECORD.startNs, true);
  const state = tcpStateFromCode(v.getUint8(at + RECORD.oldState));
  const cookie = v.getBigUint64(at + RECORD.cookie, true);
  const identity = cookie !== 0n ? cookie.toString() : startNs !== 0n ? ebpfSocketIdentity(startNs) : undefined;
  return {
    kind: 'ended',
    ...base,
    ...(identity === undefined ? {} : { cookie: identity }),
    ...(state === undefined ? {} : { state }),
    ...(startNs === 0n ? {} : { startedAtMs: toMs(startNs) }),
    totals: {
      bytesSent: Number(v.getBigUint64(at + RECORD.bytesSent, true)),
      bytesReceived: Number(v.getBigUint64(at + RECORD.bytesReceived, true)),
      segmentsSent: v.getUint32(at + RECORD.segsOut, true),
      segmentsReceived: v.getUint32(at + RECORD.segsIn, true),
    },
  };
}

/**
 * The kernel gives a socket its cookie only when something asks for it (a sock_diag dump: every
 * socket a poll saw has one); a connection that lived between two polls usually has none. Without
 * an identity, a client that reuses its port (one connection per request to a server that closes
 * first: the same tuple again within milliseconds) would make every such connection after the
 * first look like a late word about that one, and be dropped. The program saw this one start at
 * `startNs`: no other socket with its tuple did, and no kernel cookie (decimal) reads like this.
 */
export function ebpfSocketIdentity(startNs: bigint): string {
  return `ebpf:${startNs}`;
}

function endpoint(v: DataView, at: number, port: number, v4: boolean): Endpoint {
  if (v4) return { address: formatIpv4Bytes(v.getUint8(at), v.getUint8(at + 1), v.getUint8(at + 2), v.getUint8(at + 3)), port };
  const groups: number[] = [];
  // network order in the record: big-endian 16-bit groups
  for (let i = 0; i < 8; i++) groups.push(v.getUint16(at + 2 * i, false));
  return { address: formatIpv6Groups(groups), port };
}
