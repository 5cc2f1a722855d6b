// Where a member of a kernel struct lies, from the kernel's own type information
// (/sys/kernel/btf/vmlinux, BTF). The tcp-life program reads a few fields of struct tcp_sock and
// struct sock with bpf_probe_read_kernel; their offsets change with every kernel build, and this
// is how it learns them without compiling anything. Only what that needs is decoded: the type
// records are walked once to index them, and structs are looked up by name.
//
// Format: include/uapi/linux/btf.h and Documentation/bpf/btf.rst.

export class BtfError extends Error {}

export interface MemberLocation {
  /** bytes from the start of the outermost struct */
  offset: number;
  size: number;
}

const MAGIC = 0xeb9f;
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HEADER_MIN = 24;

// kinds (btf_type.info bits 24–28)
const INT = 1;
const PTR = 2;
const ARRAY = 3;
const STRUCT = 4;
const UNION = 5;
const ENUM = 6;
const FWD = 7;
const TYPEDEF = 8;
const VOLATILE = 9;
const CONST = 10;
const RESTRICT = 11;
const FUNC = 12;
const FUNC_PROTO = 13;
const VAR = 14;
const DATASEC = 15;
const FLOAT = 16;
const DECL_TAG = 17;
const TYPE_TAG = 18;
const ENUM64 = 19;

/** bytes after the 12-byte btf_type record, per kind, for `vlen` entries */
function trailing(kind: number, vlen: number): number {
  switch (kind) {
    case INT:
    case VAR:
    case DECL_TAG:
      return 4;
    case ARRAY:
      return 12;
    case STRUCT:
    case UNION:
    case DATASEC:
    case ENUM64:
      return 12 * vlen;
    case ENUM:
    case FUNC_PROTO:
      return 8 * vlen;
    case PTR:
    case FWD:
    case TYPEDEF:
    case VOLATILE:
    case CONST:
    case RESTRICT:
    case FUNC:
    case FLOAT:
    case TYPE_TAG:
      return 0;
    default:
      throw new BtfError(`unknown BTF kind ${kind}`);
  }
}

export class BtfTypes {
  /** the data as host-order 32-bit words: every BTF record is 4-byte aligned */
  private readonly words: Uint32Array;
  private readonly typesAt: number;
  private readonly typesEnd: number;
  private readonly stringsAt: number;
  private readonly stringsEnd: number;
  /** where each type's record starts (index = type id; 0 is void) */
  private readonly starts: Int32Array;
  private readonly count: number;
  private readonly structIds = new Map<string, number>();

  private readonly data: Uint8Array;

  constructor(data: Uint8Array) {
    if (data.length < HEADER_MIN) throw new BtfError('BTF data too short');
    // the kernel's own BTF is in host order; BTF of the other order is refused (not ours to read)
    const le = data[0]! | (data[1]! << 8);
    const be = (data[0]! << 8) | data[1]!;
    if ((HOST_LE ? le : be) !== MAGIC) throw new BtfError((HOST_LE ? be : le) === MAGIC ? 'BTF of the other byte order' : 'not BTF (bad magic)');
    // a copy where the words would be misaligned (new Uint8Array copies; Buffer's slice would not)
    const aligned = data.byteOffset % 4 === 0 ? data : new Uint8Array(data);
    this.data = aligned;
    this.words = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >>> 2);
    const hdrLen = this.u32(4);
    if (hdrLen < HEADER_MIN || hdrLen > data.length) throw new BtfError('bad BTF header length');
    const typeOff = this.u32(8);
    const typeLen = this.u32(12);
    const strOff = this.u32(16);
    const strLen = this.u32(20);
    this.typesAt = hdrLen + typeOff;
    this.typesEnd = this.typesAt + typeLen;
    this.stringsAt = hdrLen + strOff;
    this.stringsEnd = this.stringsAt + strLen;
    if (this.typesEnd > data.length || this.stringsEnd > data.length) throw new BtfError('BTF sections run past the data');
    if (this.typesAt % 4 !== 0) throw new BtfError('misaligned BTF type section');
    // a type record is at least 12 bytes: an upper bound on the count
    const starts = new Int32Array(Math.floor(typeLen / 12) + 2);
    let n = 1;
    for (let p = this.typesAt; p < this.typesEnd; n++) {
      if (p + 12 > this.typesEnd) throw new BtfError('truncated BTF type record');
      starts[n] = p;
      const info = this.u32(p + 4);
      p += 12 + trailing((info >>> 24) & 0x1f, info & 0xffff);
      if (p > this.typesEnd) throw new BtfError('truncated BTF type record');
    }
    this.starts = starts;
    this.count = n;
  }

  private u32(at: number): number {
    return this.words[at >>> 2]!;
  }

  private string(off: number): string {
    const at = this.stringsAt + off;
    if (at >= this.stringsEnd) throw new BtfError('BTF string offset out of range');
    let end = at;
    while (end < this.stringsEnd && this.data[end] !== 0) end++;
    return Buffer.from(this.data.buffer, this.data.byteOffset + at, end - at).toString('latin1');
  }

  private record(id: number): { kind: number; vlen: number; kflag: boolean; nameOff: number; sizeOrType: number; at: number } {
    if (id <= 0 || id >= this.count) throw new BtfError(`BTF type id ${id} out of range`);
    const at = this.starts[id]!;
    const info = this.u32(at + 4);
    return { kind: (info >>> 24) & 0x1f, vlen: info & 0xffff, kflag: info >>> 31 === 1, nameOff: this.u32(at), sizeOrType: this.u32(at + 8), at };
  }

  /** the struct named `name` that has members (not a forward declaration) */
  structId(name: string): number {
    const cached = this.structIds.get(name);
    if (cached !== undefined) return cached;
    const id = this.findNamed(name, (kind, vlen) => (kind === STRUCT || kind === UNION) && vlen > 0);
    if (id === undefined) throw new BtfError(`no struct ${name} in BTF`);
    this.structIds.set(name, id);
    return id;
  }

  /** sizeof(struct `name`) */
  structSize(name: string): number {
    return this.record(this.structId(name)).sizeOrType;
  }

  /** the function named `name` (what a tracing program names as the place it attaches to) */
  funcId(name: string): number {
    const id = this.findNamed(name, (kind) => kind === FUNC);
    if (id === undefined) throw new BtfError(`no function ${name} in BTF`);
    return id;
  }

  /** the first type of a wanted kind named `name` */
  private findNamed(name: string, wanted: (kind: number, vlen: number) => boolean): number | undefined {
    // compared as bytes in place: decoding the names of every struct costs more than the walk
    const want = Buffer.from(name + '\0', 'latin1');
    const words = this.words;
    const data = this.data;
    for (let id = 1; id < this.count; id++) {
      const w = this.starts[id]! >>> 2;
      const info = words[w + 1]!;
      if (!wanted((info >>> 24) & 0x1f, info & 0xffff)) continue;
      const at = this.stringsAt + words[w]!;
      if (at + want.length > this.stringsEnd || data[at] !== want[0]) continue;
      let i = 1;
      while (i < want.length && data[at + i] === want[i]) i++;
      if (i === want.length) return id;
    }
    return undefined;
  }

  /** through typedefs and qualifiers to the type itself */
  private resolve(id: number): number {
    for (let hops = 0; hops < 32; hops++) {
      const r = this.record(id);
      if (r.kind !== TYPEDEF && r.kind !== VOLATILE && r.kind !== CONST && r.kind !== RESTRICT && r.kind !== TYPE_TAG) return id;
      id = r.sizeOrType;
    }
    throw new BtfError('BTF typedef chain too long');
  }

  private sizeOf(id: number): number {
    const r = this.record(this.resolve(id));
    switch (r.kind) {
      case INT:
      case STRUCT:
      case UNION:
      case ENUM:
      case ENUM64:
      case FLOAT:
        return r.sizeOrType;
      case PTR:
        return 8;
      case ARRAY: {
        const elem = this.u32(r.at + 12);
        return this.sizeOf(elem) * this.u32(r.at + 20);
      }
      default:
        throw new BtfError(`BTF type ${id} has no size`);
    }
  }

  /** `name` among the members of struct/union `id`, looking inside anonymous ones */
  private findMember(id: number, name: string, depth = 0): { offset: number; type: number } | undefined {
    if (depth > 8) return undefined;
    const r = this.record(this.resolve(id));
    if (r.kind !== STRUCT && r.kind !== UNION) throw new BtfError(`BTF type ${id} is not a struct`);
    for (let i = 0; i < r.vlen; i++) {
      const m = r.at + 12 + i * 12;
      const nameOff = this.u32(m);
      const type = this.u32(m + 4);
      const raw = this.u32(m + 8);
      const bits = r.kflag ? raw & 0xffffff : raw;
      const bitfield = r.kflag ? raw >>> 24 : 0;
      if (nameOff === 0) {
        const inner = this.record(this.resolve(type));
        if (inner.kind !== STRUCT && inner.kind !== UNION) continue;
        const found = this.findMember(type, name, depth + 1);
        if (found) return { offset: bits / 8 + found.offset, type: found.type };
        continue;
      }
      if (this.string(nameOff) !== name) continue;
      if (bitfield !== 0 || bits % 8 !== 0) throw new BtfError(`${name} is a bit field`);
      return { offset: bits / 8, type };
    }
    return undefined;
  }

  /**
   * Offset and size of `path` inside `struct structName`, through nested structs (not pointers):
   * `member('sock', ['__sk_common', 'skc_cookie'])`.
   */
  member(structName: string, path: readonly string[]): MemberLocation {
    let type = this.structId(structName);
    let offset = 0;
    for (const name of path) {
      const found = this.findMember(type, name);
      if (!found) throw new BtfError(`struct ${structName} has no ${path.join('.')}`);
      offset += found.offset;
      type = found.type;
    }
    return { offset, size: this.sizeOf(type) };
  }
}
