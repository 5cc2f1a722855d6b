// What the sock_diag request socket (ffi-sock-diag-socket.ts) does with a request and its reply
// datagrams: stamp the request's sequence number, keep the datagrams that answer it, and tell when
// the answer is complete. Pure: no socket, no clock, so malformed replies are unit-tested here.
import { SockwatchError } from '../../errors';
import { HOST_LE, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN } from './sock-diag-constants';
import { walkNlmsgs } from './nlmsg-walk';

/**
 * A copy of `request` with `seq` in every message's nlmsg_seq. A batch holds many messages
 * (exact lookups and their ack sentinel); a dump request is one message, whose length is also
 * set from the buffer.
 */
export function stampRequest(request: Buffer, seq: number, batch: boolean): Buffer {
  const msg = Buffer.from(request);
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  if (batch) {
    walkNlmsgs(dv, msg.length, (_type, off) => {
      dv.setUint32(off + 8, seq, HOST_LE);
    });
  } else {
    dv.setUint32(0, msg.length, HOST_LE);
    dv.setUint32(8, seq, HOST_LE);
  }
  return msg;
}

/**
 * Takes each reply datagram of a request as it arrives. The bytes are valid only during the call
 * (the FFI socket receives into memory it reuses): a sink copies what it keeps.
 */
export type ReplySink = (datagram: Uint8Array) => void;

/** What one datagram did to the request: more to come, the answer is whole, or it failed. */
export type Verdict = { kind: 'more' } | { kind: 'done' } | { kind: 'failed'; error: SockwatchError; reset: boolean };

const MORE: Verdict = { kind: 'more' };
const DONE: Verdict = { kind: 'done' };

/**
 * The reply datagrams of one request. A dump ends at NLMSG_DONE and fails at NLMSG_ERROR; a batch
 * of exact lookups ends at its sentinel's ack (NLMSG_ERROR with errno 0), and its lookups' own
 * errors (ENOENT: that socket is gone) are answers left for the decoder. A datagram with another
 * sequence number is a leftover of an abandoned request and is ignored.
 */
export class ReplyCollector {
  /** the datagrams that answer the request, unless they go to a sink */
  readonly chunks: Uint8Array[] = [];

  /**
   * With a `sink`, each answering datagram is handed to it as it arrives and not kept; a sink
   * that throws fails the request.
   */
  constructor(
    readonly seq: number,
    private readonly batch: boolean,
    private readonly sink?: ReplySink,
  ) {}

  take(buf: Uint8Array): Verdict {
    if (buf.length < NLMSG_HDRLEN) return MORE;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (dv.getUint32(8, HOST_LE) !== this.seq) return MORE;
    if (this.sink === undefined) {
      this.chunks.push(buf);
    } else {
      try {
        this.sink(buf);
      } catch (e) {
        return { kind: 'failed', error: new SockwatchError('io_error', `netlink reply not decoded: ${e instanceof Error ? e.message : String(e)}`), reset: false };
      }
    }
    let verdict = MORE;
    const walked = walkNlmsgs(dv, buf.length, (type, off, len) => {
      if (type === NLMSG_DONE) {
        verdict = DONE;
        return true;
      }
      if (type !== NLMSG_ERROR) return false;
      const errno = len >= NLMSG_HDRLEN + 4 ? -dv.getInt32(off + NLMSG_HDRLEN, HOST_LE) : 0;
      if (errno === 0) {
        verdict = DONE;
        return true;
      }
      if (this.batch) return false;
      verdict = { kind: 'failed', error: new SockwatchError('io_error', `netlink sock_diag request failed: errno ${errno}`), reset: false };
      return true;
    });
    if (walked.how === 'bad') {
      return { kind: 'failed', error: new SockwatchError('io_error', `malformed netlink reply (nlmsg_len ${walked.len})`), reset: true };
    }
    return verdict;
  }
}
