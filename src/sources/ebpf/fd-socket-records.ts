// The fd-socket iterator's records (fd-socket-layout.ts) as connections, through the rows the
// netlink source decodes (InetDiagRow), computed the way inet_diag computes them
// (net/ipv4/inet_diag.c, tcp_diag.c): queues from the sequence numbers or, for a listener, the
// backlog; the timer from icsk_pending, else the keepalive timer when it is pending. Pure:
// records in, connections out; a record that does not make sense (short, an unknown family) is
// skipped, never guessed at.
import type { Connection, Endpoint } from '../../model';
import type { InetDiagRow } from '../netlink/inet-diag-decode';
import { formatV4, formatV6 } from '../netlink/inet-diag-decode';
import { rowToConnection } from '../netlink/inet-diag-connection';
import { RECORD_FD, RECORD_INODE, RECORD_JIFFIES, type RecordLayout } from './fd-socket-layout';

const AF_INET = 2;
const AF_INET6 = 10;
const TCP_LISTEN = 10;
// icsk_pending (include/net/inet_connection_sock.h)
const ICSK_TIME_RETRANS = 1;
const ICSK_TIME_PROBE0 = 3;
const ICSK_TIME_LOSS_PROBE = 5;
const ICSK_TIME_REO_TIMEOUT = 6;
// idiag_timer
const TIMER_RETRANSMIT = 1;
const TIMER_KEEPALIVE = 2;
const TIMER_PROBE0 = 4;

const NO_SOCK_ID = new Uint8Array(0);

/**
 * The TCP connections in the iterator's records (whole records of `layout.size` bytes; a partial
 * tail is ignored), a chunk at a time as its reads return them, so the decoding of one chunk
 * overlaps the kernel's work on the next (fd-socket-iterator.ts). Each socket once, at the first
 * descriptor that holds it (the iterator goes in fd order, so the lowest). `hz`: the kernel's
 * jiffies per second, for the timers' remaining time.
 *
 * Each record is decoded into one scratch row, reused, and made a Connection by rowToConnection,
 * the netlink source's one mapping; endpoints are shared where they repeat (the peers' ends, the
 * addresses' text). At 18,000 connections the per-socket rows and their copies by the garbage
 * collector were a quarter of a one-shot's time.
 */
export class FdSocketDecoder {
  readonly connections: Connection[] = [];
  /** A process's connections share a few addresses (its own, its peers'): one string each. */
  private readonly v4Text = new Map<number, string>();
  /** and many connections share a peer: one remote endpoint object per address and port */
  private readonly remotes = new Map<string, Map<number, Endpoint>>();
  private readonly seen: FirstSightings;
  /** one wrapper for every row: rowToConnection takes the endpoints out of it, never keeps it */
  private readonly ends = { local: { address: '', port: 0 }, remote: { address: '', port: 0 } };
  private readonly row: InetDiagRow = { family: 0, state: 0, timer: 0, retrans: 0, srcAddress: '', srcPort: 0, dstAddress: '', dstPort: 0, ifindex: 0, cookie: '0', sockId: NO_SOCK_ID, expiresMs: 0, rqueue: 0, wqueue: 0, uid: 0, inode: 0 };

  /** `expected`: about how many records will come (sizes the table of inodes seen) */
  constructor(
    private readonly layout: RecordLayout,
    private readonly hz: number,
    expected: number,
  ) {
    this.seen = new FirstSightings(expected);
  }

  /** The whole records among the first `length` bytes of `data`. */
  push(data: Uint8Array, length: number): void {
    const { layout, row, ends, seen, hz, connections } = this;
    const dv = new DataView(data.buffer, data.byteOffset, Math.min(length, data.byteLength));
    const bytes = new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength);
    const at = layout.at;
    for (let r = 0; r + layout.size <= dv.byteLength; r += layout.size) {
      const family = dv.getUint16(r + at.family, true);
      if (family !== AF_INET && family !== AF_INET6) continue;
      const inode = u64(dv, r + RECORD_INODE);
      if (!seen.add(inode)) continue;
      const state = dv.getUint8(r + at.state);
      const jiffies = u64(dv, r + RECORD_JIFFIES);
      if (state === TCP_LISTEN) {
        row.rqueue = dv.getUint32(r + at.ackBacklog, true);
        row.wqueue = dv.getUint32(r + at.maxAckBacklog, true);
      } else {
        row.rqueue = Math.max(0, (dv.getUint32(r + at.rcvNxt, true) - dv.getUint32(r + at.copiedSeq, true)) | 0);
        row.wqueue = (dv.getUint32(r + at.writeSeq, true) - dv.getUint32(r + at.sndUna, true)) >>> 0;
      }
      const pending = dv.getUint8(r + at.icskPending);
      let timer = 0;
      let retrans = 0;
      let expires = jiffies;
      if (pending === ICSK_TIME_RETRANS || pending === ICSK_TIME_REO_TIMEOUT || pending === ICSK_TIME_LOSS_PROBE) {
        timer = TIMER_RETRANSMIT;
        retrans = dv.getUint8(r + at.icskRetransmits);
        expires = u64(dv, r + at.retransmitTimerExpires);
      } else if (pending === ICSK_TIME_PROBE0) {
        timer = TIMER_PROBE0;
        retrans = dv.getUint8(r + at.icskProbesOut);
        expires = u64(dv, r + at.retransmitTimerExpires);
      } else if (u64(dv, r + at.keepaliveTimerPprev) !== 0) {
        timer = TIMER_KEEPALIVE;
        retrans = dv.getUint8(r + at.icskProbesOut);
        expires = u64(dv, r + at.keepaliveTimerExpires);
      }
      const inet = family === AF_INET;
      row.family = family;
      row.state = state;
      row.timer = timer;
      row.retrans = retrans;
      row.srcAddress = inet ? this.v4(dv, bytes, r + at.rcvSaddr) : formatV6(bytes, r + at.v6RcvSaddr);
      row.srcPort = dv.getUint16(r + at.num, true);
      row.dstAddress = inet ? this.v4(dv, bytes, r + at.daddr) : formatV6(bytes, r + at.v6Daddr);
      row.dstPort = dv.getUint16(r + at.dport, false);
      row.ifindex = dv.getUint32(r + at.boundDevIf, true);
      row.expiresMs = timer === 0 ? 0 : jiffiesToMs(expires - jiffies, hz);
      row.uid = dv.getUint32(r + at.uid, true);
      row.inode = inode;
      ends.local = { address: row.srcAddress, port: row.srcPort };
      ends.remote = this.remoteOf(row.dstAddress, row.dstPort);
      row.endpoints = ends;
      const conn = rowToConnection(row, dv.getUint32(r + RECORD_FD, true));
      if (conn !== undefined) connections.push(conn);
    }
  }

  private v4(dv: DataView, bytes: Uint8Array, o: number): string {
    const key = dv.getUint32(o, true);
    let text = this.v4Text.get(key);
    if (text === undefined) {
      text = formatV4(bytes, o);
      this.v4Text.set(key, text);
    }
    return text;
  }

  private remoteOf(address: string, port: number): Endpoint {
    let byPort = this.remotes.get(address);
    if (byPort === undefined) this.remotes.set(address, (byPort = new Map()));
    let e = byPort.get(port);
    if (e === undefined) byPort.set(port, (e = { address, port }));
    return e;
  }
}

/**
 * Which inodes were seen: an open-addressing table of 32-bit keys (socket inodes are; a larger one
 * goes to a Set). A Set of 18,000 numbers cost 7 ms of a one-shot, mostly before V8 optimized it.
 */
class FirstSightings {
  private keys: Uint32Array;
  private mask: number;
  private count = 0;
  private zero = false;
  private large: Set<number> | undefined;

  /** `expected`: a hint; the table grows past it */
  constructor(expected: number) {
    let size = 64;
    while (size < expected * 2) size *= 2;
    this.keys = new Uint32Array(size);
    this.mask = size - 1;
  }

  /** true the first time `key` is added */
  add(key: number): boolean {
    if (key > 0xffffffff) {
      const large = (this.large ??= new Set());
      if (large.has(key)) return false;
      large.add(key);
      return true;
    }
    if (key === 0) {
      // 0 marks an empty slot
      const first = !this.zero;
      this.zero = true;
      return first;
    }
    if (!this.insert(key)) return false;
    if (++this.count * 2 > this.keys.length) this.grow();
    return true;
  }

  private insert(key: number): boolean {
    for (let i = Math.imul(key, 0x9e3779b1) & this.mask; ; i = (i + 1) & this.mask) {
      const k = this.keys[i]!;
      if (k === key) return false;
      if (k === 0) {
        this.keys[i] = key;
        return true;
      }
    }
  }

  private grow(): void {
    const old = this.keys;
    this.keys = new Uint32Array(old.length * 2);
    this.mask = this.keys.length - 1;
    for (const k of old) if (k !== 0) this.insert(k);
  }
}

/** A kernel u64 that fits a double exactly (jiffies, inode numbers, pointers tested against 0). */
function u64(dv: DataView, at: number): number {
  return dv.getUint32(at + 4, true) * 0x1_0000_0000 + dv.getUint32(at, true);
}

/** jiffies_delta_to_msecs: a timer already due counts as 0; jiffies_to_msecs rounds up (HZ 300) */
function jiffiesToMs(delta: number, hz: number): number {
  return delta <= 0 ? 0 : Math.ceil((delta * 1000) / hz);
}

/** The HZ values Linux is built with (kernel/Kconfig.hz). */
const HZ_CHOICES = [100, 250, 300, 1000] as const;

/**
 * The kernel's HZ from one reading of jiffies_64 beside CLOCK_MONOTONIC: jiffies start at
 * INITIAL_JIFFIES = (u32)(-300 × HZ) at boot and count HZ per second of that clock. undefined when
 * no choice fits or two do (the five minutes after boot, where every choice meets at 2^32).
 */
export function hzFromJiffies(jiffies: number, monotonicNs: number): number | undefined {
  const seconds = monotonicNs / 1e9;
  const fits = HZ_CHOICES.filter((hz) => {
    const expected = 0x1_0000_0000 - 300 * hz + seconds * hz;
    return Math.abs(jiffies - expected) <= Math.max(2 * hz, seconds * hz * 0.001);
  });
  return fits.length === 1 ? fits[0] : undefined;
}
