// Runs the fd-socket iterator (fd-socket-program.ts) over one process: load, link with the PID,
// read the records, close everything. Root only (CAP_BPF + CAP_PERFMON), Linux 6.1+ with BTF;
// anything else throws, and the caller takes the netlink path.
import { closeSync, readSync, statSync } from 'node:fs';
import { BpfSyscalls, PROG_TYPE_TRACING, ATTACH_TRACE_ITER } from './bpf-syscall';
import { CACHE_DIR, VMLINUX_BTF, cachedOffsets, cachedPerBoot } from './kernel-offsets';
import { RECORD_JIFFIES, fdSocketOffsetsFrom, parseFdSocketOffsets, recordLayout, type FdSocketOffsets } from './fd-socket-layout';
import { fdSocketProgram } from './fd-socket-program';
import { fdSocketRows, hzFromJiffies, type FdSocketRow } from './fd-socket-records';

const CACHE_FILE = `${CACHE_DIR}/fd-socket-offsets.json`;
const INITIAL_BYTES = 256 * 1024;
/** room left below which the buffer grows before the next read (a read fills at least a record) */
const MIN_READ = 16 * 1024;
/**
 * Bound on what one process's sockets may fill: 1,000,000 sockets' records (~150 MB). A process
 * cannot hold more descriptors than fs.nr_open (1,048,576 by default); the bound keeps memory
 * stated whatever the kernel says.
 */
const MAX_RECORDS = 1_000_000;

export function readFdSocketOffsets(path = VMLINUX_BTF): FdSocketOffsets {
  return cachedPerBoot(CACHE_FILE, path, fdSocketOffsetsFrom, (text, key) => {
    const v = cachedOffsets(text, key);
    return v === undefined ? undefined : parseFdSocketOffsets(v);
  });
}

/** The TCP sockets `pid` holds, with the descriptor of each (a socket on several fds: each). */
export function iterateFdSockets(pid: number): FdSocketRow[] {
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
    const limit = MAX_RECORDS * layout.size;
    // One buffer sized for the descriptors the process has, read into at its end and doubled if
    // short: the iterator hands out a page or so per read(), and a buffer per read was most of
    // the cost at 18,000 sockets (then the copies of a buffer grown from small).
    let data = Buffer.allocUnsafe(Math.min(limit, Math.max(INITIAL_BYTES, (openFds(pid) + 64) * layout.size)));
    let total = 0;
    for (;;) {
      if (data.length - total < MIN_READ) {
        if (data.length >= limit) throw new Error(`the process holds more than ${MAX_RECORDS} sockets`);
        const bigger = Buffer.allocUnsafe(Math.min(limit, data.length * 2));
        data.copy(bigger, 0, 0, total);
        data = bigger;
      }
      const n = readSync(iter, data, total, data.length - total, null);
      if (n === 0) break;
      total += n;
    }
    if (total < layout.size) return [];
    // HZ from the first record's jiffies, read a moment ago
    const hz = hzFromJiffies(u64At(data, RECORD_JIFFIES), Number(process.hrtime.bigint()));
    if (hz === undefined) throw new Error('cannot tell the kernel HZ (jiffies do not fit a known HZ)');
    return fdSocketRows(data, total, layout, hz);
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

/** The process's open descriptors as its fd directory's size says (Linux 6.2+; 0 before, or when unreadable). */
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
