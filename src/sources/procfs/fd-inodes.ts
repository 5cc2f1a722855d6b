import { FdSocketTable } from './fd-socket-table';

/**
 * Socket inode → fd for every socket the process holds (TCP, but also UDP, unix, netlink: the
 * caller joins against the TCP tables). A socket dup'ed onto several fds maps to the lowest fd.
 * One full pass of FdSocketTable: every link is read.
 *
 * Synchronous readdir + readlink on purpose: fs.promises.readlink, all at once or in batches,
 * took more wall and CPU time than the sync loop (thread-pool round trips cost more than
 * the syscalls). Blocking the loop briefly per poll is the cheaper trade.
 *
 * Races: an fd closed between readdir and readlink is skipped. The process vanishing rejects with
 * no_such_process; EACCES/EPERM rejects with permission_denied naming the owner.
 */
export function readSocketInodes(pid: number): Promise<Map<number, number>> {
  return new FdSocketTable(pid).scan();
}
