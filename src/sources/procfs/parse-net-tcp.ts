import { endianness } from 'node:os';
import { tcpStateFromCode, type Connection, type Endpoint, type Protocol, type TimerKind } from '../../model';
import { formatIpv4Bytes, formatIpv6Groups } from './ip-format';

// The one parser of /proc/net/tcp and /proc/net/tcp6 (also /proc/PID/net/...). Row layout, from
// get_tcp4_sock / tcp6_sock_seq_show in the kernel:
//
//   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ...
//    0: 0100007F:1F90 0100007F:B3A2 01 00000000:00000000 02:000AFC7D 00000000     0        0 414151 ...
//   [0] [1]           [2]           [3] [4]             [5]         [6]        [7]      [8] [9]
//
// Everything is hex except uid, "timeout" (really icsk_probes_out) and inode, which are decimal.
// Time-wait and request (SYN_RECV) sockets print inode 0 and uid 0.

const FIELD_LOCAL = 1;
const FIELD_REMOTE = 2;
const FIELD_STATE = 3;
const FIELD_QUEUES = 4;
const FIELD_TIMER = 5;
const FIELD_RETRANSMITS = 6;
const FIELD_UID = 7;
const FIELD_PROBES = 8;
const FIELD_INODE = 9;

const TIMER_KINDS: Readonly<Record<number, TimerKind>> = {
  0: 'none',
  1: 'retransmit', // also the RACK reorder and tail-loss-probe timers
  2: 'keepalive', // sk_timer
  3: 'time_wait',
  4: 'zero_window_probe',
};

/** tm->when is in USER_HZ clock ticks (1/100 s), already clamped to >= 0 by the kernel. */
const MS_PER_TICK = 10;

// Each 32-bit word of an address is printed as a u32 read in host byte order, so on a
// little-endian host the bytes of every word come out reversed.
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d;
}

/** The widest value any field below may hold: the kernel prints u32s (and smaller) here. */
const U32_MAX = 0xffffffff;
/** Hex digits of a 32-bit field; more is not what the kernel prints (%08X) but garbage. */
const U32_HEX_DIGITS = 8;
/** Decimal digits of a u32 (uid, probes); inode gets up to MAX_SAFE_INTEGER's 16. */
const U32_DEC_DIGITS = 10;
const INODE_DEC_DIGITS = 16;

/**
 * Hex digits of s[from, to) as a number; -1 when empty, not hex, or wider than maxDigits (a row
 * with a field wider than the kernel prints it is malformed, not a huge value).
 */
function parseHex(s: string, from = 0, to = s.length, maxDigits = U32_HEX_DIGITS): number {
  if (to <= from || to - from > maxDigits) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else return -1;
    v = v * 16 + d; // not bit ops: 8-digit values exceed int32
  }
  return v;
}

/** Decimal digits as a number ≤ max; -1 when empty, not decimal, or out of range. */
function parseDecimal(s: string, maxDigits = U32_DEC_DIGITS, max = U32_MAX): number {
  if (s.length === 0 || s.length > maxDigits) return -1;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v <= max ? v : -1;
}

/** "a:b" where both halves are hex of at most aDigits and 8 digits → [a, b]; undefined otherwise. */
function parseHexPair(field: string, aDigits = U32_HEX_DIGITS): [number, number] | undefined {
  const colon = field.indexOf(':');
  if (colon < 0) return undefined;
  const a = parseHex(field, 0, colon, aDigits);
  const b = parseHex(field, colon + 1);
  return a < 0 || b < 0 ? undefined : [a, b];
}

/** 8 or 32 hex digits in kernel word order → 4 or 16 network-order bytes. */
function addressBytes(hex: string): number[] | undefined {
  if (hex.length !== 8 && hex.length !== 32) return undefined;
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = parseHex(hex, w, w + 8);
    if (word < 0) return undefined;
    const b = [Math.floor(word / 0x1000000) & 0xff, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff];
    if (LITTLE_ENDIAN_HOST) b.reverse();
    bytes.push(...b);
  }
  return bytes;
}

/** "0100007F:1F90" → { address: '127.0.0.1', port: 8080 } */
export function parseHexEndpoint(field: string): Endpoint | undefined {
  const colon = field.indexOf(':');
  if (colon < 0) return undefined;
  const port = parseHex(field, colon + 1, field.length, 4);
  const bytes = addressBytes(field.slice(0, colon));
  if (port < 0 || port > 0xffff || !bytes) return undefined;
  if (bytes.length === 4) {
    return { address: formatIpv4Bytes(bytes[0], bytes[1], bytes[2], bytes[3]), port };
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  return { address: formatIpv6Groups(groups), port };
}

function splitFields(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && isSpace(line.charCodeAt(i))) i++;
    const start = i;
    while (i < line.length && !isSpace(line.charCodeAt(i))) i++;
    if (i > start) fields.push(line.slice(start, i));
  }
  return fields;
}

/** One table row → a Connection without fd; undefined for the header and malformed rows. */
export function parseNetTcpLine(line: string, protocol: Protocol): Connection | undefined {
  const f = splitFields(line);
  if (f.length <= FIELD_INODE) return undefined;
  const sl = f[0];
  if (!sl.endsWith(':') || parseDecimal(sl.slice(0, -1), 16, Number.MAX_SAFE_INTEGER) < 0) return undefined;

  const local = parseHexEndpoint(f[FIELD_LOCAL]);
  const remote = parseHexEndpoint(f[FIELD_REMOTE]);
  const stateCode = parseHex(f[FIELD_STATE], 0, f[FIELD_STATE].length, 2);
  const state = stateCode < 0 ? undefined : tcpStateFromCode(stateCode);
  const queues = parseHexPair(f[FIELD_QUEUES]);
  const timer = parseHexPair(f[FIELD_TIMER], 2);
  const retransmits = parseHex(f[FIELD_RETRANSMITS]);
  const uid = parseDecimal(f[FIELD_UID]);
  const probes = parseDecimal(f[FIELD_PROBES]);
  const inode = parseDecimal(f[FIELD_INODE], INODE_DEC_DIGITS, Number.MAX_SAFE_INTEGER);
  if (!local || !remote || !state || !queues || !timer) return undefined;
  if (retransmits < 0 || uid < 0 || probes < 0 || inode < 0) return undefined;

  const conn: Connection = {
    protocol,
    local,
    remote,
    state,
    inode,
    sendQueue: queues[0],
    recvQueue: queues[1],
    retransmits,
    uid,
  };
  const kind = TIMER_KINDS[timer[0]];
  // An unknown timer code (a newer kernel) leaves the timer absent rather than dropping the row.
  if (kind !== undefined) {
    conn.timer = { kind, expiresMs: kind === 'none' ? 0 : timer[1] * MS_PER_TICK };
    // icsk_probes_out counts keep-alive and zero-window probes; it means nothing for the others
    if (kind === 'keepalive' || kind === 'zero_window_probe') conn.timer.probes = probes;
  }
  return conn;
}

/**
 * The inode column (field 9) of the line buf[start, end), found by skipping fields byte by byte
 * with no allocation; -1 when the line has no numeric field 9 (the header, malformed rows).
 */
function inodeOfLine(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  for (let field = 0; ; field++) {
    while (i < end && isSpace(buf[i])) i++;
    if (i >= end) return -1;
    if (field === FIELD_INODE) break;
    while (i < end && !isSpace(buf[i])) i++;
  }
  let v = 0;
  const first = i;
  for (; i < end && !isSpace(buf[i]); i++) {
    const d = buf[i] - 0x30;
    if (d < 0 || d > 9 || i - first >= INODE_DEC_DIGITS) return -1;
    v = v * 10 + d;
  }
  return i > first && v <= Number.MAX_SAFE_INTEGER ? v : -1;
}

/**
 * The rows whose inode is in `wanted`, from raw table bytes data[0, length). Only those rows are
 * decoded (by parseNetTcpLine, so a row comes out as parseNetTcpLine makes it); the rest cost a
 * byte scan to their inode column. `length` lets a caller pass a reused, larger buffer.
 */
export function parseNetTcpForInodes(
  data: Buffer | string,
  protocol: Protocol,
  wanted: ReadonlySet<number>,
  length?: number,
): Connection[] {
  const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const end = Math.min(length ?? buf.length, buf.length);
  const rows: Connection[] = [];
  if (wanted.size === 0) return rows;
  let pos = 0;
  while (pos < end) {
    let eol = buf.indexOf(0x0a, pos);
    if (eol < 0 || eol > end) eol = end;
    const inode = inodeOfLine(buf, pos, eol);
    if (inode > 0 && wanted.has(inode)) {
      const conn = parseNetTcpLine(buf.toString('latin1', pos, eol), protocol);
      if (conn) rows.push(conn);
    }
    pos = eol + 1;
  }
  return rows;
}
