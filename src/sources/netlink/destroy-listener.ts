// sock_diag destroy notifications: the kernel sends every TCP socket it destroys (in this network
// namespace) to the SKNLGRP_INET{,6}_TCP_DESTROY groups, with its tuple, cookie, state and
// tcp_info. Any user may listen. The messages carry no owner (uid and inode are 0), so they only
// give the tracker exact close times and totals; attributing them is the tracker's job.
//
// Datagrams arrive asynchronously; each is stamped on arrival (the kernel sends them from a work
// queue right after the socket is freed, so arrival is the close time to within scheduling delay)
// and decoded at once into compact events, so no datagram is kept.

import type { LifecycleStatus, LifecycleTotals, SocketEnded } from '../../core/lifecycle-types';
import { tcpStateFromCode } from '../../model';
import { decodeInetDiag, type InetDiagRow } from './inet-diag-decode';
import { rowToConnection } from './inet-diag-connection';
import { subscribeSockDiag, type MulticastSubscription } from './netlink-socket';
import { AF_INET, SKNLGRP_INET6_TCP_DESTROY, SKNLGRP_INET_TCP_DESTROY } from './sock-diag-constants';

/**
 * Events kept between two drains. A host closing 10,000 connections/s fills it in 5 s; the poll
 * drains it every interval, so only a stalled loop (or a far busier host) loses events, counted.
 */
export const DESTROY_QUEUE_CAPACITY = 50_000;
/** One notification is ~400 bytes (inet_diag_msg + protocol + tcp_info); room for a newer kernel's tcp_info. */
const DATAGRAM_BYTES = 2048;
/** Asked for; the kernel caps it at net.core.rmem_max for an unprivileged user. Bursts queue here between event-loop turns. */
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;

export interface DestroyDecode {
  events: SocketEnded[];
  /** why decoding stopped early on a malformed datagram */
  problem?: string;
}

/**
 * One datagram → the `ended` events it holds (one per destroyed connection). Sockets that never
 * had a peer (listeners, sockets closed before connecting: remote port 0) are not connections
 * and are left out.
 */
export function destroyEventsOf(buf: Uint8Array, atMs: number): DestroyDecode {
  const decoded = decodeInetDiag(buf, { modelTcpInfo: true });
  const events: SocketEnded[] = [];
  for (const row of decoded.rows) {
    const ev = destroyRowToEvent(row, atMs);
    if (ev) events.push(ev);
  }
  const problem = decoded.problem ?? (decoded.errno === undefined ? undefined : `NLMSG_ERROR ${decoded.errno}`);
  return problem === undefined ? { events } : { events, problem };
}

function destroyRowToEvent(row: InetDiagRow, atMs: number): SocketEnded | undefined {
  if (row.dstPort === 0) return undefined;
  const ev: SocketEnded = {
    kind: 'ended',
    atMs,
    protocol: row.family === AF_INET ? 'tcp' : 'tcp6',
    local: { address: row.srcAddress, port: row.srcPort },
    remote: { address: row.dstAddress, port: row.dstPort },
    cookie: row.cookie,
  };
  // The kernel reports the state at destruction, CLOSE on every kernel seen; `state` means the
  // one before the end, so only another value (a future kernel's) says anything.
  const state = tcpStateFromCode(row.state);
  if (state && state !== 'CLOSE') ev.state = state;
  const tcp = rowToConnection(row)?.tcp;
  if (tcp) ev.tcp = tcp;
  const totals = totalsOf(row);
  if (totals) ev.totals = totals;
  return ev;
}

function totalsOf(row: InetDiagRow): LifecycleTotals | undefined {
  const i = row.tcpInfo;
  const bytesSent = i?.bytesSent ?? i?.bytesAcked;
  if (!i || bytesSent === undefined || i.bytesReceived === undefined || i.dataSegsOut === undefined || i.dataSegsIn === undefined) return undefined;
  return { bytesSent, bytesReceived: i.bytesReceived, segmentsSent: i.dataSegsOut, segmentsReceived: i.dataSegsIn };
}

export interface DestroyListenerOptions {
  /** the session's clock (ms since the epoch) */
  nowMs?: () => number;
  capacity?: number;
}

/**
 * Listens for destroy notifications until closed. Construction throws a SockwatchError
 * ('not_supported') when the groups cannot be joined.
 */
export class DestroyListener {
  private queue: SocketEnded[] = [];
  private dropped = 0;
  private overruns = 0;
  /** datagrams that were truncated or did not decode (kept for the status, not fatal) */
  malformed = 0;
  private failure: string | undefined;
  private readonly sub: MulticastSubscription;
  private readonly nowMs: () => number;
  private readonly capacity: number;

  constructor(opts: DestroyListenerOptions = {}) {
    this.nowMs = opts.nowMs ?? Date.now;
    this.capacity = opts.capacity ?? DESTROY_QUEUE_CAPACITY;
    this.sub = subscribeSockDiag(
      [SKNLGRP_INET_TCP_DESTROY, SKNLGRP_INET6_TCP_DESTROY],
      {
        datagram: (buf) => this.onDatagram(buf),
        overrun: () => {
          this.overruns++;
        },
        truncated: () => {
          this.malformed++;
        },
        failed: (reason) => {
          this.failure = `destroy notifications stopped: ${reason}`;
        },
      },
      { datagramBytes: DATAGRAM_BYTES, recvBufferBytes: RECV_BUFFER_BYTES },
    );
  }

  private onDatagram(buf: Buffer): void {
    const atMs = this.nowMs();
    // never throw here: this runs inside the addon's callback
    try {
      const { events, problem } = destroyEventsOf(buf, atMs);
      if (problem !== undefined) this.malformed++;
      for (const ev of events) {
        if (this.queue.length < this.capacity) this.queue.push(ev);
        else this.dropped++;
      }
    } catch {
      this.malformed++;
    }
  }

  /** Events since the last drain, oldest first. */
  drain(): SocketEnded[] {
    const out = this.queue;
    this.queue = [];
    return out;
  }

  get status(): LifecycleStatus {
    const counts = { ...(this.dropped > 0 ? { dropped: this.dropped } : {}), ...(this.overruns > 0 ? { overruns: this.overruns } : {}) };
    if (this.failure !== undefined) return { facility: 'none', reason: this.failure, ...counts };
    return { facility: 'destroy_notifications', ...counts };
  }

  close(): void {
    this.sub.close();
  }
}
