// Kernel-side filters for sock_diag dumps (INET_DIAG_REQ_BYTECODE, linux/inet_diag.h).
//
// Why: a dump walks the whole host table (~22,000 sockets) but only the target's rows matter.
// A filter on the target's ports makes the kernel skip the rest before filling a message (and
// tcp_info) for it, so one dump returns the target's sockets in a few large datagrams — where
// exact lookups cost one datagram per socket.
//
// The program (see inet_diag_bc_run / inet_diag_bc_audit in net/ipv4/inet_diag.c): ops of
// {u8 code, u8 yes, u16 no}; a port comparison carries its port (host order) in the `no` of the
// following 4-byte op. After an op the program moves `yes` bytes forward when the test holds,
// `no` bytes otherwise; landing exactly at the end accepts, at end + 4 rejects. The audit follows
// the `yes` chain from the start, so every `yes` here is the op's own length (fall through) and
// every jump target is an op on that chain; only `no` (u16) jumps, which bounds a program to
// 64 KiB. Only S_GE/S_LE/D_GE/D_LE and JMP are used: they exist on every kernel with sock_diag.
//
// Layout: a balanced binary search over sorted, disjoint port ranges, for the local port and
// then for the remote port (an OR): node = `LE range[mid].hi` (yes → left half next, no → right
// half); leaf = `GE range.lo` (no → miss) + `JMP accept`. A guard `LE last.hi` before each tree
// makes the path bounds hold at every leaf: on reaching leaf k, range[k-1].hi < port ≤ range[k].hi.

import { HOST_LE } from './sock-diag-constants';

export const INET_DIAG_REQ_BYTECODE = 1;

export const BC_JMP = 1;
export const BC_S_GE = 2;
export const BC_S_LE = 3;
export const BC_D_GE = 4;
export const BC_D_LE = 5;

const CMP_LEN = 8;
const JMP_LEN = 4;
const LEAF_LEN = CMP_LEN + JMP_LEN;
/** `no` is a u16 offset, and nla_len (u16) also counts its 4-byte header. */
export const MAX_BYTECODE_BYTES = 65_528;

export interface PortRange {
  lo: number;
  hi: number;
}

/** Port sets to match: a socket passes when its local port is in `local` or its remote port in `remote`. */
export interface PortFilter {
  local: readonly PortRange[];
  remote: readonly PortRange[];
}

/**
 * Sorted, disjoint ranges covering `ports`, with the smallest gaps merged until at most
 * `maxRanges` remain: a coarser filter lets some foreign sockets through (the caller drops them
 * by inode), a longer one would not fit the 64 KiB program.
 */
export function portRanges(ports: Iterable<number>, maxRanges: number): PortRange[] {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const ranges: PortRange[] = [];
  for (const p of sorted) {
    const last = ranges[ranges.length - 1];
    if (last !== undefined && p === last.hi + 1) last.hi = p;
    else ranges.push({ lo: p, hi: p });
  }
  if (ranges.length <= maxRanges || maxRanges < 1) return ranges;
  // Merge across the (ranges - maxRanges) smallest gaps; ties go to the lower gap, deterministic.
  const gaps = ranges.slice(1).map((r, i) => ({ i, size: r.lo - ranges[i]!.hi }));
  gaps.sort((a, b) => a.size - b.size || a.i - b.i);
  const mergeAfter = new Set(gaps.slice(0, ranges.length - maxRanges).map((g) => g.i));
  const merged: PortRange[] = [{ ...ranges[0]! }];
  for (let i = 1; i < ranges.length; i++) {
    if (mergeAfter.has(i - 1)) merged[merged.length - 1]!.hi = ranges[i]!.hi;
    else merged.push({ ...ranges[i]! });
  }
  return merged;
}

/** Bytes a filter over this many ranges (local + remote) takes. */
export function bytecodeLength(localRanges: number, remoteRanges: number): number {
  return treeLength(localRanges) + treeLength(remoteRanges);
}

/** The most ranges (local + remote) that fit one program. */
export const MAX_FILTER_RANGES = Math.floor((MAX_BYTECODE_BYTES - 2 * CMP_LEN) / (LEAF_LEN + CMP_LEN));

function treeLength(n: number): number {
  // guard + n leaves + (n - 1) inner nodes
  return n === 0 ? 0 : CMP_LEN + n * LEAF_LEN + (n - 1) * CMP_LEN;
}

/**
 * The program for `filter`; an empty filter (no ranges at all) is a program that rejects
 * everything. Throws RangeError when it would not fit (see MAX_FILTER_RANGES).
 */
export function buildPortFilterBytecode(filter: PortFilter): Buffer {
  const total = bytecodeLength(filter.local.length, filter.remote.length);
  if (total > MAX_BYTECODE_BYTES) throw new RangeError(`port filter of ${total} bytes exceeds ${MAX_BYTECODE_BYTES}`);
  if (total === 0) {
    // One JMP to end + 4: the audit accepts it (no ≤ len + 4) and every socket is rejected.
    const buf = Buffer.alloc(JMP_LEN);
    writeOp(buf, 0, BC_JMP, JMP_LEN, JMP_LEN + 4);
    return buf;
  }
  const buf = Buffer.alloc(total);
  const accept = total;
  const reject = total + 4;
  const localLen = treeLength(filter.local.length);
  // A local miss goes on to the remote tree (or rejects when there is none).
  const afterLocal = filter.remote.length > 0 ? localLen : reject;
  if (filter.local.length > 0) emitTree(buf, 0, filter.local, BC_S_LE, BC_S_GE, accept, afterLocal);
  if (filter.remote.length > 0) emitTree(buf, localLen, filter.remote, BC_D_LE, BC_D_GE, accept, reject);
  return buf;
}

function emitTree(buf: Buffer, at: number, ranges: readonly PortRange[], le: number, ge: number, accept: number, miss: number): void {
  writeCmp(buf, at, le, ranges[ranges.length - 1]!.hi, miss);
  emitNode(buf, at + CMP_LEN, ranges, 0, ranges.length - 1, le, ge, accept, miss);
}

function nodeLength(i: number, j: number): number {
  const n = j - i + 1;
  return n * LEAF_LEN + (n - 1) * CMP_LEN;
}

function emitNode(buf: Buffer, at: number, ranges: readonly PortRange[], i: number, j: number, le: number, ge: number, accept: number, miss: number): void {
  if (i === j) {
    writeCmp(buf, at, ge, ranges[i]!.lo, miss);
    writeOp(buf, at + CMP_LEN, BC_JMP, JMP_LEN, accept - (at + CMP_LEN));
    return;
  }
  const m = (i + j) >> 1;
  const right = at + CMP_LEN + nodeLength(i, m);
  writeCmp(buf, at, le, ranges[m]!.hi, right);
  emitNode(buf, at + CMP_LEN, ranges, i, m, le, ge, accept, miss);
  emitNode(buf, right, ranges, m + 1, j, le, ge, accept, miss);
}

/** A port comparison at `at` whose failure jumps to the absolute offset `noTarget`. */
function writeCmp(buf: Buffer, at: number, code: number, port: number, noTarget: number): void {
  writeOp(buf, at, code, CMP_LEN, noTarget - at);
  writeOp(buf, at + 4, 0, 0, port);
}

function writeOp(buf: Buffer, at: number, code: number, yes: number, no: number): void {
  buf[at] = code;
  buf[at + 1] = yes;
  // struct inet_diag_bc_op is host order, as netlink is
  if (HOST_LE) buf.writeUInt16LE(no, at + 2);
  else buf.writeUInt16BE(no, at + 2);
}

