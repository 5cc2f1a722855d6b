// The eBPF lifecycle feed, in process: maps created, the tcp-life and fork-follow programs
// (tcp-life-program.ts) loaded and attached to their tracepoints, and the ring buffer read in
// place, all through direct system calls (bpf-syscall.ts) in a few milliseconds. Every connection
// of the watched processes is reported with its owner's PID and the kernel's own times, including
// connections that live less than a poll. What the kernel could not deliver is counted: records
// lost to a full ring, and tracepoint hits the kernel skipped because another BPF program was
// running on that CPU (the programs' recursion_misses).
//
// Nothing outlives sockwatch: the programs stay attached only while their perf event file
// descriptors are open, and the kernel closes those when the process ends, however it ends.

import { readFileSync, readlinkSync } from 'node:fs';
import * as os from 'node:os';
import { SockwatchError } from '../../errors';
import type { LifecycleStatus, SocketLifecycleEvent } from '../../core/lifecycle-types';
import type { LifecycleFeed } from '../lifecycle/lifecycle-feed';
import { BpfCallError, BpfSyscalls, EPERM, MAP_TYPE, PROG_TYPE_TRACEPOINT, type Mapping } from './bpf-syscall';
import { RingBufferReader } from './ring-buffer-reader';
import { decodeTcpLifeRecord } from './tcp-life-record';
import {
  OWNER_VALUE_SIZE,
  STATS_COUNT,
  STAT_RING_FULL,
  WATCH_FOLLOW,
  WATCH_REPORT,
  forkFollowProgram,
  tcpLifeProgram,
  type KernelOffsets,
  type TcpLifeMaps,
} from './tcp-life-program';
import { readKernelOffsets } from './kernel-offsets';
import { readTracepointFormat, tracefsEvents } from './tracefs';

/** Events kept between two drains; as in destroy-listener.ts, only a stalled loop loses any (counted). */
export const EVENT_QUEUE_CAPACITY = 50_000;
/** The ring: 16,384 records of 128 bytes (8 s of 1,000 connections/s, each an open and a close). */
const RING_BYTES = 2 << 20;
/** How often the ring is read besides drain() and caughtUp(). */
const READ_INTERVAL_MS = 100;
/** Sockets followed at once (LRU beyond: the oldest forgotten, not the newest refused). */
const OWNERS_MAX = 16_384;
const PIDS_MAX = 8_192;
const PORTS_MAX = 4_096;
/** How long caughtUp() waits for a record still being written (a CPU in the middle of one). */
const BUSY_WAIT_MS = 20;

export interface EbpfOptions {
  /** the processes watched now */
  pids: readonly number[];
  /** a new process forked by a watched one joins (--children, run) */
  follow: boolean;
  /** the process whose network namespace accepted connections must be in (default: the first PID) */
  netnsPid?: number;
  /** listening ports now, with the member holding each (the program learns later ones itself) */
  listeners?: readonly { port: number; pid: number }[];
  /** the session's clock (ms since the epoch) */
  nowMs?: () => number;
  capacity?: number;
}

/** How long each step of the start took (ms), for the bench and the docs. */
export interface StartTimings {
  offsetsMs: number;
  loadMs: number;
  totalMs: number;
}

export class EbpfLifecycle implements LifecycleFeed {
  private queue: SocketLifecycleEvent[] = [];
  private dropped = 0;
  /** records the decoder refused (counted with the lost ones) */
  private malformed = 0;
  private kernelLost = 0;
  private missed = 0;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly reader: RingBufferReader;
  private readonly epochOffsetMs: number;
  private readonly strikes = new Map<number, number>();
  private readonly watched = new Set<number>();
  private selfFollowing = false;
  /** when the programs were attached (session ms) */
  readonly sinceMs: number;
  timings: StartTimings | undefined;

  private constructor(
    private readonly sys: BpfSyscalls,
    private readonly res: Resources,
    private readonly maps: TcpLifeMaps,
    private readonly progs: number[],
    ring: { consumer: Mapping; data: Mapping },
    private readonly follow: boolean,
    private readonly capacity: number,
    nowMs: () => number,
  ) {
    const pageSize = ring.consumer.length;
    this.reader = new RingBufferReader({
      consumer: new BigUint64Array(ring.consumer.buffer, 0, 1),
      producer: new BigUint64Array(ring.data.buffer, 0, 1),
      data: new Uint8Array(ring.data.buffer, pageSize, RING_BYTES),
    });
    // bpf_ktime_get_ns is CLOCK_MONOTONIC, as is process.hrtime (libuv's uv_hrtime on Linux)
    this.epochOffsetMs = nowMs() - Number(process.hrtime.bigint() / 1000n) / 1000;
    this.sinceMs = nowMs();
  }

  /**
   * Loads and attaches the programs; throws a one-line SockwatchError('not_supported') saying why
   * eBPF cannot be used here. Synchronous: it takes milliseconds.
   */
  static start(opts: EbpfOptions): EbpfLifecycle {
    const t0 = performance.now();
    const denied = privilegeProblem();
    if (denied) throw unavailable(denied);
    let sys: BpfSyscalls;
    try {
      sys = new BpfSyscalls();
    } catch (e) {
      throw unavailable(`eBPF system calls are unavailable here (${message(e)})`);
    }
    const events = tracefsEvents((s, t, f) => sys.mount(s, t, f));
    if (typeof events !== 'string') throw unavailable(events.reason);
    let offsets: KernelOffsets;
    let formats;
    try {
      formats = { sock: readTracepointFormat(events, 'sock', 'inet_sock_set_state'), fork: readTracepointFormat(events, 'task', 'task_newtask') };
      offsets = readKernelOffsets();
    } catch (e) {
      throw unavailable(`eBPF cannot follow this kernel: ${message(e)}`);
    }
    const t1 = performance.now();
    raiseMemlockOnOldKernels(sys);
    const res = new Resources(sys);
    try {
      const maps: TcpLifeMaps = {
        pids: res.fd(sys.mapCreate({ type: MAP_TYPE.hash, keySize: 4, valueSize: 4, maxEntries: PIDS_MAX, name: 'sw_pids' })),
        owners: res.fd(sys.mapCreate({ type: MAP_TYPE.lruHash, keySize: 8, valueSize: OWNER_VALUE_SIZE, maxEntries: OWNERS_MAX, name: 'sw_owners' })),
        listenPorts: res.fd(sys.mapCreate({ type: MAP_TYPE.hash, keySize: 4, valueSize: 4, maxEntries: PORTS_MAX, name: 'sw_ports' })),
        ring: res.fd(sys.mapCreate({ type: MAP_TYPE.ringbuf, keySize: 0, valueSize: 0, maxEntries: RING_BYTES, name: 'sw_ring' })),
        stats: res.fd(sys.mapCreate({ type: MAP_TYPE.array, keySize: 4, valueSize: 8, maxEntries: STATS_COUNT, name: 'sw_stats' })),
      };
      const netns = netnsInode(opts.netnsPid ?? opts.pids[0] ?? process.pid);
      const tcpLife = res.fd(sys.progLoad(PROG_TYPE_TRACEPOINT, tcpLifeProgram(formats.sock, offsets, maps, netns), 'sw_tcp_life'));
      const progs = [tcpLife];
      if (opts.follow) progs.push(res.fd(sys.progLoad(PROG_TYPE_TRACEPOINT, forkFollowProgram(formats.fork, maps.pids), 'sw_fork')));
      const pageSize = sys.pageSize();
      const consumer = res.mapping(sys.mmap(maps.ring, pageSize, true, 0));
      const data = res.mapping(sys.mmap(maps.ring, pageSize + RING_BYTES, false, pageSize));
      const feed = new EbpfLifecycle(sys, res, maps, progs, { consumer, data }, opts.follow, opts.capacity ?? EVENT_QUEUE_CAPACITY, opts.nowMs ?? Date.now);
      // the watched set and the listeners before the programs run, so nothing is half-known
      feed.watch(opts.pids);
      for (const l of opts.listeners ?? []) feed.addListener(l.port, l.pid);
      if (opts.follow) sys.attachToPerfEvent(res.fd(sys.perfEventOpenTracepoint(formats.fork.id)), progs[1]!);
      sys.attachToPerfEvent(res.fd(sys.perfEventOpenTracepoint(formats.sock.id)), tcpLife);
      const t2 = performance.now();
      feed.timings = { offsetsMs: t1 - t0, loadMs: t2 - t1, totalMs: t2 - t0 };
      feed.timer = setInterval(() => feed.readRing(), READ_INTERVAL_MS);
      feed.timer.unref();
      return feed;
    } catch (e) {
      res.release();
      if (e instanceof BpfCallError) throw unavailable(reasonFor(e));
      throw e instanceof SockwatchError ? e : unavailable(`eBPF failed (${message(e)})`);
    }
  }

  private key32(n: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n >>> 0);
    return b;
  }

  /** `port` accepted connections are `pid`'s (a member listening on it). */
  addListener(port: number, pid: number): void {
    if (this.closed || port <= 0 || port > 65535) return;
    this.sys.mapUpdate(this.maps.listenPorts, this.key32(port), this.key32(pid));
  }

  /**
   * The watched processes are now `pids`. With fork following, a process the kernel added (a
   * child born since the caller last looked) stays until it has been missing from two calls in
   * a row: the caller's next look will find it, or it is gone.
   */
  watch(pids: readonly number[]): void {
    if (this.closed) return;
    const flags = this.key32(WATCH_REPORT | (this.follow ? WATCH_FOLLOW : 0));
    const want = new Set(pids);
    for (const pid of want) {
      this.strikes.delete(pid);
      if (this.watched.has(pid)) continue;
      this.sys.mapUpdate(this.maps.pids, this.key32(pid), flags);
      this.watched.add(pid);
    }
    const inKernel = this.follow ? this.kernelPids() : [...this.watched];
    for (const pid of inKernel) {
      if (want.has(pid) || (this.selfFollowing && pid === process.pid)) continue;
      const strikes = (this.strikes.get(pid) ?? 0) + 1;
      if (this.follow && strikes < 2) {
        this.strikes.set(pid, strikes);
        continue;
      }
      this.strikes.delete(pid);
      this.watched.delete(pid);
      this.sys.mapDelete(this.maps.pids, this.key32(pid));
    }
  }

  /**
   * `run`: while on, processes sockwatch itself forks join the watched set (and are followed),
   * though sockwatch's own sockets are not reported. On before CMD is spawned, off once it is.
   */
  followSelf(on: boolean): void {
    if (this.closed || !this.follow) return;
    this.selfFollowing = on;
    if (on) this.sys.mapUpdate(this.maps.pids, this.key32(process.pid), this.key32(WATCH_FOLLOW));
    else this.sys.mapDelete(this.maps.pids, this.key32(process.pid));
  }

  /** The PIDs in the kernel's watched set now. */
  kernelPids(): number[] {
    const out: number[] = [];
    const next = Buffer.alloc(4);
    let key: Buffer | null = null;
    while (out.length < PIDS_MAX && this.sys.mapNextKey(this.maps.pids, key, next)) {
      out.push(next.readUInt32LE(0));
      key = Buffer.from(next);
    }
    return out;
  }

  private readRing(): void {
    if (this.closed) return;
    this.reader.read((view, at, length) => {
      const ev = decodeTcpLifeRecord(view, at, length, (ns) => this.toMs(ns));
      if (typeof ev === 'string') this.malformed++;
      else if (this.queue.length < this.capacity) this.queue.push(ev);
      else this.dropped++;
    });
  }

  private toMs(ns: bigint): number {
    return this.epochOffsetMs + Number(ns / 1000n) / 1000;
  }

  /**
   * Everything the kernel wrote up to now is read at once (the ring is shared by all CPUs and
   * written synchronously in the tracepoint); a record still being written is waited for, briefly.
   */
  async caughtUp(_atMs: number): Promise<void> {
    const deadline = performance.now() + BUSY_WAIT_MS;
    this.readRing();
    while (!this.closed && this.reader.pending() > 0 && performance.now() < deadline) {
      await new Promise((r) => setImmediate(r));
      this.readRing();
    }
  }

  /** Events since the last drain, oldest first. */
  drain(): SocketLifecycleEvent[] {
    this.readRing();
    this.refreshCounts();
    const out = this.queue;
    this.queue = [];
    // one ring, but records are written by several CPUs: reserve order is not quite time order
    return out.sort((a, b) => a.atMs - b.atMs);
  }

  /** records lost in the kernel: the ring was full */
  ringFull(): number {
    if (this.closed) return 0;
    const v = Buffer.alloc(8);
    return this.sys.mapLookup(this.maps.stats, this.key32(STAT_RING_FULL), v) ? Number(v.readBigUInt64LE(0)) : 0;
  }

  /** A counter of the programs' fdinfo, summed (0 where the kernel does not keep it). */
  private fdinfoSum(name: string): number {
    let n = 0;
    const re = new RegExp(`^${name}:\\s*(\\d+)`, 'm');
    for (const fd of this.progs) {
      try {
        const m = re.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'));
        if (m) n += Number(m[1]);
      } catch {
        // fdinfo unreadable: nothing to add
      }
    }
    return n;
  }

  /** tracepoint hits the kernel skipped (another BPF program was running on that CPU) */
  recursionMisses(): number {
    return this.fdinfoSum('recursion_misses');
  }

  /** runs and in-kernel time of the programs (counted only while kernel.bpf_stats_enabled is 1; for the bench) */
  programStats(): { runs: number; runTimeNs: number } {
    return { runs: this.fdinfoSum('run_cnt'), runTimeNs: this.fdinfoSum('run_time_ns') };
  }

  /** The kernel's counts, refreshed at each drain (status is read at every redraw). */
  private refreshCounts(): void {
    if (this.closed) return;
    this.kernelLost = this.ringFull();
    this.missed = this.recursionMisses();
  }

  get status(): LifecycleStatus {
    const lost = this.dropped + this.malformed + this.kernelLost;
    return { facility: 'ebpf', ...(lost > 0 ? { dropped: lost } : {}), ...(this.missed > 0 ? { missed: this.missed } : {}) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.res.release();
  }
}

/** What a start acquired, released in reverse (perf events first: that detaches the programs). */
class Resources {
  private readonly fds: number[] = [];
  private readonly mappings: Mapping[] = [];

  constructor(private readonly sys: BpfSyscalls) {}

  fd(fd: number): number {
    this.fds.push(fd);
    return fd;
  }

  mapping(m: Mapping): Mapping {
    this.mappings.push(m);
    return m;
  }

  release(): void {
    for (const fd of this.fds.splice(0).reverse()) this.sys.close(fd);
    for (const m of this.mappings.splice(0)) this.sys.munmap(m);
  }
}

function unavailable(reason: string): SockwatchError {
  return new SockwatchError('not_supported', reason);
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function reasonFor(e: BpfCallError): string {
  if (e.errno === EPERM) return `eBPF was refused (${e.message}): it needs root, or CAP_BPF and CAP_PERFMON`;
  if (/ringbuf|sw_ring/.test(e.message)) return `the kernel has no eBPF ring buffer (${e.message}; needs Linux 5.8)`;
  return `eBPF failed: ${e.message}`;
}

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

/** Why this process may not use eBPF, or undefined when it may. */
function privilegeProblem(): string | undefined {
  const euid = process.geteuid?.() ?? -1;
  if (euid === 0) return undefined;
  let caps = 0n;
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'));
    if (m) caps = BigInt(`0x${m[1]}`);
  } catch {
    // no /proc/self/status: no capabilities known
  }
  const has = (c: bigint): boolean => ((caps >> c) & 1n) === 1n;
  if (has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))) return undefined;
  return `eBPF needs root (sockwatch runs as uid ${euid})`;
}

function netnsInode(pid: number): number {
  let link: string;
  try {
    link = readlinkSync(`/proc/${pid}/ns/net`);
  } catch (e) {
    throw unavailable(`cannot read the network namespace of PID ${pid} (${(e as NodeJS.ErrnoException).code ?? message(e)})`);
  }
  const m = /^net:\[(\d+)\]$/.exec(link);
  if (!m) throw unavailable(`unexpected network namespace link ${link}`);
  return Number(m[1]);
}

/**
 * Before Linux 5.11 BPF memory counts against RLIMIT_MEMLOCK (64 KiB by default), too little for
 * the ring. Raised only there: `run` passes the limit on to CMD.
 */
function raiseMemlockOnOldKernels(sys: BpfSyscalls): void {
  const m = /^(\d+)\.(\d+)/.exec(os.release());
  if (!m || Number(m[1]) > 5 || (Number(m[1]) === 5 && Number(m[2]) >= 11)) return;
  sys.raiseMemlock();
}
