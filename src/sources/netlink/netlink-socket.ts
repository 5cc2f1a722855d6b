// The only file that touches the `netlink` package. We use its lowest layer, RawNetlinkSocket
// (a dgram-like socket that hands us whole datagrams), and do the framing ourselves: the package's
// higher layer parses every message into objects, which is wasted work for a 20,000-row dump
// that we mostly skip by inode. Requests are serialized (one dump or one batch in flight per
// socket): the kernel runs one dump per socket anyway, and a flood of concurrent requests (1,000
// sends in flight) has been seen to abort the process inside the addon.

import type * as RawModule from 'netlink/dist/raw';
import { SockwatchError } from '../../errors';
import { NETLINK_SOCK_DIAG } from './sock-diag-constants';
import { ReplyCollector, stampRequest, type ReplySink } from './reply-collector';
import { SO_RCVBUF, SerializedRequests, type NetlinkDumpOptions } from './sock-diag-requests';

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

/**
 * A datagram buffer big enough for the largest dump chunk the kernel builds: netlink_dump sizes
 * it from our reads but caps it at SKB_WITH_OVERHEAD(32768). The addon mallocs and zero-fills
 * this much for every datagram, outside V8's view of the heap, so a bigger one only costs memory
 * (it was 64 KiB; a larger reply would still be caught as truncated, which rejects).
 */
const DUMP_DATAGRAM_BYTES = 32 * 1024;

interface Pending {
  collector: ReplyCollector;
  resolve(chunks: Uint8Array[]): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** The `netlink` package's addon as a sock_diag request socket: the fallback where koffi cannot load. */
export class SockDiagSocket extends SerializedRequests {
  readonly io = 'addon' as const;
  private raw: RawSocket | undefined;
  private pending: Pending | undefined;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly datagramBytes: number;

  /** Opens the socket now so that "no netlink here" surfaces at creation, as a SockwatchError. */
  constructor(opts: NetlinkDumpOptions = {}) {
    super();
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.datagramBytes = opts.datagramBytes ?? DUMP_DATAGRAM_BYTES;
    this.ensureOpen();
  }

  protected receiveBufferBytes(): number {
    return this.ensureOpen().getRecvBufferSize();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(new SockwatchError('io_error', 'netlink socket closed during a dump'));
    this.resetRaw();
  }

  protected exchange(request: Buffer, batch: boolean, sink: ReplySink | undefined): Promise<Uint8Array[]> {
    return new Promise<Uint8Array[]>((resolve, reject) => {
      let raw: RawSocket;
      try {
        if (this.closed) throw new SockwatchError('io_error', 'netlink socket is closed');
        raw = this.ensureOpen();
      } catch (e) {
        reject(e);
        return;
      }
      const seq = this.nextSeq();
      const msg = stampRequest(request, seq, batch);

      const timer = setTimeout(() => {
        this.fail(new SockwatchError('io_error', `netlink ${batch ? 'lookup batch' : 'dump'} timed out after ${this.timeoutMs} ms`));
        this.resetRaw();
      }, this.timeoutMs);
      this.pending = { collector: new ReplyCollector(seq, batch, sink), resolve, reject, timer };
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
    if (!p) return;
    const v = p.collector.take(buf);
    if (v.kind === 'done') this.finish();
    else if (v.kind === 'failed') {
      this.fail(v.error);
      if (v.reset) this.resetRaw();
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
    setImmediate(() => p.resolve(p.collector.chunks));
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
