// The kernel side of the eBPF source: two tracepoint programs, assembled at run time from the
// tracepoints' `format` files and the kernel's struct offsets (BTF), so nothing is compiled.
//
// tcp-life, on sock:inet_sock_set_state, follows every TCP socket of the watched processes and
// writes one record to a ring buffer when a connection is established and one when it ends. Who
// owns a socket is learned only where the kernel runs in the owner's own context, never from the
// pid of a softirq (which, on loopback, is often the peer's):
// - connect(): the move to SYN_SENT runs in the caller's system call;
// - accept side: the child socket reaches ESTABLISHED in softirq context, so it is the watched
//   group's when its local port is one a member listens on (passed in, or seen entering LISTEN in
//   a member's context) in the target's network namespace; the owner is the listener's process;
// - a socket that predates the watch: close() or shutdown() moves it to FIN_WAIT1 or LAST_ACK in
//   the owner's context.
// What it learns is kept per socket address in an LRU hash: a CLOSE the kernel skipped (a program
// does not run while another runs on the same CPU: the program's recursion_misses) cannot leave
// the table full of stale entries.
//
// fork-follow, on task:task_newtask, adds a new process to the watched set when its parent is in it
// with the FOLLOW flag, before the child runs: `--children` sees a child's first connection, and
// `run` marks sockwatch itself FOLLOW (not REPORT) so CMD is watched before it execs.

import { Assembler, HELPER, R0, R1, R10, R2, R3, R4, R6, R7, R8, R9, type Size } from './bpf-insn';
import { requireField, type TracepointField, type TracepointFormat } from './tracepoint-format';
import type { MemberLocation } from './btf-members';

/** pids map value bits */
export const WATCH_REPORT = 1;
export const WATCH_FOLLOW = 2;

/** the kernel's TCP states (include/net/tcp_states.h) */
const ESTABLISHED = 1;
const SYN_SENT = 2;
const SYN_RECV = 3;
const FIN_WAIT1 = 4;
const CLOSE = 7;
const LAST_ACK = 9;
const LISTEN = 10;
const IPPROTO_TCP = 6;
const CLONE_THREAD = 0x10000;
const BPF_RB_NO_WAKEUP = 1;

export const KIND_STARTED = 1;
export const KIND_ENDED = 2;

/** The record the program writes, one per event (the reader's layout: tcp-life-record.ts). */
export const RECORD = {
  ns: 0,
  startNs: 8,
  pid: 16,
  kind: 20,
  oldState: 21,
  family: 22,
  sport: 24,
  dport: 26,
  saddr: 32,
  daddr: 36,
  saddrV6: 40,
  daddrV6: 56,
  bytesSent: 72,
  bytesAcked: 80,
  bytesReceived: 88,
  segsOut: 96,
  segsIn: 100,
  totalRetrans: 104,
  srttUs: 108,
  cookie: 112,
  size: 120,
} as const;

/** Where the program reads struct sock / tcp_sock fields (from BTF). */
export interface KernelOffsets {
  bytesSent: MemberLocation;
  bytesAcked: MemberLocation;
  bytesReceived: MemberLocation;
  segsOut: MemberLocation;
  segsIn: MemberLocation;
  totalRetrans: MemberLocation;
  srttUs: MemberLocation;
  /** sock.__sk_common.skc_cookie */
  cookie: MemberLocation;
  /** sock.__sk_common.skc_net.net (a pointer) */
  netPointer: MemberLocation;
  /** net.ns.inum */
  netnsInum: MemberLocation;
}

export interface TcpLifeMaps {
  /** u32 tgid → u32 WATCH_* bits */
  pids: number;
  /** u64 socket address → { u32 owner pid, u32 0, u64 start ns } (LRU) */
  owners: number;
  /** u32 port → u32 pid of the member listening on it */
  listenPorts: number;
  ring: number;
  /** array of u64 counters: [0] records lost to a full ring */
  stats: number;
}

export const OWNER_VALUE_SIZE = 16;
export const STAT_RING_FULL = 0;
export const STATS_COUNT = 1;

// stack slots (offsets from r10)
const SK_KEY = -8;
const U32_KEY = -16;
const U32_VALUE = -12;
const OWNER = -32; // { pid u32, pad u32, start u64 } = OWNER_VALUE_SIZE bytes
const OWNER_START = -24;
const NOW = -40;
const KIND = -48;
const SCRATCH = -56;

/** The tcp-life program for inet_sock_set_state as described by `format`. */
export function tcpLifeProgram(format: TracepointFormat, k: KernelOffsets, maps: TcpLifeMaps, netnsInum: number): Buffer {
  const f = {
    skaddr: requireField(format, 'skaddr', [8]),
    oldstate: requireField(format, 'oldstate', [4]),
    newstate: requireField(format, 'newstate', [4]),
    sport: requireField(format, 'sport', [2]),
    dport: requireField(format, 'dport', [2]),
    family: requireField(format, 'family', [2]),
    protocol: requireField(format, 'protocol', [2]),
    saddr: requireField(format, 'saddr', [4]),
    daddr: requireField(format, 'daddr', [4]),
    saddrV6: requireField(format, 'saddr_v6', [16]),
    daddrV6: requireField(format, 'daddr_v6', [16]),
  };
  checkKernelOffsets(k);
  const a = new Assembler();
  const ctxLoad = (dst: typeof R1, field: TracepointField): Assembler => a.load(field.size as Size, dst, R6, field.offset);

  a.movReg(R6, R1);
  ctxLoad(R1, f.protocol).jumpImm('jne', R1, IPPROTO_TCP, 'exit');
  ctxLoad(R7, f.skaddr).store(8, R10, SK_KEY, R7);
  a.call(HELPER.ktimeGetNs).store(8, R10, NOW, R0);
  // r8 = the current process (tgid), r9 = whether it is a watched member
  a.call(HELPER.getCurrentPidTgid).aluImm('rsh', R0, 32).movReg(R8, R0).store(4, R10, U32_KEY, R8);
  a.ldMapFd(R1, maps.pids).movReg(R2, R10).aluImm('add', R2, U32_KEY).call(HELPER.mapLookupElem);
  a.movImm(R9, 0).jumpImm('jeq', R0, 0, 'looked_up').load(4, R9, R0, 0).aluImm('and', R9, WATCH_REPORT);
  a.label('looked_up');
  ctxLoad(R1, f.newstate);
  a.jumpImm('jeq', R1, SYN_SENT, 'syn_sent');
  a.jumpImm('jeq', R1, LISTEN, 'listen');
  a.jumpImm('jeq', R1, ESTABLISHED, 'established');
  a.jumpImm('jeq', R1, FIN_WAIT1, 'closing');
  a.jumpImm('jeq', R1, LAST_ACK, 'closing');
  a.jumpImm('jeq', R1, CLOSE, 'close');
  a.goto('exit');

  // connect() in a member's context: the socket is that member's
  a.label('syn_sent').jumpImm('jeq', R9, 0, 'exit');
  a.store(4, R10, OWNER, R8).storeImm(4, R10, OWNER + 4, 0).storeImm(8, R10, OWNER_START, 0);
  updateOwner(a, maps).goto('exit');

  // listen() in a member's context: its port's accepted connections are the group's
  a.label('listen').jumpImm('jeq', R9, 0, 'exit');
  ctxLoad(R1, f.sport).store(4, R10, U32_KEY, R1).store(4, R10, U32_VALUE, R8);
  a.ldMapFd(R1, maps.listenPorts).movReg(R2, R10).aluImm('add', R2, U32_KEY).movReg(R3, R10).aluImm('add', R3, U32_VALUE).movImm(R4, 0);
  a.call(HELPER.mapUpdateElem).goto('exit');

  // shutdown()/close() of a socket the program has not seen start: the member closing it owns it
  a.label('closing').jumpImm('jeq', R9, 0, 'exit');
  lookupOwner(a, maps).jumpImm('jne', R0, 0, 'exit');
  a.store(4, R10, OWNER, R8).storeImm(4, R10, OWNER + 4, 0).storeImm(8, R10, OWNER_START, 0);
  updateOwner(a, maps).goto('exit');

  a.label('established');
  ctxLoad(R1, f.oldstate);
  a.jumpImm('jeq', R1, SYN_RECV, 'accepted');
  a.jumpImm('jne', R1, SYN_SENT, 'exit');
  // connect() completed (softirq): the owner was learned at SYN_SENT
  lookupOwner(a, maps).jumpImm('jeq', R0, 0, 'exit');
  a.load(8, R1, R10, NOW).store(8, R0, 8, R1).store(8, R10, OWNER_START, R1);
  a.load(4, R1, R0, 0).store(4, R10, OWNER, R1);
  a.storeImm(4, R10, KIND, KIND_STARTED).goto('emit');

  // accepted on a member's listening port, in the target's namespace
  a.label('accepted');
  lookupListener(a, maps, f.sport, ctxLoad).jumpImm('jeq', R0, 0, 'exit');
  a.load(4, R1, R0, 0).store(4, R10, OWNER, R1).storeImm(4, R10, OWNER + 4, 0);
  sameNetns(a, k, netnsInum, 'exit', 'accepted_here');
  a.label('accepted_here');
  a.load(8, R1, R10, NOW).store(8, R10, OWNER_START, R1);
  updateOwner(a, maps);
  a.storeImm(4, R10, KIND, KIND_STARTED).goto('emit');

  // CLOSE: the end of a followed socket's life
  a.label('close');
  ctxLoad(R1, f.oldstate).jumpImm('jeq', R1, LISTEN, 'listener_closed');
  lookupOwner(a, maps).jumpImm('jeq', R0, 0, 'unowned_close');
  a.load(4, R1, R0, 0).store(4, R10, OWNER, R1).load(8, R1, R0, 8).store(8, R10, OWNER_START, R1);
  a.ldMapFd(R1, maps.owners).movReg(R2, R10).aluImm('add', R2, SK_KEY).call(HELPER.mapDeleteElem);
  // a connect or accept that never completed is not a connection
  a.load(8, R1, R10, OWNER_START).jumpImm('jne', R1, 0, 'ended');
  ctxLoad(R1, f.oldstate).jumpImm('jeq', R1, SYN_SENT, 'exit').jumpImm('jeq', R1, SYN_RECV, 'exit');
  a.goto('ended');

  // an accepted socket from before the watch, reset in softirq context: the listener's
  a.label('unowned_close');
  ctxLoad(R1, f.oldstate).jumpImm('jeq', R1, SYN_SENT, 'exit').jumpImm('jeq', R1, SYN_RECV, 'exit');
  lookupListener(a, maps, f.sport, ctxLoad).jumpImm('jeq', R0, 0, 'exit');
  a.load(4, R1, R0, 0).store(4, R10, OWNER, R1).storeImm(4, R10, OWNER + 4, 0).storeImm(8, R10, OWNER_START, 0);
  sameNetns(a, k, netnsInum, 'exit', 'ended');
  a.label('ended').storeImm(4, R10, KIND, KIND_ENDED).goto('emit');

  // a member's listener closed: its port is no longer the group's
  a.label('listener_closed').jumpImm('jeq', R9, 0, 'exit');
  ctxLoad(R1, f.sport).store(4, R10, U32_KEY, R1);
  a.ldMapFd(R1, maps.listenPorts).movReg(R2, R10).aluImm('add', R2, U32_KEY).call(HELPER.mapDeleteElem).goto('exit');

  // one record to the ring; a full ring is counted, never silent
  a.label('emit');
  a.ldMapFd(R1, maps.ring).movImm(R2, RECORD.size).movImm(R3, 0).call(HELPER.ringbufReserve);
  a.jumpImm('jne', R0, 0, 'reserved');
  a.storeImm(4, R10, U32_KEY, STAT_RING_FULL);
  a.ldMapFd(R1, maps.stats).movReg(R2, R10).aluImm('add', R2, U32_KEY).call(HELPER.mapLookupElem);
  a.jumpImm('jeq', R0, 0, 'exit').movImm(R1, 1).atomicAdd64(R0, 0, R1).goto('exit');
  a.label('reserved').movReg(R9, R0);
  a.load(8, R1, R10, NOW).store(8, R9, RECORD.ns, R1);
  a.load(8, R1, R10, OWNER_START).store(8, R9, RECORD.startNs, R1);
  a.load(4, R1, R10, OWNER).store(4, R9, RECORD.pid, R1);
  a.load(4, R1, R10, KIND).store(1, R9, RECORD.kind, R1);
  ctxLoad(R1, f.oldstate).store(1, R9, RECORD.oldState, R1);
  ctxLoad(R1, f.family).store(2, R9, RECORD.family, R1);
  ctxLoad(R1, f.sport).store(2, R9, RECORD.sport, R1);
  ctxLoad(R1, f.dport).store(2, R9, RECORD.dport, R1);
  a.storeImm(4, R9, 28, 0);
  copyCtx(a, f.saddr, RECORD.saddr);
  copyCtx(a, f.daddr, RECORD.daddr);
  copyCtx(a, f.saddrV6, RECORD.saddrV6);
  copyCtx(a, f.daddrV6, RECORD.daddrV6);
  for (let at: number = RECORD.bytesSent; at < RECORD.size; at += 8) a.storeImm(8, R9, at, 0);
  a.load(4, R1, R10, KIND).jumpImm('jne', R1, KIND_ENDED, 'submit');
  // the counters at the end, read from the kernel's struct tcp_sock (a failed read leaves zeros)
  const reads: [number, MemberLocation][] = [
    [RECORD.bytesSent, k.bytesSent],
    [RECORD.bytesAcked, k.bytesAcked],
    [RECORD.bytesReceived, k.bytesReceived],
    [RECORD.segsOut, k.segsOut],
    [RECORD.segsIn, k.segsIn],
    [RECORD.totalRetrans, k.totalRetrans],
    [RECORD.srttUs, k.srttUs],
    [RECORD.cookie, k.cookie],
  ];
  for (const [at, m] of reads) {
    a.movReg(R1, R9).aluImm('add', R1, at).movImm(R2, m.size).movReg(R3, R7).aluImm('add', R3, m.offset).call(HELPER.probeReadKernel);
  }
  a.label('submit').movReg(R1, R9).movImm(R2, BPF_RB_NO_WAKEUP).call(HELPER.ringbufSubmit);
  a.label('exit').movImm(R0, 0).exit();
  return a.bytes();
}

function lookupOwner(a: Assembler, maps: TcpLifeMaps): Assembler {
  return a.ldMapFd(R1, maps.owners).movReg(R2, R10).aluImm('add', R2, SK_KEY).call(HELPER.mapLookupElem);
}

function updateOwner(a: Assembler, maps: TcpLifeMaps): Assembler {
  return a.ldMapFd(R1, maps.owners).movReg(R2, R10).aluImm('add', R2, SK_KEY).movReg(R3, R10).aluImm('add', R3, OWNER).movImm(R4, 0).call(HELPER.mapUpdateElem);
}

function lookupListener(a: Assembler, maps: TcpLifeMaps, sport: TracepointField, ctxLoad: (dst: typeof R1, f: TracepointField) => Assembler): Assembler {
  ctxLoad(R1, sport).store(4, R10, U32_KEY, R1);
  return a.ldMapFd(R1, maps.listenPorts).movReg(R2, R10).aluImm('add', R2, U32_KEY).call(HELPER.mapLookupElem);
}

/** Goes on to `same` when the socket (r7) is in network namespace `inum`, else to `other`. */
function sameNetns(a: Assembler, k: KernelOffsets, inum: number, other: string, same: string): void {
  a.movReg(R1, R10).aluImm('add', R1, SCRATCH).movImm(R2, 8).movReg(R3, R7).aluImm('add', R3, k.netPointer.offset).call(HELPER.probeReadKernel);
  a.load(8, R3, R10, SCRATCH).jumpImm('jeq', R3, 0, other);
  a.aluImm('add', R3, k.netnsInum.offset).movReg(R1, R10).aluImm('add', R1, SCRATCH).movImm(R2, 4).call(HELPER.probeReadKernel);
  a.load(4, R1, R10, SCRATCH);
  // the namespace inode is an unsigned 32-bit number: compared as a register loaded with it
  a.ldImm64(R2, BigInt(inum >>> 0)).jumpReg('jeq', R1, R2, same).goto(other);
}

/** Copies a fixed-size array field of the tracepoint record into the ring record, aligned chunks. */
function copyCtx(a: Assembler, field: TracepointField, to: number): void {
  const chunk: Size = field.offset % 8 === 0 && field.size % 8 === 0 ? 8 : field.offset % 4 === 0 && field.size % 4 === 0 ? 4 : 1;
  for (let i = 0; i < field.size; i += chunk) a.load(chunk, R1, R6, field.offset + i).store(chunk, R9, to + i, R1);
}

function checkKernelOffsets(k: KernelOffsets): void {
  const want: [keyof KernelOffsets, number[]][] = [
    ['bytesSent', [8]],
    ['bytesAcked', [8]],
    ['bytesReceived', [8]],
    ['segsOut', [4]],
    ['segsIn', [4]],
    ['totalRetrans', [4]],
    ['srttUs', [4]],
    ['cookie', [8]],
    ['netPointer', [8]],
    ['netnsInum', [4]],
  ];
  for (const [name, sizes] of want) {
    const m = k[name];
    if (!sizes.includes(m.size)) throw new Error(`kernel field ${name} is ${m.size} bytes, expected ${sizes.join(' or ')}`);
    if (m.offset < 0 || m.offset > 0x7fffffff) throw new Error(`kernel field ${name} at an impossible offset`);
  }
}

/**
 * fork-follow for task:task_newtask: a new process (not a thread) whose parent is watched with
 * WATCH_FOLLOW joins with REPORT and FOLLOW, before it runs.
 */
export function forkFollowProgram(format: TracepointFormat, pidsMap: number): Buffer {
  const pid = requireField(format, 'pid', [4]);
  const flags = requireField(format, 'clone_flags', [8]);
  const a = new Assembler();
  a.movReg(R6, R1);
  a.load(8, R1, R6, flags.offset).aluImm('and', R1, CLONE_THREAD).jumpImm('jne', R1, 0, 'exit');
  a.call(HELPER.getCurrentPidTgid).aluImm('rsh', R0, 32).store(4, R10, -4, R0);
  a.ldMapFd(R1, pidsMap).movReg(R2, R10).aluImm('add', R2, -4).call(HELPER.mapLookupElem);
  a.jumpImm('jeq', R0, 0, 'exit').load(4, R1, R0, 0).aluImm('and', R1, WATCH_FOLLOW).jumpImm('jeq', R1, 0, 'exit');
  a.load(4, R1, R6, pid.offset).store(4, R10, -8, R1).storeImm(4, R10, -12, WATCH_REPORT | WATCH_FOLLOW);
  a.ldMapFd(R1, pidsMap).movReg(R2, R10).aluImm('add', R2, -8).movReg(R3, R10).aluImm('add', R3, -12).movImm(R4, 0).call(HELPER.mapUpdateElem);
  a.label('exit').movImm(R0, 0).exit();
  return a.bytes();
}
