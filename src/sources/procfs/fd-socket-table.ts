import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { noSuchProcess } from '../../errors';
import { permissionDeniedFor } from '../../process/process-info';
import { isGoneError, isPermissionError, procReadError } from '../../process/proc-errors';

const SOCKET_PREFIX = 'socket:[';
/** What a link that is not a socket maps to. */
const NOT_A_SOCKET = 0;

/**
 * /proc/PID/fd kept between polls, so that a poll can skip the readlink of fds whose socket it
 * already knows to be open.
 *
 * Why: readlink of /proc/PID/fd/N costs ~5 µs (≈3 µs of kernel path walk and ptrace check, ≈2 µs
 * in Node), so 1,000 fds cost 5–7 ms per poll — alone more than a twentieth of an lsof run —
 * while readdir of the same directory costs ~0.4 ms. A caller that can tell by other means that
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
  /** fd → socket inode, or NOT_A_SOCKET */
  private links = new Map<number, number>();
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

    const prev = this.links;
    const links = new Map<number, number>();
    const inodes = new Map<number, number>();
    let vanished = false;
    let readlinks = 0;
    for (const name of names) {
      const fd = Number(name);
      if (!Number.isInteger(fd)) continue;
      let inode = prev.get(fd);
      if (inode === undefined || inode === NOT_A_SOCKET || stillOpen === undefined || !stillOpen(inode)) {
        let target: string;
        readlinks++;
        try {
          target = readlinkSync(`${dir}/${name}`);
        } catch (e) {
          if (isGoneError(e)) {
            vanished = true;
            continue;
          }
          if (isPermissionError(e)) throw await permissionDeniedFor(this.pid);
          throw procReadError(e, this.pid, `${dir}/${name}`);
        }
        inode = target.startsWith(SOCKET_PREFIX) ? Number(target.slice(SOCKET_PREFIX.length, -1)) : NOT_A_SOCKET;
        if (!Number.isInteger(inode)) inode = NOT_A_SOCKET;
      }
      links.set(fd, inode);
      if (inode === NOT_A_SOCKET) continue;
      const known = inodes.get(inode);
      if (known === undefined || fd < known) inodes.set(inode, fd);
    }
    this.lastReadlinks = readlinks;

    // An fd vanishing is routine; all of them vanishing may mean the process exited mid-scan.
    if (vanished && !existsSync(dir)) throw noSuchProcess(this.pid);
    this.links = links;
    return inodes;
  }

  /** Forget everything: the next scan reads every link. */
  reset(): void {
    this.links = new Map();
  }
}
