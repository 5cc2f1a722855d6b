// The BTF member reader on a small BTF blob built here (the layout of include/uapi/linux/btf.h),
// shaped like the kernel's: a struct inside a struct, members inside anonymous unions, typedefs,
// qualifiers, pointers, arrays, forward declarations; and on broken blobs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BtfError, BtfTypes } from '../../src/sources/ebpf/btf-members';
import { kernelOffsetsFrom, parseCache } from '../../src/sources/ebpf/kernel-offsets';

const KIND = { int: 1, ptr: 2, array: 3, struct: 4, union: 5, fwd: 7, typedef: 8, volatile: 9, const: 10, func: 12, funcProto: 13 } as const;

/** A little BTF writer: types get ids in the order added (1, 2, …). */
class BtfBuilder {
  private strings = Buffer.from('\0');
  private readonly types: Buffer[] = [];
  private str(s: string): number {
    if (s === '') return 0;
    const at = this.strings.length;
    this.strings = Buffer.concat([this.strings, Buffer.from(s + '\0')]);
    return at;
  }
  private add(name: string, kind: number, vlen: number, sizeOrType: number, extra: number[] = [], kflag = false): number {
    const b = Buffer.alloc(12 + extra.length * 4);
    b.writeUInt32LE(this.str(name), 0);
    b.writeUInt32LE((((kflag ? 1 : 0) << 31) | (kind << 24) | vlen) >>> 0, 4);
    b.writeUInt32LE(sizeOrType, 8);
    extra.forEach((w, i) => b.writeUInt32LE(w >>> 0, 12 + i * 4));
    this.types.push(b);
    return this.types.length;
  }
  int(name: string, size: number): number {
    return this.add(name, KIND.int, 0, size, [size * 8]);
  }
  ptr(to: number): number {
    return this.add('', KIND.ptr, 0, to);
  }
  typedef(name: string, to: number): number {
    return this.add(name, KIND.typedef, 0, to);
  }
  qualifier(kind: number, to: number): number {
    return this.add('', kind, 0, to);
  }
  array(elem: number, n: number): number {
    return this.add('', KIND.array, 0, 0, [elem, elem, n]);
  }
  fwd(name: string): number {
    return this.add(name, KIND.fwd, 0, 0);
  }
  funcProto(params: number): number {
    return this.add('', KIND.funcProto, params, 0, Array.from({ length: params * 2 }, () => 0));
  }
  struct(name: string, size: number, members: [string, number, number, number?][], kind: number = KIND.struct): number {
    const kflag = members.some((m) => m[3] !== undefined);
    const extra = members.flatMap(([n, type, bits, bitfield]) => [this.str(n), type, kflag ? (((bitfield ?? 0) << 24) | bits) >>> 0 : bits]);
    return this.add(name, kind, members.length, size, extra, kflag);
  }
  bytes(): Buffer {
    const types = Buffer.concat(this.types);
    const h = Buffer.alloc(24);
    h.writeUInt16LE(0xeb9f, 0);
    h.writeUInt8(1, 2);
    h.writeUInt32LE(24, 4);
    h.writeUInt32LE(0, 8);
    h.writeUInt32LE(types.length, 12);
    h.writeUInt32LE(types.length, 16);
    h.writeUInt32LE(this.strings.length, 20);
    return Buffer.concat([h, types, this.strings]);
  }
}

/** A kernel-shaped miniature: sock_common in sock, tcp_sock with members in an anonymous union. */
function kernelLike(): Buffer {
  const b = new BtfBuilder();
  const u32 = b.int('unsigned int', 4);
  const u64 = b.int('long long unsigned int', 8);
  const t32 = b.typedef('u32', u32);
  const t64 = b.typedef('u64', u64);
  b.fwd('net'); // a forward declaration first, as in the kernel: not the struct
  b.funcProto(2);
  const nsCommon = b.struct('ns_common', 16, [['stashed', u64, 0], ['inum', u32, 64], ['count', u32, 96]]);
  const net = b.struct('net', 256, [['passive', u32, 0], ['ns', nsCommon, 8 * 160]]);
  const netPtr = b.ptr(net);
  const possibleNet = b.struct('', 8, [['net', netPtr, 0]]);
  const possibleNetT = b.typedef('possible_net_t', possibleNet);
  const atomic64 = b.struct('', 8, [['counter', b.qualifier(KIND.volatile, u64), 0]]);
  const atomic64T = b.typedef('atomic64_t', atomic64);
  const sockCommon = b.struct('sock_common', 136, [
    ['skc_daddr', u32, 0],
    ['skc_net', possibleNetT, 48 * 8],
    ['skc_cookie', atomic64T, 88 * 8],
  ]);
  const sock = b.struct('sock', 760, [['__sk_common', sockCommon, 0]]);
  const counters = b.struct('', 16, [['bytes_sent', t64, 0], ['data_segs_out', t32, 64]]);
  const anon = b.struct('', 16, [['', counters, 0], ['other', u64, 0]], KIND.union);
  const flags = b.struct('', 4, [['repair', u32, 0, 1], ['nonagle', u32, 1, 4]]);
  b.struct('tcp_sock', 2304, [
    ['inet_conn', sock, 0],
    ['', anon, 1536 * 8],
    ['', flags, 1600 * 8],
    ['bytes_received', b.qualifier(KIND.const, t64), 1752 * 8],
    ['data_segs_in', t32, 1764 * 8],
    ['srtt_us', t32, 1680 * 8],
    ['bytes_acked', u64, 1824 * 8],
    ['total_retrans', u32, 2200 * 8],
    ['rx_opt', b.array(u32, 6), 1900 * 8],
  ]);
  return b.bytes();
}

test('members through nested structs, anonymous unions, typedefs and qualifiers', () => {
  const btf = new BtfTypes(kernelLike());
  assert.deepEqual(btf.member('tcp_sock', ['bytes_sent']), { offset: 1536, size: 8 });
  assert.deepEqual(btf.member('tcp_sock', ['data_segs_out']), { offset: 1544, size: 4 });
  assert.deepEqual(btf.member('tcp_sock', ['bytes_received']), { offset: 1752, size: 8 });
  assert.deepEqual(btf.member('tcp_sock', ['rx_opt']), { offset: 1900, size: 24 });
  assert.deepEqual(btf.member('sock', ['__sk_common', 'skc_cookie']), { offset: 88, size: 8 });
  assert.deepEqual(btf.member('tcp_sock', ['inet_conn', '__sk_common', 'skc_net', 'net']), { offset: 48, size: 8 });
  assert.deepEqual(btf.member('net', ['ns', 'inum']), { offset: 168, size: 4 }, 'the struct, not the forward declaration');
  const k = kernelOffsetsFrom(btf);
  assert.deepEqual(k.netPointer, { offset: 48, size: 8 });
  assert.deepEqual(k.totalRetrans, { offset: 2200, size: 4 });
});

test('what it cannot read is an error naming it, never a guessed offset', () => {
  const btf = new BtfTypes(kernelLike());
  assert.throws(() => btf.member('tcp_sock', ['no_such']), /struct tcp_sock has no no_such/);
  assert.throws(() => btf.member('udp_sock', ['x']), /no struct udp_sock/);
  assert.throws(() => btf.member('tcp_sock', ['nonagle']), /nonagle is a bit field/);
  assert.throws(() => btf.member('tcp_sock', ['bytes_acked', 'x']), /is not a struct/);
});

test('broken BTF blobs are refused', () => {
  const good = kernelLike();
  const cases: [string, Buffer, RegExp][] = [
    ['too short', good.subarray(0, 10), /too short/],
    ['bad magic', Buffer.concat([Buffer.from([0, 0]), good.subarray(2)]), /bad magic/],
    ['other byte order', Buffer.concat([Buffer.from([0xeb, 0x9f]), good.subarray(2)]), /other byte order/],
    ['sections past the end', good.subarray(0, good.length - 20), /run past the data/],
    ['a truncated type record', (() => { const b = Buffer.from(good); b.writeUInt32LE(b.readUInt32LE(12) - 4, 12); return b; })(), /truncated BTF type record/],
    ['an unknown kind', (() => { const b = Buffer.from(good); b.writeUInt32LE(31 << 24, 24 + 4); return b; })(), /unknown BTF kind 31/],
  ];
  for (const [what, data, want] of cases) assert.throws(() => new BtfTypes(data), (e: unknown) => e instanceof BtfError && want.test(e.message), what);
});

test('the per-boot cache: used only when it is this boot\'s and complete', () => {
  const k = kernelOffsetsFrom(new BtfTypes(kernelLike()));
  const text = JSON.stringify({ key: 'boot-1', offsets: k });
  assert.deepEqual(parseCache(text, 'boot-1'), k);
  assert.equal(parseCache(text, 'boot-2'), undefined, 'another boot');
  assert.equal(parseCache('{', 'boot-1'), undefined);
  assert.equal(parseCache('null', 'boot-1'), undefined);
  const { cookie: _gone, ...partial } = k;
  assert.equal(parseCache(JSON.stringify({ key: 'boot-1', offsets: partial }), 'boot-1'), undefined);
  assert.equal(parseCache(JSON.stringify({ key: 'boot-1', offsets: { ...k, srttUs: { offset: '1', size: 4 } } }), 'boot-1'), undefined);
});
