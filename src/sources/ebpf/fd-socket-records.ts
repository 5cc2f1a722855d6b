// The fd-socket iterator's records (fd-socket-layout.ts) as the rows the netlink source decodes
// (InetDiagRow), computed the way inet_diag computes them (net/ipv4/inet_diag.c, tcp_diag.c):
// queues from the sequence numbers or, for a listener, the backlog; the timer from icsk_pending,
// else the keepalive timer when it is pending. Pure: records in, rows out; a record that does not
// make sense (short, an unknown family) is skipped, never guessed at.
import type { InetDiagRow } from '../netlink/inet-diag-decode';
import { formatV4, formatV6 } from '../netlink/inet-diag-decode';
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

/** A row and the descriptor that holds it. */
export interface FdSocketRow {
  fd: number;
  row: InetDiagRow;
}

const NO_SOCK_ID = new Uint8Array(0);

/**
 * The rows in `data` (whole records of `layout.size` bytes; a partial tail is ignored). `hz`: the
 * kernel's jiffies per second, for the timers' remaining time.
 */
export function fdSocketRows(data: Uint8Array, length: number, layout: RecordLayout, hz: number): FdSocketRow[] {
  const out: FdSocketRow[] = [];
  const dv = new DataView(data.buffer, data.byteOffset, Math.min(length, data.byteLength));
  const at = layout.at;
  // A process's connections share a few addresses (its own, its peers'): one string each, not
  // one per socket end (36,000 strings for 18,000 connections, formatted and then collected).
  const v4Text = new Map<number, string>();
  const v4 = (o: number): string => {
    const key = dv.getUint32(o, true);
    let text = v4Text.get(key);
    if (text === undefined) {
      text = formatV4(bytes, o);
      v4Text.set(key, text);
    }
    return text;
  };
  const bytes = new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength);
  for (let r = 0; r + layout.size <= dv.byteLength; r += layout.size) {
    const family = dv.getUint16(r + at.family, true);
    if (family !== AF_INET && family !== AF_INET6) continue;
    const state = dv.getUint8(r + at.state);
    const jiffies = u64(dv, r + RECORD_JIFFIES);
    let rqueue: number;
    let wqueue: number;
    if (state === TCP_LISTEN) {
      rqueue = dv.getUint32(r + at.ackBacklog, true);
      wqueue = dv.getUint32(r + at.maxAckBacklog, true);
    } else {
      rqueue = Math.max(0, (dv.getUint32(r + at.rcvNxt, true) - dv.getUint32(r + at.copiedSeq, true)) | 0);
      wqueue = (dv.getUint32(r + at.writeSeq, true) - dv.getUint32(r + at.sndUna, true)) >>> 0;
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
    const row: InetDiagRow = {
      family,
      state,
      timer,
      retrans,
      srcAddress: inet ? v4(r + at.rcvSaddr) : formatV6(bytes, r + at.v6RcvSaddr),
      srcPort: dv.getUint16(r + at.num, true),
      dstAddress: inet ? v4(r + at.daddr) : formatV6(bytes, r + at.v6Daddr),
      dstPort: dv.getUint16(r + at.dport, false),
      ifindex: dv.getUint32(r + at.boundDevIf, true),
      // not read: a one-shot table prints neither, and a lookup by tuple needs neither
      cookie: '0',
      sockId: NO_SOCK_ID,
      expiresMs: timer === 0 ? 0 : jiffiesToMs(expires - jiffies, hz),
      rqueue,
      wqueue,
      uid: dv.getUint32(r + at.uid, true),
      inode: u64(dv, r + RECORD_INODE),
    };
    out.push({ fd: dv.getUint32(r + RECORD_FD, true), row });
  }
  return out;
}

/** A kernel u64 that fits a double exactly (jiffies, inode numbers, pointers tested against 0). */
function u64(dv: DataView, at: number): number {
  return dv.getUint32(at + 4, true) * 0x1_0000_0000 + dv.getUint32(at, true);
}

/** jiffies_delta_to_msecs: a timer already due counts as 0 */
function jiffiesToMs(delta: number, hz: number): number {
  return delta <= 0 ? 0 : Math.floor((delta * 1000) / hz);
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
