// sock_diag destroy notifications: the kernel sends every TCP socket it destroys (in this network
// namespace) to the SKNLGRP_INET{,6}_TCP_DESTROY groups, with its tuple, cookie, state and
// tcp_info. Any user may listen. The messages carry no owner (uid and inode are 0), so they only
// give the tracker close times (to within READ_EVERY_MS) and totals; attributing them is the tracker's job.
//
// The socket is read through libc (libc-netlink.ts), never through a native addon that calls back
// into JS: the `netlink` package's addon did, and a datagram arriving while Node tore down its
// environment (the event loop ran out with the unref'd socket still open), or an exception from a
// process.nextTick callback run at the end of its callback, became an uncaught C++ Napi::Error:
// `terminate called…`, exit 134. Here nothing native ever calls JS: a timer reads what is waiting,
// and each poll reads again before it takes the events (drain), so none is later than its poll.
// Each datagram is stamped with the time it was read, decoded at once into compact events, and
// not kept. netlink sockets give no kernel receive time (SO_TIMESTAMP{,NS} add no control message
// to a netlink recvmsg: measured on 6.18), so the read time, at most READ_EVERY_MS after the
// kernel sent it, is the close time.
import type { LifecycleStatus, LifecycleTotals, SocketEnded } from '../../core/lifecycle-types';
import { tcpStateFromCode } from '../../model';
import * as net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { decodeInetDiag, type InetDiagRow } from './inet-diag-decode';
import { rowToConnection } from './inet-diag-connection';
import { LibcNetlinkSocket } from './libc-netlink';
import { AF_INET, NETLINK_SOCK_DIAG, SKNLGRP_INET6_TCP_DESTROY, SKNLGRP_INET_TCP_DESTROY } from './sock-diag-constants';

/**
 * Events kept between two drains. A host closing 10,000 connections/s fills it in 5 s; the poll
 * drains it every interval, so only a stalled loop (or a far busier host) loses events, counted.
 */
export const DESTROY_QUEUE_CAPACITY = 50_000;
/** One notification is ~400 bytes (inet_diag_msg + protocol + tcp_info); room for a newer kernel's tcp_info. */
const DATAGRAM_BYTES = 2048;
/** Asked for; the kernel caps it at net.core.rmem_max for an unprivileged user. Bursts queue here between reads. */
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;
/** Datagrams per system call; a read repeats while a round fills them all. */
const SLOTS = 64;
/**
 * How often waiting notifications are read, so how late a close time may be. Every poll also
 * reads before it drains. A read with nothing waiting is one recvmmsg through koffi.
 */
export const READ_EVERY_MS = 20;
/**
 * The longest caughtUp() waits for its marker's notification. On a loaded host the kernel's work
 * queue delivered notifications seconds late (measured: 0 of 20 after 0.5 s, 20 of 20 after 4 s).
 */
export const CATCH_UP_MAX_MS = 3000;
const CATCH_UP_READ_MS = 5;

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
  /** see READ_EVERY_MS */
  readEveryMs?: number;
}

/**
 * Listens for destroy notifications until closed. Construction throws a SockwatchError
 * ('not_supported') when the groups cannot be joined or koffi cannot load here.
 */
export class DestroyListener {
  private queue: SocketEnded[] = [];
  private dropped = 0;
  private overruns = 0;
  /** datagrams that were truncated or did not decode (kept for the status, not fatal) */
  malformed = 0;
  private failure: string | undefined;
  private readonly sock: LibcNetlinkSocket;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private readonly nowMs: () => number;
  private readonly capacity: number;
  /** caughtUp()'s own marker connections, by `listenPort:clientPort`: their notifications are not evidence */
  private readonly markers = new Set<string>();
  /** marker connections whose notification was read */
  private readonly markersSeen = new Set<string>();

  constructor(opts: DestroyListenerOptions = {}) {
    this.nowMs = opts.nowMs ?? Date.now;
    this.capacity = opts.capacity ?? DESTROY_QUEUE_CAPACITY;
    this.sock = new LibcNetlinkSocket(NETLINK_SOCK_DIAG, {
      slotBytes: DATAGRAM_BYTES,
      slots: SLOTS,
      recvBufferBytes: RECV_BUFFER_BYTES,
      onOverrun: () => {
        this.overruns++;
      },
    });
    try {
      this.sock.joinGroups([SKNLGRP_INET_TCP_DESTROY, SKNLGRP_INET6_TCP_DESTROY]);
    } catch (e) {
      this.sock.close();
      throw e;
    }
    // unref'd: a listener alone never keeps the process alive
    this.timer = setInterval(() => this.readWaiting(), opts.readEveryMs ?? READ_EVERY_MS);
    this.timer.unref();
  }

  /** Everything the kernel has queued now, decoded; a socket error stops the listener, said in its status. */
  private readWaiting(): void {
    if (this.closed || this.failure !== undefined) return;
    try {
      for (;;) {
        const got = this.sock.receive(false);
        const atMs = this.nowMs();
        for (const d of got) {
          // only the kernel sends to these groups; anything else is not ours to trust
          if (!d.fromKernel) continue;
          if (d.truncated) this.malformed++;
          else this.take(d.data, atMs);
        }
        if (got.length < SLOTS) return;
      }
    } catch (e) {
      this.failure = `destroy notifications stopped: ${e instanceof Error ? e.message : String(e)}`;
      clearInterval(this.timer);
      this.sock.close();
    }
  }

  private take(buf: Uint8Array, atMs: number): void {
    try {
      const { events, problem } = destroyEventsOf(buf, atMs);
      if (problem !== undefined) this.malformed++;
      for (const ev of events) {
        if (this.isMarker(ev)) continue;
        if (this.queue.length < this.capacity) this.queue.push(ev);
        else this.dropped++;
      }
    } catch {
      this.malformed++;
    }
  }

  private isMarker(ev: SocketEnded): boolean {
    if (this.markers.size === 0 || ev.local.address !== '127.0.0.1' || ev.remote.address !== '127.0.0.1') return false;
    // either end of the marker: the accepted socket (local = listener) or the client's
    const key = this.markers.has(`${ev.local.port}:${ev.remote.port}`) ? `${ev.local.port}:${ev.remote.port}` : `${ev.remote.port}:${ev.local.port}`;
    if (!this.markers.has(key)) return false;
    this.markersSeen.add(key);
    return true;
  }

  /**
   * Resolves once the notifications of every socket destroyed before the call have been read, as
   * far as the kernel lets us tell: a connection of our own on loopback is closed, and its
   * notification comes through the same work queue after theirs. Bounded by CATCH_UP_MAX_MS (a
   * watch's end must not hang on a stalled kernel); the marker's own notifications are dropped.
   */
  async caughtUp(maxMs = CATCH_UP_MAX_MS): Promise<void> {
    if (this.closed || this.failure !== undefined) return;
    let key: string;
    try {
      const m = await closedMarkerConnection();
      key = `${m.listenPort}:${m.clientPort}`;
    } catch {
      return; // no loopback connection to be had: nothing better than what was read
    }
    this.markers.add(key);
    const deadline = Date.now() + maxMs;
    try {
      for (;;) {
        this.readWaiting();
        if (this.markersSeen.has(key) || this.closed || this.failure !== undefined || Date.now() >= deadline) return;
        await delay(CATCH_UP_READ_MS);
      }
    } finally {
      // the other end's notification may still come: the pair stays a marker's for a while
      const forget = setTimeout(() => {
        this.markers.delete(key);
        this.markersSeen.delete(key);
      }, maxMs);
      forget.unref();
    }
  }

  /** Events up to now, oldest first: what is waiting in the socket is read first. */
  drain(): SocketEnded[] {
    this.readWaiting();
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
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.sock.close();
  }
}

/**
 * Opens a loopback connection to a listener of our own, closes all three sockets, and resolves with
 * its ports once both ends are closed on our side (the kernel destroys them next).
 */
function closedMarkerConnection(): Promise<{ listenPort: number; clientPort: number }> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((accepted) => {
      accepted.on('error', () => undefined);
      accepted.destroy();
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      const client = net.connect(port, '127.0.0.1');
      let clientPort = 0;
      client.on('error', reject);
      // the server side is destroyed as soon as it is accepted; the client's close follows its FIN
      client.on('close', () => server.close(() => (clientPort > 0 ? resolve({ listenPort: port, clientPort }) : reject(new Error('no marker connection')))));
      client.on('connect', () => {
        clientPort = client.localPort ?? 0;
        client.end();
      });
    });
  });
}
