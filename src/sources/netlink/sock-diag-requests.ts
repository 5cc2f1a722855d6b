// What the netlink source asks of a sock_diag request socket (ffi-sock-diag-socket.ts answers),
// and the limits it keeps to.
import type { ReplySink } from './reply-collector';

export interface NetlinkDumpOptions {
  /**
   * Receive buffer per datagram (default: big enough for dump chunks). A larger reply is a
   * truncation, which rejects; LOOKUP_DATAGRAM_BYTES suits a socket used only for batch().
   */
  datagramBytes?: number;
  /** per dump; the socket is reopened afterwards so late replies cannot mix into the next dump */
  timeoutMs?: number;
}

/** Opens a sock_diag request socket (open-sock-diag.ts; tests may give another). A source takes one and opens every socket it needs with it. */
export type SockDiagSocketFactory = (opts: NetlinkDumpOptions) => SockDiagRequests;

export interface SockDiagRequests {
  /**
   * Send one dump request (bytes from buildInetDiagDumpRequest; its nlmsg_seq is overwritten)
   * and resolve with the reply datagrams up to and including the one holding NLMSG_DONE.
   * Rejects with a SockwatchError('io_error') on NLMSG_ERROR, timeout, socket error or close.
   * Requests are serialized: one in flight per socket. With a `sink`, the datagrams go to it as
   * they arrive, uncopied, and the promise resolves with none.
   */
  dump(request: Buffer, sink?: ReplySink): Promise<Uint8Array[]>;
  /**
   * Send many single-message requests (exact lookups) in one datagram, followed by an ack
   * sentinel (buildAckSentinel), and resolve with the reply datagrams up to and including the
   * sentinel's ack. Every message's nlmsg_seq is overwritten. Per-lookup errors (ENOENT) are
   * left in the replies for the decoder. Keep `requests.length` ≤ batchCapacity(): replies that
   * do not fit the receive buffer are dropped by the kernel, and this then rejects (ENOBUFS).
   * A `sink` takes the datagrams as for dump().
   */
  batch(requests: readonly Buffer[], sentinel: Buffer, sink?: ReplySink): Promise<Uint8Array[]>;
  /** How many exact lookups one batch may carry, from the receive buffer the kernel granted. */
  batchCapacity(): number;
  /** Pending and later requests reject with io_error. */
  close(): void;
}

/**
 * For a socket that only sends exact lookups: each reply is its own ~400-byte datagram, so small
 * per-datagram buffers: a receive ring's memory is slots × this.
 */
export const LOOKUP_DATAGRAM_BYTES = 1024;

/**
 * SO_RCVBUF asked for. Replies to a batch of exact lookups are queued (one skb each) before we
 * read any of them, and the kernel drops what does not fit (ENOBUFS), so the batch size follows
 * from the buffer. The kernel caps the request at net.core.rmem_max (often 208 KiB) and doubles it.
 */
export const SO_RCVBUF = 1024 * 1024;
/**
 * Bound on the memory one exact-lookup reply skb is charged (its truesize): a ~330-byte message
 * in a 512- or 1024-byte allocation plus sk_buff overhead. Generous, so a batch never overflows.
 */
export const REPLY_CHARGE = 2048;
/** A few hundred per datagram at most, whatever the buffer: batches stay short and serialized. */
export const MAX_BATCH = 256;
export const MIN_BATCH = 16;

/**
 * Requests serialized (one in flight per socket: the kernel runs one dump per socket anyway),
 * fresh sequence numbers, and the batch size the receive buffer allows.
 */
export abstract class SerializedRequests implements SockDiagRequests {
  private tail: Promise<void> = Promise.resolve();
  private seq = Math.floor(Math.random() * 0x7fffffff);

  dump(request: Buffer, sink?: ReplySink): Promise<Uint8Array[]> {
    return this.enqueue(() => this.exchange(request, false, sink));
  }

  batch(requests: readonly Buffer[], sentinel: Buffer, sink?: ReplySink): Promise<Uint8Array[]> {
    return this.enqueue(() => this.exchange(Buffer.concat([...requests, sentinel]), true, sink));
  }

  batchCapacity(): number {
    let rcvbuf = 0;
    try {
      rcvbuf = this.receiveBufferBytes();
    } catch {
      // leave it to the minimum; the batch itself will report a broken socket
    }
    return Math.max(MIN_BATCH, Math.min(MAX_BATCH, Math.floor(rcvbuf / REPLY_CHARGE)));
  }

  abstract close(): void;

  /** Sends `request` (stamped with nextSeq()) and resolves with its reply datagrams (none kept with a sink). */
  protected abstract exchange(request: Buffer, batch: boolean, sink: ReplySink | undefined): Promise<Uint8Array[]>;
  /** SO_RCVBUF as granted; may throw when the socket cannot be opened. */
  protected abstract receiveBufferBytes(): number;

  protected nextSeq(): number {
    this.seq = (this.seq % 0x7fffffff) + 1;
    return this.seq;
  }

  private enqueue(run: () => Promise<Uint8Array[]>): Promise<Uint8Array[]> {
    const result = this.tail.then(run, run);
    // settled without the result: the queue must not keep a dump's replies alive until the next request
    this.tail = result.then(noop, noop);
    return result;
  }
}

function noop(): void {}
