// struct tcp_info (linux/tcp.h), read by offset. The kernel sends as much of the struct as it
// knows, so an older kernel's attribute is shorter: a field past the end is left absent rather
// than read as zero (zero would be a plausible lie for rtt or bytes_sent).

import { HOST_LE } from './sock-diag-constants';

export interface TcpInfo {
  state?: number;
  caState?: number;
  retransmits?: number;
  probes?: number;
  backoff?: number;
  options?: number;
  sndWscale?: number;
  rcvWscale?: number;
  deliveryRateAppLimited?: boolean;
  /** µs, like every tcp_info time except the last_* ones (ms) */
  rto?: number;
  ato?: number;
  sndMss?: number;
  rcvMss?: number;
  unacked?: number;
  sacked?: number;
  lost?: number;
  retrans?: number;
  fackets?: number;
  /** ms since */
  lastDataSent?: number;
  lastAckSent?: number;
  lastDataRecv?: number;
  lastAckRecv?: number;
  pmtu?: number;
  rcvSsthresh?: number;
  /** µs */
  rtt?: number;
  /** µs */
  rttvar?: number;
  sndSsthresh?: number;
  sndCwnd?: number;
  advmss?: number;
  reordering?: number;
  rcvRtt?: number;
  rcvSpace?: number;
  totalRetrans?: number;
  // u64 fields become Numbers: exact below 2^53 (8 PiB); an "unlimited" pacing rate (~0) rounds.
  pacingRate?: number;
  maxPacingRate?: number;
  bytesAcked?: number;
  bytesReceived?: number;
  segsOut?: number;
  segsIn?: number;
  notsentBytes?: number;
  minRtt?: number;
  dataSegsIn?: number;
  dataSegsOut?: number;
  deliveryRate?: number;
  busyTime?: number;
  rwndLimited?: number;
  sndbufLimited?: number;
  delivered?: number;
  deliveredCe?: number;
  bytesSent?: number;
  bytesRetrans?: number;
  dsackDups?: number;
  reordSeen?: number;
  rcvOoopack?: number;
  sndWnd?: number;
  rcvWnd?: number;
  rehash?: number;
}

type NumericField = Exclude<keyof TcpInfo, 'deliveryRateAppLimited' | 'sndWscale' | 'rcvWscale'>;

/** [field, offset, size in bytes]; offsets checked against offsetof() on linux 6.x headers. */
const FIELDS: ReadonlyArray<readonly [NumericField, number, 1 | 4 | 8]> = [
  ['state', 0, 1],
  ['caState', 1, 1],
  ['retransmits', 2, 1],
  ['probes', 3, 1],
  ['backoff', 4, 1],
  ['options', 5, 1],
  ['rto', 8, 4],
  ['ato', 12, 4],
  ['sndMss', 16, 4],
  ['rcvMss', 20, 4],
  ['unacked', 24, 4],
  ['sacked', 28, 4],
  ['lost', 32, 4],
  ['retrans', 36, 4],
  ['fackets', 40, 4],
  ['lastDataSent', 44, 4],
  ['lastAckSent', 48, 4],
  ['lastDataRecv', 52, 4],
  ['lastAckRecv', 56, 4],
  ['pmtu', 60, 4],
  ['rcvSsthresh', 64, 4],
  ['rtt', 68, 4],
  ['rttvar', 72, 4],
  ['sndSsthresh', 76, 4],
  ['sndCwnd', 80, 4],
  ['advmss', 84, 4],
  ['reordering', 88, 4],
  ['rcvRtt', 92, 4],
  ['rcvSpace', 96, 4],
  ['totalRetrans', 100, 4],
  ['pacingRate', 104, 8],
  ['maxPacingRate', 112, 8],
  ['bytesAcked', 120, 8],
  ['bytesReceived', 128, 8],
  ['segsOut', 136, 4],
  ['segsIn', 140, 4],
  ['notsentBytes', 144, 4],
  ['minRtt', 148, 4],
  ['dataSegsIn', 152, 4],
  ['dataSegsOut', 156, 4],
  ['deliveryRate', 160, 8],
  ['busyTime', 168, 8],
  ['rwndLimited', 176, 8],
  ['sndbufLimited', 184, 8],
  ['delivered', 192, 4],
  ['deliveredCe', 196, 4],
  ['bytesSent', 200, 8],
  ['bytesRetrans', 208, 8],
  ['dsackDups', 216, 4],
  ['reordSeen', 220, 4],
  ['rcvOoopack', 224, 4],
  ['sndWnd', 228, 4],
  ['rcvWnd', 232, 4],
  ['rehash', 236, 4],
];

/** Offsets the row mapper needs; exported so tests can build short attributes at real boundaries. */
export const TCP_INFO_OFFSETS = {
  lastDataRecvEnd: 56,
  totalRetransEnd: 104,
  bytesReceivedEnd: 136,
  dataSegsOutEnd: 160,
  bytesSentEnd: 208,
} as const;

/** Decode `len` bytes of tcp_info starting at `off` in `dv`. */
export function decodeTcpInfo(dv: DataView, off: number, len: number): TcpInfo {
  return len >= FULL_LEN ? decodeFull(dv, off) : decodePartial(dv, off, len);
}

/**
 * Only the fields rowToConnection reads (retransmits, probes, bytes, data segments, rtt, idle times), for the
 * source's per-poll decoding: the full struct is ~57 properties per row, and at tens of
 * thousands of rows per poll building them was the largest single JS cost in profiles (plus
 * the garbage). Same presence rule as decodeTcpInfo: a field past the attribute's end is absent.
 */
export function decodeTcpInfoForModel(dv: DataView, off: number, len: number, into?: TcpInfo): TcpInfo {
  if (len < MODEL_LEN) return decodePartial(dv, off, len); // old kernels: rare, keep one code path for the rule
  // An earlier poll's object for the same socket is refilled: at tens of thousands of rows, a
  // new one per row per poll lived until the next poll and was promoted by the scavenger.
  const o = into instanceof ModelTcpInfo ? into : new ModelTcpInfo();
  const le = HOST_LE;
  o.retransmits = dv.getUint8(off + 2);
  o.probes = dv.getUint8(off + 3);
  o.lastDataSent = dv.getUint32(off + 44, le);
  o.lastDataRecv = dv.getUint32(off + 52, le);
  o.rtt = dv.getUint32(off + 68, le);
  o.rttvar = dv.getUint32(off + 72, le);
  o.totalRetrans = dv.getUint32(off + 100, le);
  o.bytesAcked = readU64(dv, off + 120);
  o.bytesReceived = readU64(dv, off + 128);
  o.dataSegsIn = dv.getUint32(off + 152, le);
  o.dataSegsOut = dv.getUint32(off + 156, le);
  o.bytesSent = readU64(dv, off + 200);
  return o;
}

/** What decodeTcpInfoForModel fills: exactly its fields, so an instance can be refilled whole. */
class ModelTcpInfo implements TcpInfo {
  retransmits = 0;
  probes = 0;
  lastDataSent = 0;
  lastDataRecv = 0;
  rtt = 0;
  rttvar = 0;
  totalRetrans = 0;
  bytesAcked = 0;
  bytesReceived = 0;
  dataSegsIn = 0;
  dataSegsOut = 0;
  bytesSent = 0;
}

/** Through tcpi_bytes_sent (linux 4.19+): every field decodeTcpInfoForModel reads is present. */
const MODEL_LEN = 208;

/** Everything up to and including tcpi_rehash (linux 6.2+). */
const FULL_LEN = 240;

// One object literal keeps one hidden class for every row; the table-driven path below adds
// properties one by one and was several times slower over thousands of rows.
function decodeFull(dv: DataView, o: number): TcpInfo {
  const le = HOST_LE;
  const w = dv.getUint8(o + 6);
  const b7 = dv.getUint8(o + 7);
  return {
    state: dv.getUint8(o),
    caState: dv.getUint8(o + 1),
    retransmits: dv.getUint8(o + 2),
    probes: dv.getUint8(o + 3),
    backoff: dv.getUint8(o + 4),
    options: dv.getUint8(o + 5),
    sndWscale: le ? w & 0xf : w >> 4,
    rcvWscale: le ? w >> 4 : w & 0xf,
    deliveryRateAppLimited: (le ? b7 & 1 : b7 & 0x80) !== 0,
    rto: dv.getUint32(o + 8, le),
    ato: dv.getUint32(o + 12, le),
    sndMss: dv.getUint32(o + 16, le),
    rcvMss: dv.getUint32(o + 20, le),
    unacked: dv.getUint32(o + 24, le),
    sacked: dv.getUint32(o + 28, le),
    lost: dv.getUint32(o + 32, le),
    retrans: dv.getUint32(o + 36, le),
    fackets: dv.getUint32(o + 40, le),
    lastDataSent: dv.getUint32(o + 44, le),
    lastAckSent: dv.getUint32(o + 48, le),
    lastDataRecv: dv.getUint32(o + 52, le),
    lastAckRecv: dv.getUint32(o + 56, le),
    pmtu: dv.getUint32(o + 60, le),
    rcvSsthresh: dv.getUint32(o + 64, le),
    rtt: dv.getUint32(o + 68, le),
    rttvar: dv.getUint32(o + 72, le),
    sndSsthresh: dv.getUint32(o + 76, le),
    sndCwnd: dv.getUint32(o + 80, le),
    advmss: dv.getUint32(o + 84, le),
    reordering: dv.getUint32(o + 88, le),
    rcvRtt: dv.getUint32(o + 92, le),
    rcvSpace: dv.getUint32(o + 96, le),
    totalRetrans: dv.getUint32(o + 100, le),
    pacingRate: readU64(dv, o + 104),
    maxPacingRate: readU64(dv, o + 112),
    bytesAcked: readU64(dv, o + 120),
    bytesReceived: readU64(dv, o + 128),
    segsOut: dv.getUint32(o + 136, le),
    segsIn: dv.getUint32(o + 140, le),
    notsentBytes: dv.getUint32(o + 144, le),
    minRtt: dv.getUint32(o + 148, le),
    dataSegsIn: dv.getUint32(o + 152, le),
    dataSegsOut: dv.getUint32(o + 156, le),
    deliveryRate: readU64(dv, o + 160),
    busyTime: readU64(dv, o + 168),
    rwndLimited: readU64(dv, o + 176),
    sndbufLimited: readU64(dv, o + 184),
    delivered: dv.getUint32(o + 192, le),
    deliveredCe: dv.getUint32(o + 196, le),
    bytesSent: readU64(dv, o + 200),
    bytesRetrans: readU64(dv, o + 208),
    dsackDups: dv.getUint32(o + 216, le),
    reordSeen: dv.getUint32(o + 220, le),
    rcvOoopack: dv.getUint32(o + 224, le),
    sndWnd: dv.getUint32(o + 228, le),
    rcvWnd: dv.getUint32(o + 232, le),
    rehash: dv.getUint32(o + 236, le),
  };
}

/** Older kernels: only the fields the attribute covers. */
function decodePartial(dv: DataView, off: number, len: number): TcpInfo {
  const info: TcpInfo = {};
  for (const [name, at, size] of FIELDS) {
    if (at + size > len) break; // FIELDS is sorted by offset
    const p = off + at;
    info[name] =
      size === 1 ? dv.getUint8(p) : size === 4 ? dv.getUint32(p, HOST_LE) : readU64(dv, p);
  }
  if (len > 6) {
    const w = dv.getUint8(off + 6);
    // bitfields are allocated from the low bit on little-endian ABIs, from the high bit on big-endian
    info.sndWscale = HOST_LE ? w & 0xf : w >> 4;
    info.rcvWscale = HOST_LE ? w >> 4 : w & 0xf;
  }
  if (len > 7) {
    const b = dv.getUint8(off + 7);
    info.deliveryRateAppLimited = (HOST_LE ? b & 1 : b & 0x80) !== 0;
  }
  return info;
}

function readU64(dv: DataView, p: number): number {
  const a = dv.getUint32(p, HOST_LE);
  const b = dv.getUint32(p + 4, HOST_LE);
  return HOST_LE ? b * 0x1_0000_0000 + a : a * 0x1_0000_0000 + b;
}
