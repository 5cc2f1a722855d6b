// The kernel calls behind the eBPF source, made directly through koffi and libc (no bpftrace, no
// libbpf): bpf(2) for maps and programs, perf_event_open(2) + ioctl to attach a program to a
// tracepoint, mmap for the ring buffer, mount(2) for tracefs. Every call is synchronous and fails
// with a BpfCallError naming the call and the errno; nothing here throws into native code.
//
// bpf_attr and perf_event_attr are written by hand at their uapi offsets (include/uapi/linux/
// bpf.h, perf_event.h); both are extensible structs whose unused tail must be zero.

import { loadKoffiLibc } from '../netlink/libc-netlink';

type KoffiModule = typeof import('koffi');
/** a native pointer as koffi hands it out */
type NativePointer = unknown;

export class BpfCallError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    detail = '',
  ) {
    super(`${call} failed: ${errnoName(errno)}${detail ? ` (${detail})` : ''}`);
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  7: 'E2BIG',
  9: 'EBADF',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  14: 'EFAULT',
  16: 'EBUSY',
  17: 'EEXIST',
  19: 'ENODEV',
  22: 'EINVAL',
  24: 'EMFILE',
  28: 'ENOSPC',
  38: 'ENOSYS',
  95: 'EOPNOTSUPP',
  524: 'ENOTSUPP',
};

export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

export const EPERM = 1;
export const ENOENT = 2;
export const E2BIG = 7;
export const EAGAIN = 11;
export const EINVAL = 22;
export const ENOSYS = 38;

// bpf(2) commands
const BPF_MAP_CREATE = 0;
const BPF_MAP_LOOKUP_ELEM = 1;
const BPF_MAP_UPDATE_ELEM = 2;
const BPF_MAP_DELETE_ELEM = 3;
const BPF_MAP_GET_NEXT_KEY = 4;
const BPF_PROG_LOAD = 5;
const BPF_LINK_CREATE = 28;
const BPF_ITER_CREATE = 33;
/** bytes of bpf_attr passed: every field used here lies within */
const ATTR_SIZE = 128;

export const MAP_TYPE = { hash: 1, array: 2, lruHash: 9, ringbuf: 27 } as const;
export const PROG_TYPE_TRACEPOINT = 5;
export const PROG_TYPE_TRACING = 26;
/** bpf_attach_type of an iterator program (BPF_TRACE_ITER) */
export const ATTACH_TRACE_ITER = 28;

const PERF_TYPE_TRACEPOINT = 2;
const PERF_ATTR_SIZE = 128;
const PERF_FLAG_FD_CLOEXEC = 8;
const PERF_EVENT_IOC_ENABLE = 0x2400;
const PERF_EVENT_IOC_SET_BPF = 0x40042408;

const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;

const SYSCALL_NUMBERS: Partial<Record<string, { bpf: number; perfEventOpen: number }>> = {
  x64: { bpf: 321, perfEventOpen: 298 },
  arm64: { bpf: 280, perfEventOpen: 241 },
};

/** BPF_PROG_LOAD attempts while the verifier answers EAGAIN (libbpf's count) */
const LOAD_ATTEMPTS = 5;
/** glibc's sigset_t (1024 bits), and pthread_sigmask's `how` */
const SIGSET_BYTES = 128;
const SIG_BLOCK = 0;
const SIG_SETMASK = 2;
/** how much of a refused program's verifier log is kept for the one-line reason */
const LOG_BYTES = 64 * 1024;

interface Libc {
  koffi: KoffiModule;
  /** long syscall(long number, ...): variadic, each argument given as a (type, value) pair */
  syscall: (...args: unknown[]) => number | bigint;
  ioctl: (...args: unknown[]) => number;
  mmap(addr: null, length: number, prot: number, flags: number, fd: number, offset: number): NativePointer;
  munmap(addr: NativePointer, length: number): number;
  close(fd: number): number;
  mount(source: string, target: string, fstype: string, flags: number, data: null): number;
  getpagesize(): number;
  setrlimit(resource: number, limits: Buffer): number;
  pthreadSigmask(how: number, set: Buffer | null, old: Buffer | null): number;
}

let libc: Libc | undefined;

function bindLibc(): Libc {
  if (libc) return libc;
  if (process.platform !== 'linux') throw new Error('not Linux');
  const { koffi, lib } = loadKoffiLibc();
  if (koffi.sizeof('void *') !== 8) throw new Error('not a 64-bit platform');
  libc = {
    koffi,
    syscall: lib.func('long syscall(long, ...)') as Libc['syscall'],
    ioctl: lib.func('int ioctl(int, unsigned long, ...)') as Libc['ioctl'],
    mmap: lib.func('void *mmap(void *, size_t, int, int, int, long)') as Libc['mmap'],
    munmap: lib.func('int munmap(void *, size_t)') as Libc['munmap'],
    close: lib.func('int close(int)') as Libc['close'],
    mount: lib.func('int mount(const char *, const char *, const char *, unsigned long, const void *)') as Libc['mount'],
    getpagesize: lib.func('int getpagesize(void)') as Libc['getpagesize'],
    setrlimit: lib.func('int setrlimit(int, const void *)') as Libc['setrlimit'],
    pthreadSigmask: lib.func('int pthread_sigmask(int, const void *, void *)') as Libc['pthreadSigmask'],
  };
  return libc;
}

/** A mapping of kernel memory (the ring buffer's pages), read in place. */
export interface Mapping {
  readonly ptr: NativePointer;
  readonly length: number;
  readonly buffer: ArrayBuffer;
}

export interface MapSpec {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
  /** shown by bpftool; at most 15 characters */
  name: string;
}

/** The bpf/perf calls, bound once per process. */
export class BpfSyscalls {
  private readonly c: Libc;
  private readonly nr: { bpf: number; perfEventOpen: number };

  constructor() {
    const nr = SYSCALL_NUMBERS[process.arch];
    if (!nr) throw new Error(`no bpf(2) system call number known for ${process.arch}`);
    this.nr = nr;
    this.c = bindLibc();
  }

  get koffi(): KoffiModule {
    return this.c.koffi;
  }

  /** The address of a Buffer's bytes, for the pointers inside bpf_attr (kept alive by the caller). */
  private addr(b: Uint8Array): bigint {
    return this.c.koffi.address(b) as bigint;
  }

  private bpf(cmd: number, attr: Buffer, what: string): number {
    const r = Number(this.c.syscall(this.nr.bpf, 'int', cmd, 'void *', attr, 'unsigned int', attr.length));
    if (r < 0) throw new BpfCallError(what, this.c.koffi.errno());
    return r;
  }

  /** Tries the call; false with errno ENOENT (no such key), throws on any other failure. */
  private bpfKeyed(cmd: number, attr: Buffer, what: string): boolean {
    const r = Number(this.c.syscall(this.nr.bpf, 'int', cmd, 'void *', attr, 'unsigned int', attr.length));
    if (r >= 0) return true;
    const errno = this.c.koffi.errno();
    if (errno === ENOENT) return false;
    throw new BpfCallError(what, errno);
  }

  mapCreate(m: MapSpec): number {
    const a = Buffer.alloc(ATTR_SIZE);
    a.writeUInt32LE(m.type, 0);
    a.writeUInt32LE(m.keySize, 4);
    a.writeUInt32LE(m.valueSize, 8);
    a.writeUInt32LE(m.maxEntries, 12);
    a.writeUInt32LE(m.flags ?? 0, 16);
    a.write(m.name.slice(0, 15), 28, 'latin1');
    return this.bpf(BPF_MAP_CREATE, a, `creating the ${m.name} map`);
  }

  private elemAttr(fd: number, key: Buffer | null, value: Buffer | null, flags: number): Buffer {
    const a = Buffer.alloc(ATTR_SIZE);
    a.writeUInt32LE(fd, 0);
    if (key) a.writeBigUInt64LE(this.addr(key), 8);
    if (value) a.writeBigUInt64LE(this.addr(value), 16);
    a.writeBigUInt64LE(BigInt(flags), 24);
    return a;
  }

  mapUpdate(fd: number, key: Buffer, value: Buffer, flags = 0): void {
    this.bpf(BPF_MAP_UPDATE_ELEM, this.elemAttr(fd, key, value, flags), 'updating a map');
  }

  /** false when the key is absent */
  mapLookup(fd: number, key: Buffer, value: Buffer): boolean {
    return this.bpfKeyed(BPF_MAP_LOOKUP_ELEM, this.elemAttr(fd, key, value, 0), 'reading a map');
  }

  /** false when the key was absent */
  mapDelete(fd: number, key: Buffer): boolean {
    return this.bpfKeyed(BPF_MAP_DELETE_ELEM, this.elemAttr(fd, key, null, 0), 'deleting from a map');
  }

  /** The key after `key` (the first with null) into `next`; false at the end. */
  mapNextKey(fd: number, key: Buffer | null, next: Buffer): boolean {
    return this.bpfKeyed(BPF_MAP_GET_NEXT_KEY, this.elemAttr(fd, key, next, 0), 'listing a map');
  }

  /**
   * Loads a program; when the verifier refuses it, loads it again with a log and puts the log's
   * last line (the verifier's reason) in the error.
   */
  progLoad(type: number, insns: Buffer, name: string, attach?: { type: number; btfId: number }): number {
    const license = Buffer.from('GPL\0', 'latin1');
    const attr = (log: Buffer | undefined): Buffer => {
      const a = Buffer.alloc(ATTR_SIZE);
      a.writeUInt32LE(type, 0);
      if (attach) {
        // expected_attach_type, attach_btf_id (a vmlinux type: attach_btf_obj_fd stays 0)
        a.writeUInt32LE(attach.type, 68);
        a.writeUInt32LE(attach.btfId, 108);
      }
      a.writeUInt32LE(insns.length / 8, 4);
      a.writeBigUInt64LE(this.addr(insns), 8);
      a.writeBigUInt64LE(this.addr(license), 16);
      if (log) {
        a.writeUInt32LE(1, 24);
        a.writeUInt32LE(log.length, 28);
        a.writeBigUInt64LE(this.addr(log), 32);
      }
      a.write(name.slice(0, 15), 48, 'latin1');
      return a;
    };
    try {
      return this.loadRetrying(() => attr(undefined), name);
    } catch (e) {
      if (!(e instanceof BpfCallError) || e.errno === EPERM) throw e;
      const log = Buffer.alloc(LOG_BYTES);
      try {
        return this.loadRetrying(() => attr(log), name);
      } catch (again) {
        if (!(again instanceof BpfCallError)) throw again;
        const text = log.toString('latin1', 0, Math.max(0, log.indexOf(0)));
        const last = text.trim().split('\n').filter((l) => l.trim() !== '').slice(-2).join(' / ');
        throw new BpfCallError(again.call, again.errno, last.slice(0, 300));
      }
    }
  }

  /**
   * BPF_PROG_LOAD with this thread's signals blocked, and again on EAGAIN: the verifier gives up
   * with EAGAIN whenever a signal is pending for the loading thread (seen under Node's CPU
   * profiler, whose SIGPROF comes every millisecond: one load in five refused, nine in ten at
   * 100 µs). A blocked signal waits, unpending for the verifier, and is delivered when the mask
   * is restored a moment later. The retries (libbpf's five) are for whatever blocking misses.
   */
  private loadRetrying(attr: () => Buffer, name: string): number {
    const old = Buffer.alloc(SIGSET_BYTES);
    const blocked = this.c.pthreadSigmask(SIG_BLOCK, Buffer.alloc(SIGSET_BYTES, 0xff), old) === 0;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return this.bpf(BPF_PROG_LOAD, attr(), `loading the ${name} program`);
        } catch (e) {
          if (!(e instanceof BpfCallError) || e.errno !== EAGAIN || attempt >= LOAD_ATTEMPTS) throw e;
        }
      }
    } finally {
      if (blocked) this.c.pthreadSigmask(SIG_SETMASK, old, null);
    }
  }

  /**
   * A link of an iterator program over one process's open files (bpf_iter_link_info.task.pid:
   * Linux 6.1+; an older kernel refuses the link info with EINVAL).
   */
  linkCreateTaskIter(progFd: number, pid: number): number {
    const info = Buffer.alloc(16);
    info.writeUInt32LE(pid, 4);
    const a = Buffer.alloc(ATTR_SIZE);
    a.writeUInt32LE(progFd, 0);
    a.writeUInt32LE(ATTACH_TRACE_ITER, 8);
    a.writeBigUInt64LE(this.addr(info), 16);
    a.writeUInt32LE(info.length, 24);
    return this.bpf(BPF_LINK_CREATE, a, 'linking the iterator');
  }

  /** A file descriptor whose reads run the iterator from the start. */
  iterCreate(linkFd: number): number {
    const a = Buffer.alloc(ATTR_SIZE);
    a.writeUInt32LE(linkFd, 0);
    return this.bpf(BPF_ITER_CREATE, a, 'starting the iterator');
  }

  /** A perf event on tracepoint `id`; a program attached to it runs on every CPU. */
  perfEventOpenTracepoint(id: number): number {
    const a = Buffer.alloc(PERF_ATTR_SIZE);
    a.writeUInt32LE(PERF_TYPE_TRACEPOINT, 0);
    a.writeUInt32LE(PERF_ATTR_SIZE, 4);
    a.writeBigUInt64LE(BigInt(id), 8);
    a.writeBigUInt64LE(1n, 16); // sample_period
    // pid -1, cpu 0: a tracepoint's program is the event's, not the CPU's (one per CPU: EEXIST)
    const r = Number(this.c.syscall(this.nr.perfEventOpen, 'void *', a, 'int', -1, 'int', 0, 'int', -1, 'unsigned long', PERF_FLAG_FD_CLOEXEC));
    if (r < 0) throw new BpfCallError('perf_event_open', this.c.koffi.errno());
    return r;
  }

  attachToPerfEvent(perfFd: number, progFd: number): void {
    if (this.c.ioctl(perfFd, PERF_EVENT_IOC_SET_BPF, 'int', progFd) < 0) throw new BpfCallError('attaching the program', this.c.koffi.errno());
    if (this.c.ioctl(perfFd, PERF_EVENT_IOC_ENABLE, 'int', 0) < 0) throw new BpfCallError('enabling the tracepoint', this.c.koffi.errno());
  }

  mmap(fd: number, length: number, writable: boolean, offset: number): Mapping {
    const ptr = this.c.mmap(null, length, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, offset);
    if (ptr === null || (this.c.koffi.address(ptr) as bigint) === 0xffffffffffffffffn) throw new BpfCallError('mapping the ring buffer', this.c.koffi.errno());
    return { ptr, length, buffer: this.c.koffi.view(ptr, length) };
  }

  munmap(m: Mapping): void {
    this.c.munmap(m.ptr, m.length);
  }

  close(fd: number): void {
    if (fd >= 0) this.c.close(fd);
  }

  pageSize(): number {
    return this.c.getpagesize();
  }

  /** RLIMIT_MEMLOCK to unlimited (best effort: a failure shows later as EPERM on a map) */
  raiseMemlock(): void {
    const RLIMIT_MEMLOCK = 8;
    const unlimited = Buffer.alloc(16, 0xff);
    this.c.setrlimit(RLIMIT_MEMLOCK, unlimited);
  }

  /** mount(2): 0, or the errno */
  mount(source: string, target: string, fstype: string): number {
    return this.c.mount(source, target, fstype, 0, null) === 0 ? 0 : this.c.koffi.errno();
  }
}
