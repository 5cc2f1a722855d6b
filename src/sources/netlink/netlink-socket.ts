// The only file that touches the `netlink` package. We use its lowest layer, RawNetlinkSocket
// (a dgram-like socket that hands us whole datagrams), and do the framing ourselves: the package's
// higher layer parses every message into objects, which is wasted work for a 20,000-row dump
// that we mostly skip by inode. Requests are serialized (one dump or one batch in flight per
// socket): the kernel runs one dump per socket anyway, and a flood of concurrent requests (1,000
// sends in flight) has been seen to abort the process inside the addon.

import type * as RawModule from 'netlink/dist/raw';
import { SockwatchError } from '../../errors';
import { HOST_LE, NETLINK_SOCK_DIAG, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN } from './sock-diag-constants';
import { walkNlmsgs } from './nlmsg-walk';

type RawSocket = RawModule.RawNetlinkSocket;

let rawModule: typeof RawModule | undefined;

/** Loaded on first use: the package's index pulls in genl/nl80211/rt/wg code the CLI never needs. */
function loadRaw(): typeof RawModule {
  if (!rawModule) {
    try {
      rawModule = require('netlink/dist/raw') as typeof RawModule;
    } catch (e) {
      throw new SockwatchError('not_supported', `netlink is unavailable here (${errText(e)}); use --source procfs`);
    }
  }
  return rawModule;
}

export interface NetlinkDumpOptions {
  /**
   * Receive buffer per datagram (default: big enough for dump chunks). A larger reply is a
   * truncation, which rejects; LOOKUP_DATAGRAM_BYTES suits a socket used only for batch().
   */
  datagramBytes?: number;
  /** per dump; the socket is reopened afterwards so late replies cannot mix into the next dump */
  timeoutMs?: number;
}

/**
 * A datagram buffer big enough for the largest dump chunk the kernel builds: netlink_dump sizes
 * it from our reads but caps it at SKB_WITH_OVERHEAD(32768). The addon mallocs and zero-fills
 * this much for every datagram, outside V8's view of the heap, so a bigger one only costs memory
 * (it was 64 KiB; a larger reply would still be caught as truncated, which rejects).
 */
const DUMP_DATAGRAM_BYTES = 32 * 1024;
/**
 * For a socket that only sends exact lookups: each reply is its own ~400-byte datagram, and the
 * addon allocates (and zero-fills) a buffer of this size for every datagram it reads. With the
 * dump size, 1,000 lookups would cost 64 MiB of memset and fresh pages per poll, superlinear in
 * batch size as memory waits for the GC.
 */
export const LOOKUP_DATAGRAM_BYTES = 1024;

/**
 * SO_RCVBUF asked for. Replies to a batch of exact lookups are queued (one skb each) before we
 * read any of them, and the kernel drops what does not fit (ENOBUFS), so the batch size follows
 * from the buffer. The kernel caps the request at net.core.rmem_max (often 208 KiB) and doubles it.
 */
const SO_RCVBUF = 1024 * 1024;
/**
 * Bound on the memory one exact-lookup reply skb is charged (its truesize): a ~330-byte message
 * in a 512- or 1024-byte allocation plus sk_buff overhead. Generous, so a batch never overflows.
 */
const REPLY_CHARGE = 2048;
/** A few hundred per datagram at most, whatever the buffer: batches stay short and serialized. */
const MAX_BATCH = 256;
const MIN_BATCH = 16;

interface Pending {
  seq: number;
  /** a batch ends at the ack of its sentinel; its per-lookup errors are replies, not failures */
  batch: boolean;
  chunks: Buffer[];
  resolve(chunks: Buffer[]): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export class SockDiagSocket {
  private raw: RawSocket | undefined;
  private pending: Pending | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private closed = false;
  private readonly timeoutMs: number;
  private readonly datagramBytes: number;

  /** Opens the socket now so that "no netlink here" surfaces at creation, as a SockwatchError. */
  constructor(opts: NetlinkDumpOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.datagramBytes = opts.datagramBytes ?? DUMP_DATAGRAM_BYTES;
    this.ensureOpen();
  }

  /**
   * Send one dump request (bytes from buildInetDiagDumpRequest; its nlmsg_seq is overwritten)
   * and resolve with the reply datagrams up to and including the one holding NLMSG_DONE.
   * Rejects with a SockwatchError('io_error') on NLMSG_ERROR, timeout, socket error or close.
   */
  dump(request: Buffer): Promise<Buffer[]> {
    return this.enqueue(() => this.sendNow(request, false));
  }

  /**
   * Send many single-message requests (exact lookups) in one datagram, followed by an ack
   * sentinel (buildAckSentinel), and resolve with the reply datagrams up to and including the
   * sentinel's ack. Every message's nlmsg_seq is overwritten. Per-lookup errors (ENOENT) are
   * left in the replies for the decoder. Keep `requests.length` ≤ batchCapacity(): replies that
   * do not fit the receive buffer are dropped by the kernel, and this then rejects (ENOBUFS).
   */
  batch(requests: readonly Buffer[], sentinel: Buffer): Promise<Buffer[]> {
    return this.enqueue(() => this.sendNow(Buffer.concat([...requests, sentinel]), true));
  }

  /** How many exact lookups one batch may carry, from the receive buffer the kernel granted. */
  batchCapacity(): number {
    let rcvbuf = 0;
    try {
      rcvbuf = this.ensureOpen().getRecvBufferSize();
    } catch {
      // leave it to the minimum; the batch itself will report a broken socket
    }
    return Math.max(MIN_BATCH, Math.min(MAX_BATCH, Math.floor(rcvbuf / REPLY_CHARGE)));
  }

  private enqueue(run: () => Promise<Buffer[]>): Promise<Buffer[]> {
    const result = this.tail.then(run, run);
    this.tail = result.catch(() => undefined);
    return result;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(new SockwatchError('io_error', 'netlink socket closed during a dump'));
    this.resetRaw();
  }

  private sendNow(request: Buffer, batch: boolean): Promise<Buffer[]> {
    return new Promise<Buffer[]>((resolve, reject) => {
      let raw: RawSocket;
      try {
        if (this.closed) throw new SockwatchError('io_error', 'netlink socket is closed');
        raw = this.ensureOpen();
      } catch (e) {
        reject(e);
        return;
      }
      this.seq = (this.seq % 0x7fffffff) + 1;
      const msg = Buffer.from(request);
      const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
      if (batch) {
        walkNlmsgs(dv, msg.length, (_type, off) => {
          dv.setUint32(off + 8, this.seq, HOST_LE);
        });
      } else {
        dv.setUint32(0, msg.length, HOST_LE);
        dv.setUint32(8, this.seq, HOST_LE);
      }

      const timer = setTimeout(() => {
        this.fail(new SockwatchError('io_error', `netlink ${batch ? 'lookup batch' : 'dump'} timed out after ${this.timeoutMs} ms`));
        this.resetRaw();
      }, this.timeoutMs);
      this.pending = { seq: this.seq, batch, chunks: [], resolve, reject, timer };
      raw.ref();
      try {
        raw.send(msg, undefined, (err) =>
          guarded(() => {
            if (err) {
              this.fail(new SockwatchError('io_error', `netlink send failed: ${errText(err)}`));
              this.resetRaw();
            }
          }),
        );
      } catch (e) {
        this.fail(new SockwatchError('io_error', `netlink send failed: ${errText(e)}`));
        this.resetRaw();
      }
    });
  }

  private ensureOpen(): RawSocket {
    if (this.raw) return this.raw;
    const { RawNetlinkSocket } = loadRaw();
    let raw: RawSocket;
    try {
      // messagePeeking off: one recvmsg per datagram into a buffer big enough for any dump chunk,
      // instead of a peek + read pair per ~4 KiB datagram.
      raw = new RawNetlinkSocket(NETLINK_SOCK_DIAG, {
        messagePeeking: false,
        msgBufferSize: this.datagramBytes,
        // room for a batch of exact-lookup replies (see SO_RCVBUF); dumps neither gain nor lose
        recvBufferSize: SO_RCVBUF,
        sendBufferSize: 0,
      });
    } catch (e) {
      throw new SockwatchError('not_supported', `cannot open a netlink sock_diag socket (${errText(e)}); use --source procfs`);
    }
    // Listeners must never throw: they run inside the addon's callback, where a throw is fatal
    // (see guarded()).
    raw.on('message', (buf, rinfo) =>
      guarded(() => {
        try {
          if (rinfo.port === 0) this.onDatagram(buf);
        } catch (e) {
          this.fail(new SockwatchError('io_error', `netlink reply handling failed: ${errText(e)}`));
        }
      }),
    );
    raw.on('truncatedMessage', () =>
      guarded(() => {
        this.fail(new SockwatchError('io_error', 'netlink reply truncated'));
        this.resetRaw();
      }),
    );
    raw.on('error', (err) =>
      guarded(() => {
        this.fail(new SockwatchError('io_error', `netlink socket error: ${errText(err)}`));
        this.resetRaw();
      }),
    );
    raw.unref();
    this.raw = raw;
    return raw;
  }

  private onDatagram(buf: Buffer): void {
    const p = this.pending;
    if (!p || buf.length < NLMSG_HDRLEN) return;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    // A datagram belongs to one dump; anything else is a leftover from an abandoned request.
    if (dv.getUint32(8, HOST_LE) !== p.seq) return;
    p.chunks.push(buf);
    const walked = walkNlmsgs(dv, buf.length, (type, off, len) => {
      if (type === NLMSG_DONE) {
        this.finish();
        return true;
      }
      if (type === NLMSG_ERROR) {
        const errno = len >= NLMSG_HDRLEN + 4 ? -dv.getInt32(off + NLMSG_HDRLEN, HOST_LE) : 0;
        if (errno === 0) {
          this.finish();
          return true;
        }
        if (!p.batch) {
          this.fail(new SockwatchError('io_error', `netlink sock_diag request failed: errno ${errno}`));
          return true;
        }
        // one lookup's answer (ENOENT: that socket is gone); the batch goes on
      }
      return false;
    });
    if (walked.how === 'bad') {
      this.fail(new SockwatchError('io_error', `malformed netlink reply (nlmsg_len ${walked.len})`));
      this.resetRaw();
    }
  }

  // Settled from setImmediate, not here: finish() and fail() run inside the addon's callbacks, and
  // a promise settled there runs its continuations (the poll loop, the views, stdout writes) as
  // microtasks before the addon's MakeCallback returns; anything they throw, or an unhandled
  // rejection, would escape as a C++ Napi::Error and abort the process.
  private finish(): void {
    const p = this.pending;
    if (!p) return;
    this.settle(p);
    setImmediate(() => p.resolve(p.chunks));
  }

  private fail(err: Error): void {
    const p = this.pending;
    if (!p) return;
    this.settle(p);
    setImmediate(() => p.reject(err));
  }

  private settle(p: Pending): void {
    clearTimeout(p.timer);
    this.pending = undefined;
    try {
      this.raw?.unref();
    } catch {
      // already closed by the addon after a poll error
    }
  }

  private resetRaw(): void {
    const raw = this.raw;
    this.raw = undefined;
    if (!raw) return;
    raw.removeAllListeners('message');
    try {
      raw.close();
    } catch {
      // closing twice, or after the addon closed it on error, is harmless
    }
  }
}

/**
 * Runs a callback the addon calls. node-addon-api turns an exception pending after a JS callback
 * into a C++ Napi::Error that nothing catches: `terminate called…`, exit 134. So nothing may leave
 * such a callback: an unexpected throw is rethrown from setImmediate, outside the addon, where it
 * is an ordinary uncaught exception with its stack.
 */
function guarded(f: () => void): void {
  try {
    f();
  } catch (e) {
    setImmediate(() => {
      throw e;
    });
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What a multicast subscription reports; none of these may throw (they run inside the addon's callback). */
export interface MulticastHandlers {
  /** one datagram as the kernel sent it */
  datagram(buf: Buffer): void;
  /** the kernel dropped datagrams because the receive buffer was full (ENOBUFS); how many is unknown */
  overrun(): void;
  /** a datagram larger than the receive buffer per datagram: its tail was cut off */
  truncated(): void;
  /** the socket failed for good (the addon closes it) */
  failed(reason: string): void;
}

export interface MulticastSubscription {
  close(): void;
}

/**
 * Joins sock_diag multicast groups (e.g. SKNLGRP_INET_TCP_DESTROY) and hands every datagram to
 * `handlers` as it arrives. Joining these groups needs no privilege. The socket is unref'd: a
 * subscription alone never keeps the process alive. Throws a SockwatchError('not_supported')
 * when the socket cannot be opened or a group cannot be joined.
 */
export function subscribeSockDiag(groups: readonly number[], handlers: MulticastHandlers, opts: { datagramBytes: number; recvBufferBytes: number }): MulticastSubscription {
  const { RawNetlinkSocket } = loadRaw();
  let raw: RawSocket;
  try {
    raw = new RawNetlinkSocket(NETLINK_SOCK_DIAG, {
      messagePeeking: false,
      msgBufferSize: opts.datagramBytes,
      recvBufferSize: opts.recvBufferBytes,
      sendBufferSize: 0,
    });
  } catch (e) {
    throw new SockwatchError('not_supported', `cannot open a netlink sock_diag socket (${errText(e)})`);
  }
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    raw.removeAllListeners('message');
    try {
      raw.close();
    } catch {
      // the addon closes the socket itself after a poll error
    }
  };
  try {
    for (const g of groups) raw.addMembership(g);
  } catch (e) {
    close();
    throw new SockwatchError('not_supported', `cannot join sock_diag multicast group (${errText(e)})`);
  }
  // Each runs inside the addon's callback: nothing may throw out of it (see guarded).
  raw.on('message', (buf, rinfo) =>
    guarded(() => {
      // only the kernel (port 0) sends to these groups; anything else is not ours to trust
      if (rinfo.port === 0) handlers.datagram(buf);
    }),
  );
  raw.on('truncatedMessage', () => guarded(() => handlers.truncated()));
  raw.on('error', (err) =>
    guarded(() => {
      // recvmsg's ENOBUFS leaves the socket usable: only datagrams were lost
      if (err.code === 'ENOBUFS') handlers.overrun();
      else {
        handlers.failed(errText(err));
        close();
      }
    }),
  );
  raw.unref();
  return { close };
}
