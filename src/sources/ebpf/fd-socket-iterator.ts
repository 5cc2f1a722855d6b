// Runs the fd-socket iterator (fd-socket-program.ts) over one process: load, link with the PID,
// read the records, close everything. Root only (CAP_BPF + CAP_PERFMON), Linux 6.1+ with BTF;
// anything else throws, and the caller takes the netlink path.
import { closeSync, read, statSync } from 'node:fs';
import { BpfSyscalls, PROG_TYPE_TRACING, ATTACH_TRACE_ITER } from './bpf-syscall';
import { CACHE_DIR, VMLINUX_BTF, cachedOffsets, cachedPerBoot } from './kernel-offsets';
import { RECORD_JIFFIES, fdSocketOffsetsFrom, parseFdSocketOffsets, recordLayout, type FdSocketOffsets, type RecordLayout } from './fd-socket-layout';
import { fdSocketProgram } from './fd-socket-program';
import type { Connection } from '../../model';
import { FdSocketDecoder, hzFromJiffies } from './fd-socket-records';

const CACHE_FILE = `${CACHE_DIR}/fd-socket-offsets.json`;
/** what one read() asks for: the iterator hands out its 32 KiB buffer (170 records) or less per read */
const CHUNK_BYTES = 64 * 1024;
/**
 * Bound on the records one process may hand out: 1,000,000 sockets (their connections take about
 * 200 MB). A process cannot hold more descriptors than fs.nr_open (1,048,576 by default); the
 * bound keeps memory stated whatever the kernel says.
 */
const MAX_RECORDS = 1_000_000;

export function readFdSocketOffsets(path = VMLINUX_BTF): FdSocketOffsets {
  return cachedPerBoot(CACHE_FILE, path, fdSocketOffsetsFrom, (text, key) => {
    const v = cachedOffsets(text, key);
    return v === undefined ? undefined : parseFdSocketOffsets(v);
  });
}

/** The TCP connections `pid` holds, in fd order, each socket once (at its lowest fd). */
export async function iterateFdSockets(pid: number): Promise<Connection[]> {
  if (process.geteuid?.() !== 0) throw new Error('the fd-socket iterator needs root');
  const offsets = readFdSocketOffsets();
  const layout = recordLayout(offsets);
  const bpf = new BpfSyscalls();
  bpf.raiseMemlock();
  const fds: number[] = [];
  try {
    const prog = bpf.progLoad(PROG_TYPE_TRACING, fdSocketProgram(offsets, layout), 'sw_fd_sockets', { type: ATTACH_TRACE_ITER, btfId: offsets.iterFuncBtfId });
    fds.push(prog);
    const link = bpf.linkCreateTaskIter(prog, pid);
    fds.push(link);
    const iter = bpf.iterCreate(link);
    fds.push(iter);
    return await readRecords(iter, layout, openFds(pid));
  } finally {
    for (const fd of fds.reverse()) {
      try {
        closeSync(fd);
      } catch {
        // already gone
      }
    }
  }
}

/**
 * The iterator's records, decoded as they come: each read() runs the program over the next
 * descriptors on a thread of libuv's pool while this thread decodes what the last read returned
 * (at 18,000 sockets the kernel's part, ~23 ms, and the decoding, 10–35 ms as V8 warms up, then
 * take about the time of the longer). Two buffers in turn: one being filled, one being decoded; a
 * record cut at the end of a read is carried to the start of the next.
 */
async function readRecords(iter: number, layout: RecordLayout, expected: number): Promise<Connection[]> {
  const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)] as const;
  const limit = MAX_RECORDS * layout.size;
  let decoder: FdSocketDecoder | undefined;
  let turn = 0;
  let carried = 0;
  let total = 0;
  let n = await readAsync(iter, buffers[0], 0, CHUNK_BYTES);
  while (n > 0) {
    total += n;
    if (total > limit) throw new Error(`the process holds more than ${MAX_RECORDS} sockets`);
    const chunk = buffers[turn]!;
    const next = buffers[1 - turn]!;
    const have = carried + n;
    const whole = have - (have % layout.size);
    chunk.copy(next, 0, whole, have);
    carried = have - whole;
    // HZ from the first record's jiffies, read a moment ago; before the next read is started, so
    // that a throw never leaves a read of the iterator in flight while the caller closes it
    if (whole > 0) decoder ??= new FdSocketDecoder(layout, kernelHz(u64At(chunk, RECORD_JIFFIES)), expected);
    const pending = readAsync(iter, next, carried, CHUNK_BYTES - carried);
    if (whole > 0) decoder!.push(chunk, whole);
    turn = 1 - turn;
    n = await pending;
  }
  return decoder?.connections ?? [];
}

function kernelHz(jiffies: number): number {
  const hz = hzFromJiffies(jiffies, Number(process.hrtime.bigint()));
  if (hz === undefined) throw new Error('cannot tell the kernel HZ (jiffies do not fit a known HZ)');
  return hz;
}

function readAsync(fd: number, buffer: Buffer, offset: number, length: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buffer, offset, length, null, (e, n) => (e ? reject(e) : resolve(n))));
}

/** The process's open descriptors as its fd directory's size says (Linux 6.2+; 0 before, or when unreadable): a size hint. */
function openFds(pid: number): number {
  try {
    return statSync(`/proc/${pid}/fd`).size;
  } catch {
    return 0;
  }
}

function u64At(data: Buffer, at: number): number {
  return data.readUInt32LE(at + 4) * 0x1_0000_0000 + data.readUInt32LE(at);
}
