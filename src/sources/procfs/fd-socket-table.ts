import { existsSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { noSuchProcess } from '../../errors';
import { permissionDeniedFor } from '../../process/process-info';
import { isGoneError, isPermissionError, procReadError } from '../../process/proc-errors';

const SOCKET_PREFIX = 'socket:[';
/** What a link that is not a socket maps to. */
const NOT_A_SOCKET = 0;
/** An fd number not listed (or whose link vanished) in a pass. */
const UNSEEN = -1;

/**
 * /proc/PID/fd kept between polls, so that a poll can skip the readlink of fds whose socket it
 * already knows to be open.
 *
 * Why: each readlink of /proc/PID/fd/N pays a kernel path walk and a ptrace check, so on a process
 * with many fds the readlinks dominate the poll, while one readdir of the same directory is an
 * order of magnitude cheaper. A caller that can tell by other means that
 * a socket is still open (the netlink source's exact lookups: a closed socket's lookup fails or
 * answers with inode 0) passes `stillOpen`; an fd whose number is still listed and whose socket
 * is still open cannot hold anything else (fd numbers are only reused after a close).
 * Every other fd — new numbers, non-sockets, sockets not confirmed open — is read again each pass,
 * so a socket opened on the number of a just-closed file is seen at once.
 *
 * With `stillOpen`, the directory is not even listed when its size (the open-fd count) says no fd
 * was added or removed on balance and every fd of the last pass is still open (see
 * sameFdsAsLastPass): a file closed and a socket opened in between changes no count, but the
 * file's fd is read again and found gone, so the directory is listed.
 *
 * The one case this misses: a socket that stays open elsewhere (dup'ed onto another fd, or passed
 * to another process) after this fd is closed and its number reused, or (listing skipped) after
 * this fd is closed and another one opened. Callers pass no `stillOpen` every so often (a full
 * pass) to bound that.
 */
export class FdSocketTable {
  private readonly dir: string;
  /**
   * Index fd → socket inode, NOT_A_SOCKET, or UNSEEN. A typed array rather than a Map: fd numbers
   * are small and dense, and at 20,000 fds the Map's lookups, inserts and growth were most of a
   * scan's JS time.
   */
  private links: Float64Array = new Float64Array(0);
  /** the pass before last's array, reused so a steady scan allocates nothing this size */
  private spare: Float64Array = new Float64Array(0);
  /** readlink calls in the last pass (for benchmarks and tests) */
  lastReadlinks = 0;
  /** whether the last pass listed the directory (for benchmarks and tests) */
  lastListed = false;
  /** the fd numbers of the last pass, and the largest */
  private lastFds: Int32Array = new Int32Array(0);
  private lastMaxFd = -1;
  /**
   * What scan() returns, updated in place from one pass to the next by the fds that changed: a
   * new Map of every socket each poll was, for a target of thousands of sockets, the largest
   * garbage of a steady poll (a large object only a full collection frees).
   */
  private inodes = new Map<number, number>();

  constructor(private readonly pid: number) {
    this.dir = `/proc/${pid}/fd`;
  }

  /**
   * Socket inode → lowest fd holding it, for every socket of the process (TCP or not). The map is
   * the table's own: the next scan (or reset) changes it, so read it before then.
   * Rejects with no_such_process when the process is gone, permission_denied naming the owner.
   */
  async scan(stillOpen?: (inode: number) => boolean): Promise<Map<number, number>> {
    if (stillOpen !== undefined) {
      const same = this.sameFdsAsLastPass();
      if (same !== undefined) {
        const inodes = await this.pass(same, this.lastMaxFd, stillOpen);
        if (inodes !== undefined) return inodes;
      }
    }
    return (await this.pass(await this.listFds(), undefined, stillOpen))!;
  }

  /**
   * The last pass's fd numbers when the directory's size (the open-fd count, Linux 6.2+; 0 on
   * older kernels) equals their count: then, if every one of them is still open (the pass checks:
   * a socket confirmed by the caller, anything else read again), no other fd can exist and the
   * readdir is not needed. A readdir sorts the names (libuv's scandir) and costs far more than
   * the one stat.
   */
  private sameFdsAsLastPass(): Int32Array | undefined {
    if (this.lastFds.length === 0) return undefined;
    let size: number;
    try {
      size = statSync(this.dir).size;
    } catch {
      return undefined; // the full pass says why
    }
    return size === this.lastFds.length ? this.lastFds : undefined;
  }

  private async listFds(): Promise<Int32Array> {
    const dir = this.dir;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      if (isPermissionError(e)) throw await permissionDeniedFor(this.pid);
      throw procReadError(e, this.pid, dir);
    }
    // Parse the names once; readdir lists them in name order ("10" before "9"), not by number.
    const fds = new Int32Array(names.length);
    let count = 0;
    for (const name of names) {
      const fd = Number(name);
      if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) continue;
      fds[count++] = fd;
    }
    return count === fds.length ? fds : fds.slice(0, count);
  }

  /**
   * One pass over `fds`. With `knownSet` (the fds are the last pass's, believed to be all the
   * open ones), resolves undefined as soon as one of them turns out closed: the caller then
   * lists the directory.
   */
  private async pass(fds: Int32Array, knownSet: number | undefined, stillOpen: ((inode: number) => boolean) | undefined): Promise<Map<number, number> | undefined> {
    const dir = this.dir;
    const count = fds.length;
    let maxFd = knownSet ?? -1;
    if (knownSet === undefined) for (let i = 0; i < count; i++) if (fds[i]! > maxFd) maxFd = fds[i]!;

    const prev = this.links;
    const links = this.spare.length > maxFd ? this.spare.fill(UNSEEN) : new Float64Array(maxFd + 1).fill(UNSEEN);
    let vanished = false;
    let readlinks = 0;
    for (let i = 0; i < count; i++) {
      const fd = fds[i]!;
      let inode = fd < prev.length ? prev[fd]! : UNSEEN;
      if (inode === UNSEEN || inode === NOT_A_SOCKET || stillOpen === undefined || !stillOpen(inode)) {
        let target: string;
        readlinks++;
        try {
          target = readlinkSync(`${dir}/${fd}`);
        } catch (e) {
          if (isGoneError(e)) {
            if (knownSet !== undefined) return undefined;
            vanished = true;
            continue;
          }
          if (isPermissionError(e)) throw await permissionDeniedFor(this.pid);
          throw procReadError(e, this.pid, `${dir}/${fd}`);
        }
        inode = target.startsWith(SOCKET_PREFIX) ? Number(target.slice(SOCKET_PREFIX.length, -1)) : NOT_A_SOCKET;
        if (!Number.isInteger(inode) || inode < 0) inode = NOT_A_SOCKET;
      }
      links[fd] = inode;
    }
    this.lastReadlinks = readlinks;

    // An fd vanishing is routine; all of them vanishing may mean the process exited mid-scan.
    if (vanished && !existsSync(dir)) throw noSuchProcess(this.pid);
    updateInodes(this.inodes, prev, links);
    this.spare = prev;
    this.links = links;
    // with an fd gone mid-pass, the list is not the open set: the next pass lists the directory
    this.lastFds = vanished ? new Int32Array(0) : fds;
    this.lastMaxFd = maxFd;
    this.lastListed = knownSet === undefined;

    return this.inodes;
  }

  /** Forget everything: the next scan reads every link. */
  reset(): void {
    this.lastFds = new Int32Array(0);
    this.links = new Float64Array(0);
    this.spare = new Float64Array(0);
    this.inodes = new Map();
  }
}

/**
 * `inodes` (socket inode → lowest fd) for the pass `links` (fd → inode), given that it held the
 * pass `prev`: only fds whose link changed are visited. An inode that lost the fd it was mapped to
 * may still be held by a higher one (a dup): those are looked for in one walk afterwards.
 */
export function updateInodes(inodes: Map<number, number>, prev: Float64Array, links: Float64Array): void {
  let recheck: Set<number> | undefined;
  const end = Math.max(prev.length, links.length);
  for (let fd = 0; fd < end; fd++) {
    const now = fd < links.length ? links[fd]! : UNSEEN;
    const before = fd < prev.length ? prev[fd]! : UNSEEN;
    if (now === before) continue;
    if (before > 0 && inodes.get(before) === fd) {
      inodes.delete(before);
      (recheck ??= new Set()).add(before);
    }
    if (now > 0) {
      const held = inodes.get(now);
      if (held === undefined || held > fd) inodes.set(now, fd);
    }
  }
  if (recheck === undefined) return;
  for (let fd = 0; fd < links.length; fd++) {
    const inode = links[fd]!;
    if (inode <= 0 || !recheck.has(inode)) continue;
    const held = inodes.get(inode);
    if (held === undefined || held > fd) inodes.set(inode, fd);
  }
}
