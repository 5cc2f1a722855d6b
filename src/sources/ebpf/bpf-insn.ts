// A small assembler for eBPF instructions (the kernel's struct bpf_insn, 8 bytes each:
// opcode, dst:4/src:4 registers, signed 16-bit offset, signed 32-bit immediate), with named
// labels for jumps so a program reads top to bottom. Pure: it only builds bytes, so the programs
// built with it are tested byte for byte without root.
//
// Only what sockwatch's programs use is here; the encodings are those of
// Documentation/bpf/standardization/instruction-set.rst.

export type Reg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;
export const R0: Reg = 0;
export const R1: Reg = 1;
export const R2: Reg = 2;
export const R3: Reg = 3;
export const R4: Reg = 4;
export const R5: Reg = 5;
export const R6: Reg = 6;
export const R7: Reg = 7;
export const R8: Reg = 8;
export const R9: Reg = 9;
/** the read-only frame pointer: the stack is the 512 bytes below it */
export const R10: Reg = 10;

export type Size = 1 | 2 | 4 | 8;

// instruction classes
const LD = 0x00;
const LDX = 0x01;
const ST = 0x02;
const STX = 0x03;
const ALU64 = 0x07;
const JMP = 0x05;
// modes and sources
const MEM = 0x60;
const ATOMIC = 0xc0;
const IMM = 0x00;
const K = 0x00;
const X = 0x08;
const SIZE_BITS: Record<Size, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };

export const ALU = { add: 0x00, sub: 0x10, mul: 0x20, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70, xor: 0xa0, mov: 0xb0 } as const;
export type AluOp = keyof typeof ALU;
export const JUMP = { jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40, jne: 0x50, jlt: 0xa0, jle: 0xb0 } as const;
export type JumpOp = keyof typeof JUMP;
const JA = 0x00;
const CALL = 0x80;
const EXIT = 0x90;

/** bpf_insn.src_reg of a 64-bit immediate load that names a map by its file descriptor */
export const PSEUDO_MAP_FD = 1;

/** The kernel's helper function numbers (enum bpf_func_id) the programs call. */
export const HELPER = {
  mapLookupElem: 1,
  mapUpdateElem: 2,
  mapDeleteElem: 3,
  ktimeGetNs: 5,
  getCurrentPidTgid: 14,
  probeReadKernel: 113,
  jiffies64: 118,
  seqWrite: 127,
  ringbufReserve: 131,
  ringbufSubmit: 132,
  ringbufDiscard: 133,
  sockFromFile: 162,
} as const;

interface Insn {
  code: number;
  dst: Reg;
  src: number;
  off: number;
  imm: number;
  /** a jump to a label, resolved by bytes() */
  target?: string;
}

export class Assembler {
  private readonly insns: Insn[] = [];
  private readonly labels = new Map<string, number>();

  /** Instructions so far (a 64-bit immediate load counts two). */
  get length(): number {
    return this.insns.length;
  }

  private emit(code: number, dst: Reg, src: number, off: number, imm: number, target?: string): this {
    if (off < -0x8000 || off > 0x7fff) throw new RangeError(`offset ${off} out of range`);
    if (imm < -0x80000000 || imm > 0xffffffff) throw new RangeError(`immediate ${imm} out of range`);
    this.insns.push({ code, dst, src, off, imm: imm | 0, ...(target === undefined ? {} : { target }) });
    return this;
  }

  /** dst = src (64-bit) */
  movReg(dst: Reg, src: Reg): this {
    return this.emit(ALU64 | ALU.mov | X, dst, src, 0, 0);
  }

  /** dst = imm, sign-extended to 64 bits */
  movImm(dst: Reg, imm: number): this {
    return this.emit(ALU64 | ALU.mov | K, dst, 0, 0, imm);
  }

  /** dst op= imm (64-bit) */
  aluImm(op: AluOp, dst: Reg, imm: number): this {
    return this.emit(ALU64 | ALU[op] | K, dst, 0, 0, imm);
  }

  /** dst op= src (64-bit) */
  aluReg(op: AluOp, dst: Reg, src: Reg): this {
    return this.emit(ALU64 | ALU[op] | X, dst, src, 0, 0);
  }

  /** dst = a full 64-bit constant (two instruction slots) */
  ldImm64(dst: Reg, value: bigint): this {
    const v = BigInt.asUintN(64, value);
    this.emit(LD | IMM | SIZE_BITS[8], dst, 0, 0, Number(v & 0xffffffffn));
    return this.emit(0, 0, 0, 0, Number(v >> 32n));
  }

  /** dst = the map whose file descriptor is `fd` (the kernel swaps in its address at load) */
  ldMapFd(dst: Reg, fd: number): this {
    this.emit(LD | IMM | SIZE_BITS[8], dst, PSEUDO_MAP_FD, 0, fd);
    return this.emit(0, 0, 0, 0, 0);
  }

  /** dst = *(size *)(src + off) */
  load(size: Size, dst: Reg, src: Reg, off: number): this {
    return this.emit(LDX | MEM | SIZE_BITS[size], dst, src, off, 0);
  }

  /** *(size *)(dst + off) = src */
  store(size: Size, dst: Reg, off: number, src: Reg): this {
    return this.emit(STX | MEM | SIZE_BITS[size], dst, src, off, 0);
  }

  /** *(size *)(dst + off) = imm */
  storeImm(size: Size, dst: Reg, off: number, imm: number): this {
    return this.emit(ST | MEM | SIZE_BITS[size], dst, 0, off, imm);
  }

  /** atomically *(u64 *)(dst + off) += src */
  atomicAdd64(dst: Reg, off: number, src: Reg): this {
    return this.emit(STX | ATOMIC | SIZE_BITS[8], dst, src, off, ALU.add);
  }

  /** if (dst op imm) goto label (unsigned comparisons) */
  jumpImm(op: JumpOp, dst: Reg, imm: number, label: string): this {
    return this.emit(JMP | JUMP[op] | K, dst, 0, 0, imm, label);
  }

  /** if (dst op src) goto label */
  jumpReg(op: JumpOp, dst: Reg, src: Reg, label: string): this {
    return this.emit(JMP | JUMP[op] | X, dst, src, 0, 0, label);
  }

  goto(label: string): this {
    return this.emit(JMP | JA, 0, 0, 0, 0, label);
  }

  /** r0 = helper(r1…r5); r1–r5 are clobbered */
  call(helper: number): this {
    return this.emit(JMP | CALL, 0, 0, 0, helper);
  }

  exit(): this {
    return this.emit(JMP | EXIT, 0, 0, 0, 0);
  }

  /** The next instruction is `name`'s target. */
  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`label ${name} defined twice`);
    this.labels.set(name, this.insns.length);
    return this;
  }

  /** The program as the kernel takes it (host byte order). */
  bytes(littleEndian = HOST_IS_LE): Buffer {
    const out = Buffer.alloc(this.insns.length * 8);
    this.insns.forEach((insn, i) => {
      let off = insn.off;
      if (insn.target !== undefined) {
        const at = this.labels.get(insn.target);
        if (at === undefined) throw new Error(`undefined label ${insn.target}`);
        off = at - (i + 1);
        if (off < -0x8000 || off > 0x7fff) throw new RangeError(`jump to ${insn.target} too far`);
      }
      const p = i * 8;
      out[p] = insn.code;
      out[p + 1] = littleEndian ? (insn.src << 4) | insn.dst : (insn.dst << 4) | insn.src;
      if (littleEndian) {
        out.writeInt16LE(off, p + 2);
        out.writeInt32LE(insn.imm, p + 4);
      } else {
        out.writeInt16BE(off, p + 2);
        out.writeInt32BE(insn.imm, p + 4);
      }
    });
    return out;
  }
}

const HOST_IS_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
