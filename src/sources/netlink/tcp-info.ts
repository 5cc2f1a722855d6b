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

/** Each field's offset, from FIELDS: the one place tcp_info's layout is spelled. */
const AT = Object.fromEntries(FIELDS.map(([name, at]) => [name, at])) as Record<NumericField, number>;

/** Where fields the row mapper needs end; exported so tests can build short attributes at real boundaries. */
export const TCP_INFO_OFFSETS = {
  lastDataRecvEnd: AT.lastDataRecv + 4,
  totalRetransEnd: AT.totalRetrans + 4,
  bytesReceivedEnd: AT.bytesReceived + 8,
  dataSegsOutEnd: AT.dataSegsOut + 4,
  bytesSentEnd: AT.bytesSent + 8,
} as const;

/**
 * Decode `len` bytes of tcp_info starting at `off` in `dv`: every field the attribute holds. Only
 * tests and the fixture capture read the whole struct; polling uses decodeTcpInfoForModel.
 */
export function decodeTcpInfo(dv: DataView, off: number, len: number): TcpInfo {
  return decodePartial(dv, off, len);
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
  o.retransmits = dv.getUint8(off + AT.retransmits);
  o.probes = dv.getUint8(off + AT.probes);
  o.lastDataSent = dv.getUint32(off + AT.lastDataSent, le);
  o.lastDataRecv = dv.getUint32(off + AT.lastDataRecv, le);
  o.rtt = dv.getUint32(off + AT.rtt, le);
  o.rttvar = dv.getUint32(off + AT.rttvar, le);
  o.totalRetrans = dv.getUint32(off + AT.totalRetrans, le);
  o.bytesAcked = readU64(dv, off + AT.bytesAcked);
  o.bytesReceived = readU64(dv, off + AT.bytesReceived);
  o.dataSegsIn = dv.getUint32(off + AT.dataSegsIn, le);
  o.dataSegsOut = dv.getUint32(off + AT.dataSegsOut, le);
  o.bytesSent = readU64(dv, off + AT.bytesSent);
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
const MODEL_LEN = AT.bytesSent + 8;

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
