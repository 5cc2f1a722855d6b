// The eBPF assembler against instruction bytes as llvm-objdump and the kernel's instruction-set
// document spell them (little-endian: opcode, src:4|dst:4, offset, immediate).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Assembler, HELPER, R0, R1, R10, R2, R6, R7, R9 } from '../../src/sources/ebpf/bpf-insn';

const hex = (a: Assembler): string[] => (a.bytes(true).toString('hex').match(/.{16}/g) ?? []);

test('single instructions encode as the kernel reads them', () => {
  const cases: [string, (a: Assembler) => Assembler, string[]][] = [
    ['r0 = 0', (a) => a.movImm(R0, 0), ['b700000000000000']],
    ['exit', (a) => a.exit(), ['9500000000000000']],
    ['r6 = r1', (a) => a.movReg(R6, R1), ['bf16000000000000']],
    ['r1 = *(u16 *)(r6 + 30)', (a) => a.load(2, R1, R6, 30), ['69611e0000000000']],
    ['r7 = *(u64 *)(r6 + 8)', (a) => a.load(8, R7, R6, 8), ['7967080000000000']],
    ['r1 = *(u8 *)(r0 + 0)', (a) => a.load(1, R1, R0, 0), ['7101000000000000']],
    ['r1 = *(u32 *)(r10 - 16)', (a) => a.load(4, R1, R10, -16), ['61a1f0ff00000000']],
    ['*(u64 *)(r10 - 8) = r7', (a) => a.store(8, R10, -8, R7), ['7b7af8ff00000000']],
    ['*(u8 *)(r9 + 20) = r1', (a) => a.store(1, R9, 20, R1), ['7319140000000000']],
    ['*(u32 *)(r10 - 12) = 3', (a) => a.storeImm(4, R10, -12, 3), ['620af4ff03000000']],
    ['*(u64 *)(r9 + 72) = 0', (a) => a.storeImm(8, R9, 72, 0), ['7a09480000000000']],
    ['call bpf_ktime_get_ns', (a) => a.call(HELPER.ktimeGetNs), ['8500000005000000']],
    ['call bpf_ringbuf_reserve', (a) => a.call(HELPER.ringbufReserve), ['8500000083000000']],
    ['r0 >>= 32', (a) => a.aluImm('rsh', R0, 32), ['7700000020000000']],
    ['r2 += -16', (a) => a.aluImm('add', R2, -16), ['07020000f0ffffff']],
    ['r1 &= 0x10000', (a) => a.aluImm('and', R1, 0x10000), ['5701000000000100']],
    ['lock *(u64 *)(r0 + 0) += r1', (a) => a.atomicAdd64(R0, 0, R1), ['db10000000000000']],
    ['r1 = map fd 7', (a) => a.ldMapFd(R1, 7), ['1811000007000000', '0000000000000000']],
    ['r2 = 0x1_f000_0001', (a) => a.ldImm64(R2, 0x1f0000001n), ['18020000010000f0', '0000000001000000']],
  ];
  for (const [what, build, want] of cases) assert.deepEqual(hex(build(new Assembler())), want, what);
});

test('jumps: offsets count instructions after the jump, forward and back, a 64-bit load as two', () => {
  const a = new Assembler();
  a.label('top');
  a.jumpImm('jne', R1, 6, 'out'); // 0 → 4: +3
  a.ldMapFd(R1, 3); // 1, 2
  a.jumpReg('jeq', R1, R2, 'top'); // 3 → 0: -4
  a.label('out').goto('out'); // 4 → 4: -1
  assert.deepEqual(hex(a), ['5501030006000000', '1811000003000000', '0000000000000000', '1d21fcff00000000', '0500ffff00000000']);
});

test('big-endian hosts: registers swap nibbles, numbers are big-endian', () => {
  const a = new Assembler().load(2, R1, R6, 30).movImm(R0, 1);
  assert.equal(a.bytes(false).toString('hex'), '6916001e00000000' + 'b700000000000001');
});

test('misuse throws: an undefined or twice-defined label, out-of-range numbers', () => {
  assert.throws(() => new Assembler().goto('nowhere').bytes(), /undefined label nowhere/);
  assert.throws(() => new Assembler().label('x').label('x'), /defined twice/);
  assert.throws(() => new Assembler().load(4, R1, R6, 40000), /offset 40000 out of range/);
  assert.throws(() => new Assembler().movImm(R1, 2 ** 33), /out of range/);
});
