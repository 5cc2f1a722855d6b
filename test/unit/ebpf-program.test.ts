// The tcp-life and fork-follow programs as assembled from fixture `format` files: byte for byte
// against golden files (see test/fixtures/ebpf/README.md), and the properties that matter whatever
// the bytes: every context read at the format's offset and size, every jump inside the program.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseTracepointFormat } from '../../src/sources/ebpf/tracepoint-format';
import { forkFollowProgram, tcpLifeProgram, type KernelOffsets, type TcpLifeMaps } from '../../src/sources/ebpf/tcp-life-program';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/ebpf');
const format = (name: string) => parseTracepointFormat(readFileSync(path.join(FIXTURES, name), 'latin1'));

/** Linux 6.18's offsets (x86_64, as its BTF gives them) */
const OFFSETS: KernelOffsets = {
  bytesSent: { offset: 1544, size: 8 },
  bytesAcked: { offset: 1824, size: 8 },
  bytesReceived: { offset: 1752, size: 8 },
  segsOut: { offset: 1540, size: 4 },
  segsIn: { offset: 1764, size: 4 },
  totalRetrans: { offset: 2200, size: 4 },
  srttUs: { offset: 1680, size: 4 },
  cookie: { offset: 88, size: 8 },
  netPointer: { offset: 48, size: 8 },
  netnsInum: { offset: 176, size: 4 },
};
const MAPS: TcpLifeMaps = { pids: 11, owners: 12, listenPorts: 13, ring: 14, stats: 15 };
const NETNS = 4026531840;

function golden(name: string, bytes: Buffer): void {
  const text = (bytes.toString('hex').match(/.{16}/g) ?? []).join('\n') + '\n';
  const file = path.join(FIXTURES, name);
  if (process.env.SOCKWATCH_WRITE_GOLDEN === '1') writeFileSync(file, text);
  assert.equal(text, readFileSync(file, 'latin1'), `${name} differs from the golden file`);
}

interface Decoded {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}
function decode(b: Buffer): Decoded[] {
  const out: Decoded[] = [];
  for (let p = 0; p < b.length; p += 8) out.push({ code: b[p]!, dst: b[p + 1]! & 0xf, src: b[p + 1]! >> 4, off: b.readInt16LE(p + 2), imm: b.readInt32LE(p + 4) });
  return out;
}

/** Reads through r6 (the context, never reassigned): [offset, size] */
function contextReads(insns: Decoded[]): [number, number][] {
  const sizes: Record<number, number> = { 0x61: 4, 0x69: 2, 0x71: 1, 0x79: 8 };
  return insns.filter((i) => sizes[i.code] !== undefined && i.src === 6).map((i) => [i.off, sizes[i.code]!]);
}

function checkJumps(insns: Decoded[]): void {
  insns.forEach((i, at) => {
    const cls = i.code & 7;
    const op = i.code & 0xf0;
    if (cls !== 5 || op === 0x80 || op === 0x90) return;
    const to = at + 1 + i.off;
    assert.ok(to >= 0 && to < insns.length, `jump at ${at} lands at ${to}, outside the program`);
  });
  assert.equal(insns[insns.length - 1]!.code, 0x95, 'ends with exit');
}

test('tcp-life from the 6.18 format: golden bytes, every context read where the format says', () => {
  const f = format('inet_sock_set_state.format');
  const prog = tcpLifeProgram(f, OFFSETS, MAPS, NETNS);
  golden('tcp-life-6.18.hex', prog);
  const insns = decode(prog);
  checkJumps(insns);
  const allowed = new Map([...f.fields.values()].map((x) => [x.offset, x]));
  for (const [off, size] of contextReads(insns)) {
    const field = [...f.fields.values()].find((x) => off >= x.offset && off + size <= x.offset + x.size);
    assert.ok(field, `context read at ${off}+${size} is inside no field`);
    assert.equal(off % size, 0, `context read at ${off} is not aligned to its size ${size}`);
    if (field.arrayLength === undefined) assert.equal(size, field.size, `${field.name} read with ${size} bytes`);
  }
  assert.ok(allowed.size > 0);
  // the maps it names, and nothing else
  const fds = new Set(insns.filter((i) => i.code === 0x18 && i.src === 1).map((i) => i.imm));
  assert.deepEqual([...fds].sort(), [11, 12, 13, 14, 15]);
});

test('tcp-life follows the format: every field 8 bytes further reads 8 bytes further', () => {
  const a = contextReads(decode(tcpLifeProgram(format('inet_sock_set_state.format'), OFFSETS, MAPS, NETNS)));
  const b = contextReads(decode(tcpLifeProgram(format('inet_sock_set_state-shifted.format'), OFFSETS, MAPS, NETNS)));
  assert.deepEqual(b, a.map(([off, size]) => [off + 8, size]));
  golden('tcp-life-shifted.hex', tcpLifeProgram(format('inet_sock_set_state-shifted.format'), OFFSETS, MAPS, NETNS));
});

test('tcp-life reads the kernel struct offsets it is given (as probe_read sources)', () => {
  const moved: KernelOffsets = { ...OFFSETS, bytesSent: { offset: 1600, size: 8 } };
  const a = decode(tcpLifeProgram(format('inet_sock_set_state.format'), OFFSETS, MAPS, NETNS));
  const b = decode(tcpLifeProgram(format('inet_sock_set_state.format'), moved, MAPS, NETNS));
  const adds = (x: Decoded[]) => x.filter((i) => i.code === 0x07 && i.dst === 3).map((i) => i.imm);
  assert.ok(adds(a).includes(1544) && !adds(a).includes(1600));
  assert.ok(adds(b).includes(1600) && !adds(b).includes(1544));
  assert.equal(a.length, b.length);
});

test('tcp-life refuses a format or offsets it would read wrong', () => {
  const f = format('inet_sock_set_state.format');
  const narrow = parseTracepointFormat(readFileSync(path.join(FIXTURES, 'inet_sock_set_state.format'), 'latin1').replace('field:int newstate;\toffset:20;\tsize:4;', 'field:short newstate;\toffset:20;\tsize:2;'));
  assert.throws(() => tcpLifeProgram(narrow, OFFSETS, MAPS, NETNS), /newstate is 2 bytes, expected 4/);
  const noV6 = parseTracepointFormat(readFileSync(path.join(FIXTURES, 'inet_sock_set_state.format'), 'latin1').replace(/^.*daddr_v6.*$/m, ''));
  assert.throws(() => tcpLifeProgram(noV6, OFFSETS, MAPS, NETNS), /has no field daddr_v6/);
  assert.throws(() => tcpLifeProgram(f, { ...OFFSETS, srttUs: { offset: 1680, size: 8 } }, MAPS, NETNS), /srttUs is 8 bytes/);
});

test('fork-follow from the 6.18 task_newtask format: golden bytes', () => {
  const prog = forkFollowProgram(format('task_newtask.format'), 11);
  golden('fork-follow-6.18.hex', prog);
  const insns = decode(prog);
  checkJumps(insns);
  assert.deepEqual(contextReads(insns), [[32, 8], [8, 4]], 'clone_flags, then pid');
});
