// Runs the tcp-life bpftrace program for one target and turns its lines into lifecycle events
// with the PID of the process that owned each connection and exact open and close times.
//
// bpftrace is spawned without a shell, the program is a constant (tcp-life-script.ts) and every
// variable part is a numeric argument. It must not outlive sockwatch: close() stops it, and if
// sockwatch dies without closing, the program exits on sockwatch's sched_process_exit, and its
// heartbeat write to the closed stdout pipe kills it (SIGPIPE) within a second otherwise.

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { SockwatchError } from '../../errors';
import type { LifecycleStatus, SocketLifecycleEvent } from '../../core/lifecycle-types';
import { parseTcpLifeLine, type TcpLifeLine } from './tcp-life-parse';
import { MAX_LISTEN_PORTS, TCP_LIFE_SCRIPT } from './tcp-life-script';
import { ensureTracefs } from './tracefs';

/** How long bpftrace may take to compile and attach before we give up on it. */
export const ATTACH_TIMEOUT_MS = 5000;
/** The longest a watch's last poll waits for bpftrace to catch up (a machine too loaded to let it). */
const CATCH_UP_MAX_MS = 3000;
/** Events kept between two drains; as in destroy-listener.ts, only a stalled loop loses any (counted). */
export const TRACE_QUEUE_CAPACITY = 50_000;
/**
 * Per map (sockets being followed, their start times). bpftrace's default of 4096 would cap a
 * target at 4096 connections open at once; each entry costs ~100 bytes of kernel memory.
 */
const MAP_KEYS_MAX = 65_536;
/** stderr lines bpftrace prints on a working start: not reasons. */
const HARMLESS = [/RLIMIT_MEMLOCK/, /^Attaching \d+ probes?/, /^\s*$/];

export interface TcpLifeOptions {
  targetPid: number;
  /** the target's listening ports now (the program learns later ones itself); at most MAX_LISTEN_PORTS are passed */
  listenPorts: readonly number[];
  /** the session's clock (ms since the epoch) */
  nowMs?: () => number;
  attachTimeoutMs?: number;
  capacity?: number;
  /** gives up on a start still under way (sockwatch is closing): bpftrace is killed at once */
  signal?: AbortSignal;
}

export class TcpLifeTracer {
  private queue: SocketLifecycleEvent[] = [];
  private dropped = 0;
  private lost = 0;
  /** output lines the parser rejected (a bpftrace that prints differently) */
  malformed = 0;
  private exitReason: string | undefined;
  private closing = false;
  private stderrTail: string[] = [];
  /** resolves with why if bpftrace exits without close() */
  readonly stopped: Promise<string>;
  private signalStopped: (reason: string) => void = () => undefined;
  /** when the probes were attached (session ms) */
  sinceMs: number | undefined;
  /** ms since the epoch of kernel monotonic time 0, measured once at start */
  private readonly epochOffsetMs: number;
  /** the kernel time (session ms) of the newest line read: bpftrace has reported up to there */
  private reportedToMs = Number.NEGATIVE_INFINITY;
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly child: ChildProcess,
    private readonly capacity: number,
    nowMs: () => number,
  ) {
    this.stopped = new Promise((resolve) => {
      this.signalStopped = resolve;
    });
    // bpftrace's nsecs is CLOCK_MONOTONIC, as is process.hrtime (libuv's uv_hrtime on Linux)
    this.epochOffsetMs = nowMs() - Number(process.hrtime.bigint() / 1000n) / 1000;
  }

  /**
   * Starts bpftrace and resolves once its probes are attached; rejects with a one-line
   * SockwatchError('not_supported') saying why eBPF cannot be used here.
   */
  static async start(opts: TcpLifeOptions): Promise<TcpLifeTracer> {
    const euid = process.geteuid?.() ?? -1;
    if (euid !== 0) throw unavailable(`eBPF needs root (sockwatch runs as uid ${euid})`);
    const bpftrace = findInPath('bpftrace');
    if (!bpftrace) throw unavailable('bpftrace is not installed (e.g. apt install bpftrace)');
    const tracefs = ensureTracefs();
    if (tracefs) throw unavailable(tracefs);
    const netns = netnsInode(opts.targetPid);
    const ports = [...new Set(opts.listenPorts)].filter((p) => p > 0 && p < 65536).slice(0, MAX_LISTEN_PORTS);
    const args = ['-q', '-B', 'none', '-e', TCP_LIFE_SCRIPT, String(process.pid), String(opts.targetPid), String(netns), ...ports.map(String)];
    const child = spawn(bpftrace, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BPFTRACE_MAP_KEYS_MAX: String(MAP_KEYS_MAX) },
    });
    // Compiling the program (LLVM, BTF) takes a second or two of CPU: let the target and the
    // polls go first meanwhile. Once attached, the probes run in the kernel whatever the nice
    // value, and bpftrace only prints, back at normal priority so its buffers drain.
    setNice(child.pid, COMPILE_NICE);
    const tracer = new TcpLifeTracer(child, opts.capacity ?? TRACE_QUEUE_CAPACITY, opts.nowMs ?? Date.now);
    await tracer.attached(opts.attachTimeoutMs ?? ATTACH_TIMEOUT_MS, opts.signal);
    return tracer;
  }

  private attached(timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
    const child = this.child;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: SockwatchError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          this.close();
          reject(err);
        } else resolve();
      };
      const timer = setTimeout(() => settle(unavailable(`bpftrace did not attach within ${timeoutMs / 1000} s`)), timeoutMs);
      const onAbort = (): void => settle(unavailable('eBPF start abandoned (closing)'));
      if (signal?.aborted) onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (e) => settle(unavailable(`bpftrace could not be started (${e.message})`)));
      child.stderr!.setEncoding('utf8');
      createInterface({ input: child.stderr! }).on('line', (l) => {
        if (HARMLESS.some((re) => re.test(l))) return;
        this.stderrTail.push(l.trim());
        if (this.stderrTail.length > 5) this.stderrTail.shift();
      });
      child.on('exit', (code, signal) => {
        // stderr may still hold the reason: let its last lines arrive
        setImmediate(() => {
          const why = this.stderrTail.find((l) => /ERROR/.test(l)) ?? this.stderrTail[0] ?? `exit ${signal ?? code}`;
          this.exitReason = `bpftrace exited (${why})`;
          if (!this.closing) this.signalStopped(this.exitReason);
          settle(unavailable(`bpftrace refused to attach: ${why}`));
        });
      });
      createInterface({ input: child.stdout! }).on('line', (l) => {
        const parsed = parseTcpLifeLine(l);
        if (parsed?.kind === 'ready') {
          setNice(child.pid, 0);
          this.sinceMs = this.toMs(parsed.ns);
          settle();
        }
        else if (parsed) this.onLine(parsed);
      });
    });
  }

  private onLine(p: TcpLifeLine): void {
    if ('ns' in p) {
      const at = this.toMs(p.ns);
      if (at > this.reportedToMs) this.reportedToMs = at;
      for (const w of this.waiters) w();
    }
    switch (p.kind) {
      case 'started':
        this.push({ kind: 'started', atMs: this.toMs(p.ns), protocol: p.protocol, local: p.local, remote: p.remote, pid: p.pid });
        return;
      case 'ended':
        this.push({
          kind: 'ended',
          atMs: this.toMs(p.ns),
          protocol: p.protocol,
          local: p.local,
          remote: p.remote,
          pid: p.pid,
          ...(p.cookie === undefined ? {} : { cookie: p.cookie }),
          ...(p.oldState === undefined ? {} : { state: p.oldState }),
          ...(p.startNs === undefined ? {} : { startedAtMs: this.toMs(p.startNs) }),
          totals: { bytesSent: p.bytesSent, bytesReceived: p.bytesReceived, segmentsSent: p.segmentsSent, segmentsReceived: p.segmentsReceived },
        });
        return;
      case 'lost':
        this.lost += p.count;
        return;
      case 'malformed':
        this.malformed++;
        return;
      case 'ready':
      case 'heartbeat':
        return;
    }
  }

  private toMs(ns: bigint): number {
    return this.epochOffsetMs + Number(ns / 1000n) / 1000;
  }

  private push(ev: SocketLifecycleEvent): void {
    if (this.queue.length < this.capacity) this.queue.push(ev);
    else this.dropped++;
  }

  /**
   * Resolves once bpftrace has printed a line (an event or its heartbeat, every HEARTBEAT_MS)
   * stamped at or after `atMs`, or after CATCH_UP_MAX_MS, or when it is gone. Per-CPU buffers may
   * still hold an event a little older than the newest line; the heartbeat's period covers that.
   */
  caughtUp(atMs: number): Promise<void> {
    if (this.reportedToMs >= atMs || this.closing || this.exitReason !== undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const check = (): void => {
        if (this.reportedToMs >= atMs) done();
      };
      const timer = setTimeout(done, CATCH_UP_MAX_MS);
      this.waiters.add(check);
      void this.stopped.then(done);
    });
  }

  /** Events since the last drain, oldest first (bpftrace's per-CPU buffers may deliver them out of order). */
  drain(): SocketLifecycleEvent[] {
    const out = this.queue;
    this.queue = [];
    return out.sort((a, b) => a.atMs - b.atMs);
  }

  get status(): LifecycleStatus {
    const counts = { ...(this.dropped > 0 ? { dropped: this.dropped } : {}), ...(this.lost > 0 ? { overruns: this.lost } : {}) };
    if (this.exitReason !== undefined && !this.closing) return { facility: 'none', reason: this.exitReason, ...counts };
    return { facility: 'ebpf', ...counts };
  }

  /** the bpftrace process, for tests that check it is gone */
  get pid(): number | undefined {
    return this.child.pid;
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    // SIGTERM lets bpftrace detach its probes and run END; SIGKILL if it does not go
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
    kill.unref();
    child.once('exit', () => clearTimeout(kill));
    // sockwatch need not wait for bpftrace to detach before it exits: a bpftrace that outlives
    // it dies of SIGPIPE at its next heartbeat
    child.stdout?.destroy();
    child.stderr?.destroy();
    child.unref();
  }
}

const COMPILE_NICE = 10;

function setNice(pid: number | undefined, nice: number): void {
  if (pid === undefined) return;
  try {
    os.setPriority(pid, nice);
  } catch {
    // gone already, or not allowed: priority is an optimisation
  }
}

function unavailable(reason: string): SockwatchError {
  return new SockwatchError('not_supported', reason);
}

function findInPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    if (!dir) continue;
    const full = path.join(dir, name);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return undefined;
}

function netnsInode(pid: number): number {
  let link: string;
  try {
    link = readlinkSync(`/proc/${pid}/ns/net`);
  } catch (e) {
    throw unavailable(`cannot read the network namespace of PID ${pid} (${e instanceof Error ? e.message : String(e)})`);
  }
  const m = /^net:\[(\d+)\]$/.exec(link);
  if (!m) throw unavailable(`unexpected network namespace link ${link}`);
  return Number(m[1]);
}
