// The ring buffer consumer over a fake ring laid out as the kernel's (kernel/bpf/ringbuf.c):
// records that wrap around the end, a discarded one, one still being written, a corrupt length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RingBufferReader, type RingMemory } from '../../src/sources/ebpf/ring-buffer-reader';

const BUSY = 0x80000000;
const DISCARD = 0x40000000;

/** A kernel-side writer for the fake ring: reserve (BUSY), then submit or discard. */
class FakeProducer {
  readonly mem: RingMemory;
  private readonly dv: DataView;
  constructor(readonly size: number) {
    this.mem = { consumer: new BigUint64Array(1), producer: new BigUint64Array(1), data: new Uint8Array(size) };
    this.dv = new DataView(this.mem.data.buffer);
  }
  get prod(): number {
    return Number(this.mem.producer[0]);
  }
  /** Writes a record's header (BUSY) and payload; returns its position. */
  reserve(payload: Uint8Array): number {
    const at = this.prod;
    const total = (payload.length + 8 + 7) & ~7;
    if (at + total - Number(this.mem.consumer[0]) > this.size) throw new Error('fake ring full');
    this.dv.setUint32(at % this.size, (payload.length | BUSY) >>> 0, true);
    payload.forEach((b, i) => (this.mem.data[(at + 8 + i) % this.size] = b));
    this.mem.producer[0] = BigInt(at + total);
    return at;
  }
  commit(at: number, discard = false): void {
    const len = this.dv.getUint32(at % this.size, true) & 0x3fffffff;
    this.dv.setUint32(at % this.size, (len | (discard ? DISCARD : 0)) >>> 0, true);
  }
  write(payload: Uint8Array, discard = false): void {
    this.commit(this.reserve(payload), discard);
  }
}

const record = (n: number, len: number): Uint8Array => Uint8Array.from({ length: len }, (_, i) => (n * 31 + i) & 0xff);

function readAll(r: RingBufferReader): Uint8Array[] {
  const out: Uint8Array[] = [];
  r.read((v, at, len) => out.push(new Uint8Array(v.buffer, v.byteOffset + at, len).slice()));
  return out;
}

test('records come out in order, whole, including those that wrap past the end', () => {
  const p = new FakeProducer(256);
  const r = new RingBufferReader(p.mem);
  const sent: Uint8Array[] = [];
  // 100 rounds of 1–3 records of varying sizes: the positions run far past the size, every
  // alignment of the wrap point occurs
  for (let round = 0; round < 100; round++) {
    for (let k = 0; k < 1 + (round % 3); k++) {
      const rec = record(round * 3 + k, 13 + ((round * 7 + k * 11) % 50));
      p.write(rec);
      sent.push(rec);
    }
    const got = readAll(r);
    assert.deepEqual(got, sent.splice(0), `round ${round}`);
    assert.equal(r.pending(), 0);
    assert.equal(Number(p.mem.consumer[0]), p.prod, 'the consumer position releases what was read');
  }
  assert.ok(p.prod > 256 * 20, 'wrapped many times');
});

test('a discarded record is skipped and counted; a record still being written stops the read until submitted', () => {
  const p = new FakeProducer(128);
  const r = new RingBufferReader(p.mem);
  p.write(record(1, 20));
  p.write(record(2, 20), true);
  const busy = p.reserve(record(3, 20));
  p.write(record(4, 20)); // submitted after a record still in progress: waits behind it
  assert.deepEqual(readAll(r), [record(1, 20)]);
  assert.equal(r.discarded, 1);
  assert.ok(r.pending() > 0, 'the busy record and the one after it are still there');
  assert.deepEqual(readAll(r), [], 'still busy');
  p.commit(busy);
  assert.deepEqual(readAll(r), [record(3, 20), record(4, 20)]);
  assert.equal(r.pending(), 0);
});

test('a length past the ring is corrupt: skipped to the producer, counted, never read out of bounds', () => {
  const p = new FakeProducer(64);
  const r = new RingBufferReader(p.mem);
  p.write(record(1, 8));
  new DataView(p.mem.data.buffer).setUint32(0, 5000, true);
  assert.deepEqual(readAll(r), []);
  assert.equal(r.corrupt, 1);
  assert.equal(Number(p.mem.consumer[0]), p.prod);
  p.write(record(2, 8));
  assert.deepEqual(readAll(r), [record(2, 8)], 'reading goes on after it');
});

test('a ring whose size is not a power of two is refused', () => {
  assert.throws(() => new RingBufferReader({ consumer: new BigUint64Array(1), producer: new BigUint64Array(1), data: new Uint8Array(96) }), /not a power of two/);
});
