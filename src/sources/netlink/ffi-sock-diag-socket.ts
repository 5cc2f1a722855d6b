// The sock_diag request socket on direct libc calls (libc-netlink.ts): a request is sent, and its
// replies are taken a batch of datagrams per system call, without going through the event loop
// per datagram. The kernel answers exact lookups inside the sendmsg that carries them and builds
// each dump chunk inside the receive that makes room for it, so the replies are there when asked
// for; the loop still yields to the event loop between rounds of a long dump, and waits (briefly,
// without blocking) if a reply is not there yet.
import { setImmediate as nextTurn, setTimeout as pause } from 'node:timers/promises';
import { SockwatchError } from '../../errors';
import { LibcNetlinkSocket } from './libc-netlink';
import { ReplyCollector, stampRequest, type ReplySink } from './reply-collector';
import { NETLINK_SOCK_DIAG } from './sock-diag-constants';
import { MAX_BATCH, SO_RCVBUF, SerializedRequests, type NetlinkDumpOptions } from './sock-diag-requests';

/** The largest dump chunk the kernel builds (netlink_dump caps it at SKB_WITH_OVERHEAD(32768)). */
const DUMP_SLOT_BYTES = 32 * 1024;
/** Dump chunks per receive: a round of up to 2 MiB between turns of the event loop. */
const DUMP_SLOTS = 64;
/** A lookup batch (MAX_BATCH replies and the sentinel's ack) fits one receive. */
const LOOKUP_SLOTS = MAX_BATCH + 16;

export class FfiSockDiagSocket extends SerializedRequests {
  private sock: LibcNetlinkSocket | undefined;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly slotBytes: number;

  /** Opens the socket now: "cannot be used here" surfaces at creation, as not_supported. */
  constructor(opts: NetlinkDumpOptions = {}) {
    super();
    this.timeoutMs = opts.timeoutMs ?? 5000;
    // a lookup-only socket never receives a dump chunk: small slots, many of them
    this.slotBytes = opts.datagramBytes ?? DUMP_SLOT_BYTES;
    this.ensureOpen();
  }

  close(): void {
    this.closed = true;
    this.reset();
  }

  protected receiveBufferBytes(): number {
    return this.ensureOpen().receiveBufferBytes();
  }

  private ensureOpen(): LibcNetlinkSocket {
    if (this.closed) throw new SockwatchError('io_error', 'netlink socket is closed');
    this.sock ??= new LibcNetlinkSocket(NETLINK_SOCK_DIAG, {
      slotBytes: this.slotBytes,
      slots: this.slotBytes >= DUMP_SLOT_BYTES ? DUMP_SLOTS : LOOKUP_SLOTS,
      recvBufferBytes: SO_RCVBUF,
    });
    return this.sock;
  }

  /** After a failure the socket is replaced, so late replies of this request cannot mix into the next. */
  private reset(): void {
    this.sock?.close();
    this.sock = undefined;
  }

  protected async exchange(request: Buffer, batch: boolean, sink: ReplySink | undefined): Promise<Uint8Array[]> {
    try {
      return await this.exchangeOnce(request, batch, sink);
    } catch (e) {
      this.reset();
      throw e instanceof SockwatchError ? e : new SockwatchError('io_error', `netlink request failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private async exchangeOnce(request: Buffer, batch: boolean, sink: ReplySink | undefined): Promise<Uint8Array[]> {
    const seq = this.nextSeq();
    const collector = new ReplyCollector(seq, batch, sink);
    this.ensureOpen().send(stampRequest(request, seq, batch));
    const deadline = Date.now() + this.timeoutMs;
    let waits = 0;
    for (;;) {
      if (this.closed) throw new SockwatchError('io_error', 'netlink socket closed during a dump');
      // a sink reads each datagram in place before the next receive; kept datagrams need a copy
      const got = this.ensureOpen().receive(sink === undefined);
      for (const d of got) {
        if (!d.fromKernel) continue;
        if (d.truncated) throw new SockwatchError('io_error', 'netlink reply truncated');
        const v = collector.take(d.data);
        if (v.kind === 'done') return collector.chunks;
        if (v.kind === 'failed') throw v.error;
      }
      if (got.length > 0) {
        waits = 0;
        if (!batch) await nextTurn();
        continue;
      }
      if (Date.now() > deadline) {
        throw new SockwatchError('io_error', `netlink ${batch ? 'lookup batch' : 'dump'} timed out after ${this.timeoutMs} ms`);
      }
      // Not there yet (a reply can lag the send under load): a few turns, then 1 ms naps.
      await (waits++ < 8 ? nextTurn() : pause(1));
    }
  }
}
