import { existsSync, readdirSync, readlinkSync } from 'node:fs';
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
 * The one case this misses: a socket that stays open elsewhere (dup'ed onto another fd, or passed
 * to another process) after this fd is closed and its number reused. Callers pass no `stillOpen`
 * every so often (a full pass) to bound that.
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

  constructor(private readonly pid: number) {
    this.dir = `/proc/${pid}/fd`;
  }

  /**
   * Socket inode → lowest fd holding it, for every socket of the process (TCP or not).
   * Rejects with no_such_process when the process is gone, permission_denied naming the owner.
   */
  async scan(stillOpen?: (inode: number) => boolean): Promise<Map<number, number>> {
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
    let maxFd = -1;
    for (const name of names) {
      const fd = Number(name);
      if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) continue;
      fds[count++] = fd;
      if (fd > maxFd) maxFd = fd;
    }

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
    this.spare = prev;
    this.links = links;

    // In fd order, so the first fd seen for an inode is its lowest.
    const inodes = new Map<number, number>();
    for (let fd = 0; fd <= maxFd; fd++) { // links may be longer (a reused array): past maxFd all UNSEEN
      const inode = links[fd]!;
      if (inode === UNSEEN || inode === NOT_A_SOCKET) continue;
      if (inodes.get(inode) === undefined) inodes.set(inode, fd);
    }
    return inodes;
  }

  /** Forget everything: the next scan reads every link. */
  reset(): void {
    this.links = new Float64Array(0);
    this.spare = new Float64Array(0);
  }
}
