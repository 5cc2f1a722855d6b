// The consumer side of a BPF_MAP_TYPE_RINGBUF, over its mmap'd pages, read in place: no system
// call and no wake-up per record (the program submits with BPF_RB_NO_WAKEUP; we read on a timer
// and when asked). Layout (kernel/bpf/ringbuf.c): a page holding the consumer position (ours to
// write), a page holding the producer position, then the data area, a power of two. Each record
// is an 8-byte header — u32 length with a BUSY bit (reserved, not yet submitted) and a DISCARD
// bit, u32 page offset — and its payload, padded to 8 bytes. Positions only grow; a position's
// byte is at `position & (size - 1)`.
//
// The kernel maps the data area twice in a row so a record that wraps reads as one piece; this
// reader does not rely on it (it maps the area once and copies a wrapping record), so it works on
// any memory laid out the same way, including the test's.

export interface RingMemory {
  /** the consumer position, one u64 (written here) */
  consumer: BigUint64Array;
  /** the producer position, one u64 (read only) */
  producer: BigUint64Array;
  /** the data area, a power of two bytes, 8-aligned */
  data: Uint8Array;
}

const HEADER = 8;
const BUSY = 0x80000000;
const DISCARD = 0x40000000;

/** Called per record: its payload is `length` bytes of `view` from `offset`, valid only during the call. */
export type RecordSink = (view: DataView, offset: number, length: number) => void;

export class RingBufferReader {
  private readonly words: Uint32Array;
  private readonly view: DataView;
  private readonly mask: number;
  private scratch = new DataView(new ArrayBuffer(256));
  /** records the kernel discarded (never written by the program; counted for tests) */
  discarded = 0;
  /** times the ring held something unreadable (a length past its size): skipped to the producer */
  corrupt = 0;

  constructor(private readonly mem: RingMemory) {
    const size = mem.data.byteLength;
    if (size < HEADER || (size & (size - 1)) !== 0) throw new Error(`ring size ${size} is not a power of two`);
    if (mem.data.byteOffset % 8 !== 0) throw new Error('ring data not 8-aligned');
    this.mask = size - 1;
    this.words = new Uint32Array(mem.data.buffer, mem.data.byteOffset, size >>> 2);
    this.view = new DataView(mem.data.buffer, mem.data.byteOffset, size);
  }

  /** Bytes submitted but not yet read. */
  pending(): number {
    return Number(Atomics.load(this.mem.producer, 0) - Atomics.load(this.mem.consumer, 0));
  }

  /**
   * Hands every submitted record to `sink`, oldest first, up to a record still being written
   * (BUSY: the next read takes it). Returns how many records were handed over.
   */
  read(sink: RecordSink): number {
    const size = this.mask + 1;
    let cons = Number(Atomics.load(this.mem.consumer, 0));
    const prod = Number(Atomics.load(this.mem.producer, 0));
    let n = 0;
    while (cons < prod) {
      const at = cons & this.mask;
      const header = Atomics.load(this.words, at >>> 2);
      if ((header & BUSY) !== 0) break;
      const length = header & 0x3fffffff;
      const total = (length + HEADER + 7) & ~7;
      if (length > size - HEADER || cons + total > prod) {
        this.corrupt++;
        cons = prod;
        break;
      }
      if ((header & DISCARD) !== 0) this.discarded++;
      else {
        const payload = (at + HEADER) & this.mask;
        if (payload + length <= size) sink(this.view, payload, length);
        else sink(this.unwrap(payload, length), 0, length);
        n++;
      }
      cons += total;
      // released record by record: the kernel may reuse the space as soon as it is read
      Atomics.store(this.mem.consumer, 0, BigInt(cons));
    }
    if (cons === prod) Atomics.store(this.mem.consumer, 0, BigInt(cons));
    return n;
  }

  /** A record that runs past the end of the data area, copied into one piece. */
  private unwrap(from: number, length: number): DataView {
    if (this.scratch.byteLength < length) this.scratch = new DataView(new ArrayBuffer(length));
    const out = new Uint8Array(this.scratch.buffer, 0, length);
    const first = this.mask + 1 - from;
    out.set(this.mem.data.subarray(from, from + first), 0);
    out.set(this.mem.data.subarray(0, length - first), first);
    return this.scratch;
  }
}
