// The file that loads koffi (for bpf-syscall.ts too, loadKoffiLibc): libc's socket calls for a netlink socket, called directly.
// Why: the `netlink` package hands each reply datagram to JS in its own callback, with a fresh
// external Buffer and a microtask checkpoint each time, which was most of a steady poll's CPU (a
// poll of 1,000 exact lookups is 1,000 datagrams). recvmmsg takes a whole batch of replies in one
// system call into memory we read in place. koffi ships prebuilt binaries (glibc and musl) and
// loads without install scripts; when it cannot load, or on a 32-bit platform whose struct layout
// this file does not write, the netlink source is not offered and procfs answers instead.

import { SockwatchError } from '../../errors';
import { HOST_LE } from './sock-diag-constants';

type KoffiModule = typeof import('koffi');
type NativePointer = unknown;

interface Libc {
  koffi: KoffiModule;
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Buffer, addrLen: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: null, addrLen: number): number;
  recvmmsg(fd: number, vec: NativePointer, vlen: number, flags: number, timeout: null): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, len: Buffer): number;
  close(fd: number): number;
  malloc(size: number): NativePointer;
  free(ptr: NativePointer): void;
}

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const MSG_DONTWAIT = 0x40;
const MSG_TRUNC = 0x20;
const EAGAIN = 11;
const EINTR = 4;
const ENOBUFS = 105;

let libc: Libc | undefined;
let loadError: string | undefined;

/** libc through koffi, loaded once; a SockwatchError('not_supported') saying why when it cannot be. */
function loadLibc(): Libc {
  if (libc) return libc;
  if (loadError === undefined) {
    try {
      libc = bind();
    } catch (e) {
      loadError = e instanceof Error ? e.message : String(e);
    }
  }
  if (libc) return libc;
  throw new SockwatchError('not_supported', `direct netlink calls are unavailable here (${loadError ?? 'unknown'})`);
}

function bind(): Libc {
  if (process.platform !== 'linux') throw new Error('not Linux');
  const koffi = loadKoffi();
  // the mmsghdr/iovec layout below is the LP64 one
  if (koffi.sizeof('void *') !== 8 || koffi.sizeof('long') !== 8) throw new Error('not a 64-bit platform');
  let lib: ReturnType<KoffiModule['load']> | undefined;
  // glibc's soname; musl's loader answers "libc.so" (any libc.so*) with itself
  for (const name of ['libc.so.6', 'libc.so']) {
    try {
      lib = koffi.load(name);
      break;
    } catch {
      // try the next name
    }
  }
  if (!lib) throw new Error('cannot load libc');
  return {
    koffi,
    socket: lib.func('int socket(int, int, int)') as Libc['socket'],
    bind: lib.func('int bind(int, const void *, uint32_t)') as Libc['bind'],
    sendto: lib.func('long sendto(int, const void *, size_t, int, const void *, uint32_t)') as Libc['sendto'],
    recvmmsg: lib.func('int recvmmsg(int, void *, unsigned int, int, void *)') as Libc['recvmmsg'],
    setsockopt: lib.func('int setsockopt(int, int, int, const void *, uint32_t)') as Libc['setsockopt'],
    getsockopt: lib.func('int getsockopt(int, int, int, void *, void *)') as Libc['getsockopt'],
    close: lib.func('int close(int)') as Libc['close'],
    malloc: lib.func('void *malloc(size_t)') as Libc['malloc'],
    free: lib.func('void free(void *)') as Libc['free'],
  };
}

/**
 * koffi's native module straight from its platform package, else through koffi's own entry.
 * Why: the entry detects the platform by reading the node binary's ELF headers and wraps the
 * module in deprecation shims, 15–35 ms at every start (the native module itself loads in ~5 ms),
 * a cost every one-shot `snapshot` paid. glibc's build first; on musl it fails to load, and musl's
 * is next. Anything unexpected falls back to the entry, which knows best.
 */
function loadKoffi(): KoffiModule {
  if (process.arch === 'x64' || process.arch === 'arm64') {
    for (const triplet of [`linux_${process.arch}`, `musl_${process.arch}`]) {
      try {
        // the native module is the API the entry re-exports (typed by koffi's own declarations)
        const native = require(`@koromix/koffi-linux-${process.arch}/${triplet}/koffi.node`) as KoffiModule;
        if (typeof native.load === 'function' && typeof native.view === 'function' && typeof native.errno === 'function') return native;
      } catch {
        // not this build: the next, or the entry
      }
    }
  }
  return require('koffi') as KoffiModule;
}

/** koffi and libc, for the other files that call the kernel directly (the eBPF source). */
export function loadKoffiLibc(): { koffi: KoffiModule; lib: ReturnType<KoffiModule['load']> } {
  const koffi = loadKoffi();
  for (const name of ['libc.so.6', 'libc.so']) {
    try {
      return { koffi, lib: koffi.load(name) };
    } catch {
      // try the next name
    }
  }
  throw new Error('cannot load libc');
}

/** True when this platform can use LibcNetlinkSocket (loads koffi and libc on first call). */
export function libcNetlinkAvailable(): boolean {
  try {
    loadLibc();
    return true;
  } catch {
    return false;
  }
}

const MMSGHDR = 64; // struct mmsghdr: struct msghdr (56) + unsigned msg_len, padded
const IOVEC = 16;
const SOCKADDR_NL = 16; // 12 bytes, kept 8-aligned

/**
 * Native memory for `slots` datagrams of up to `slotBytes` each, laid out for recvmmsg: the
 * mmsghdr array, their iovecs and sender addresses, then the datagrams. Read in place through an
 * ArrayBuffer view of that memory (no copy until a caller keeps a datagram).
 */
class DatagramRing {
  readonly ptr: NativePointer;
  readonly u8: Uint8Array;
  readonly dv: DataView;
  private readonly dataAt: number;
  private readonly addrAt: number;

  constructor(
    private readonly c: Libc,
    readonly slotBytes: number,
    readonly slots: number,
  ) {
    const iovAt = slots * MMSGHDR;
    this.addrAt = iovAt + slots * IOVEC;
    this.dataAt = this.addrAt + slots * SOCKADDR_NL;
    const size = this.dataAt + slots * slotBytes;
    const ptr = c.malloc(size);
    if (ptr === null) throw new SockwatchError('io_error', 'out of memory for netlink receive buffers');
    this.ptr = ptr;
    const base = c.koffi.address(ptr);
    const ab = c.koffi.view(ptr, size);
    this.u8 = new Uint8Array(ab);
    this.dv = new DataView(ab);
    const dv = this.dv;
    for (let i = 0; i < slots; i++) {
      const m = i * MMSGHDR;
      const iov = iovAt + i * IOVEC;
      this.u8.fill(0, m, m + MMSGHDR);
      dv.setBigUint64(m, base + BigInt(this.addrAt + i * SOCKADDR_NL), HOST_LE); // msg_name
      dv.setBigUint64(m + 16, base + BigInt(iov), HOST_LE); // msg_iov
      dv.setBigUint64(m + 24, 1n, HOST_LE); // msg_iovlen
      dv.setBigUint64(iov, base + BigInt(this.dataAt + i * slotBytes), HOST_LE);
      dv.setBigUint64(iov + 8, BigInt(slotBytes), HOST_LE);
    }
  }

  /** Before each recvmmsg: the kernel overwrites msg_namelen and msg_flags. */
  rearm(count: number): void {
    for (let i = 0; i < count; i++) {
      this.dv.setUint32(i * MMSGHDR + 8, 12, HOST_LE);
      this.dv.setInt32(i * MMSGHDR + 48, 0, HOST_LE);
    }
  }

  length(i: number): number {
    return this.dv.getUint32(i * MMSGHDR + 56, HOST_LE);
  }

  truncated(i: number): boolean {
    return (this.dv.getInt32(i * MMSGHDR + 48, HOST_LE) & MSG_TRUNC) !== 0;
  }

  /** nl_pid of the sender: 0 is the kernel */
  senderPort(i: number): number {
    return this.dv.getUint32(this.addrAt + i * SOCKADDR_NL + 4, HOST_LE);
  }

  data(i: number): Uint8Array {
    const at = this.dataAt + i * this.slotBytes;
    return this.u8.subarray(at, at + Math.min(this.length(i), this.slotBytes));
  }

  free(): void {
    this.c.free(this.ptr);
  }
}

/** One datagram as received, and what the kernel said about it. */
export interface Received {
  /** a copy the caller may keep, or (receive(false)) a view valid until the next receive */
  data: Uint8Array;
  truncated: boolean;
  fromKernel: boolean;
}

/**
 * A NETLINK_SOCK_DIAG-style socket driven by direct libc calls, non-blocking. Errors are
 * SockwatchErrors ('not_supported' when it cannot be opened, 'io_error' afterwards).
 */
export class LibcNetlinkSocket {
  private fd: number;
  private ring: DatagramRing | undefined;
  private readonly c: Libc;

  constructor(
    protocol: number,
    private readonly opts: {
      slotBytes: number;
      slots: number;
      recvBufferBytes: number;
      /** a multicast listener's: the kernel dropped datagrams it could not queue (ENOBUFS), and receiving goes on */
      onOverrun?: () => void;
    },
  ) {
    this.c = loadLibc();
    this.fd = this.c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (this.fd < 0) throw new SockwatchError('not_supported', `cannot open a netlink socket (errno ${this.c.koffi.errno()})`);
    const v = Buffer.alloc(4);
    v.writeInt32LE(opts.recvBufferBytes);
    // best effort: the kernel caps it at net.core.rmem_max; receiveBufferBytes() says what we got
    this.c.setsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, v, 4);
  }

  /** The receive buffer the kernel granted (it doubles the request, within rmem_max). */
  receiveBufferBytes(): number {
    const v = Buffer.alloc(4);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(4);
    if (this.fd < 0 || this.c.getsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, v, len) !== 0) return 0;
    return v.readInt32LE(0);
  }

  /** Sends one datagram to the kernel; the kernel handles its requests before this returns. */
  send(msg: Buffer): void {
    for (;;) {
      if (this.fd < 0) throw new SockwatchError('io_error', 'netlink socket is closed');
      const n = this.c.sendto(this.fd, msg, msg.length, 0, null, 0);
      if (n >= 0) return;
      const errno = this.c.koffi.errno();
      if (errno !== EINTR) throw new SockwatchError('io_error', `netlink send failed: errno ${errno}`);
    }
  }

  /**
   * Every datagram waiting now, up to the ring's size, in one system call; [] when none is.
   * `copy` false: views of the receive memory, overwritten by the next receive.
   */
  receive(copy: boolean): Received[] {
    if (this.fd < 0) throw new SockwatchError('io_error', 'netlink socket is closed');
    const ring = (this.ring ??= new DatagramRing(this.c, this.opts.slotBytes, this.opts.slots));
    ring.rearm(ring.slots);
    let n: number;
    for (;;) {
      n = this.c.recvmmsg(this.fd, ring.ptr, ring.slots, MSG_DONTWAIT, null);
      if (n >= 0) break;
      const errno = this.c.koffi.errno();
      if (errno === EAGAIN) return [];
      if (errno === ENOBUFS && this.opts.onOverrun) {
        this.opts.onOverrun();
        continue;
      }
      if (errno !== EINTR) throw new SockwatchError('io_error', `netlink receive failed: errno ${errno}`);
    }
    const out: Received[] = [];
    if (!copy) {
      for (let i = 0; i < n; i++) out.push({ data: ring.data(i), truncated: ring.truncated(i), fromKernel: ring.senderPort(i) === 0 });
      return out;
    }
    // One copy for the whole round: the callers keep datagrams past the next receive.
    let total = 0;
    for (let i = 0; i < n; i++) total += ring.data(i).length;
    const kept = Buffer.allocUnsafe(total);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const d = ring.data(i);
      kept.set(d, at);
      out.push({ data: kept.subarray(at, at + d.length), truncated: ring.truncated(i), fromKernel: ring.senderPort(i) === 0 });
      at += d.length;
    }
    return out;
  }

  /**
   * Joins sock_diag-style multicast groups (numbers below 32) by binding with their bitmask: the
   * kernel delivers a group's datagrams only to a bound socket. No privilege is needed for groups
   * the protocol opens to every user (sock_diag's destroy groups).
   */
  joinGroups(groups: readonly number[]): void {
    if (this.fd < 0) throw new SockwatchError('io_error', 'netlink socket is closed');
    let mask = 0;
    for (const g of groups) {
      if (!Number.isInteger(g) || g < 1 || g > 32) throw new SockwatchError('not_supported', `netlink group ${g} cannot be joined by bind`);
      mask = (mask | (1 << (g - 1))) >>> 0;
    }
    const addr = Buffer.alloc(12); // struct sockaddr_nl: family, pad, nl_pid 0 (the kernel picks), nl_groups
    addr.writeUInt16LE(AF_NETLINK, 0);
    addr.writeUInt32LE(mask, 8);
    if (this.c.bind(this.fd, addr, addr.length) !== 0) {
      throw new SockwatchError('not_supported', `cannot join netlink multicast groups (errno ${this.c.koffi.errno()})`);
    }
  }

  close(): void {
    if (this.fd >= 0) this.c.close(this.fd);
    this.fd = -1;
    this.ring?.free();
    this.ring = undefined;
  }
}

/** Why LibcNetlinkSocket cannot be used here (koffi or libc did not load), or undefined when it can. */
export function libcNetlinkUnavailableReason(): string | undefined {
  try {
    loadLibc();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}
