import { compareByFd, type Connection } from '../../model';

/**
 * `connections` ordered by fd, as a sort by fd would: fd numbers are small, dense and unique
 * per connection here (inodeToFd gives each inode its own fd), so placing each at its fd index
 * is O(n + max fd) instead of a comparison sort (which showed in profiles of large targets). Falls
 * back to the sort if that ever does not hold.
 */
export function inFdOrder(connections: Connection[]): Connection[] {
  if (connections.length < 64) return connections.sort(compareByFd);
  if (ascendingFds(connections)) return connections; // as the fd-socket iterator gives them
  let maxFd = 0;
  for (const c of connections) {
    const fd = c.fd;
    if (fd === undefined || !Number.isInteger(fd) || fd < 0) return connections.sort(compareByFd);
    if (fd > maxFd) maxFd = fd;
  }
  if (maxFd > 8 * connections.length + 1024) return connections.sort(compareByFd); // sparse: the slots would cost more
  // The slots are kept for the next call, emptied: at 20,000 connections a new array per poll
  // was a large object for the full collector to free.
  if (slots.length <= maxFd) slots = new Array<Connection | undefined>(maxFd + 1);
  let duplicate = false;
  for (const c of connections) {
    const fd = c.fd!;
    if (slots[fd] !== undefined) duplicate = true;
    slots[fd] = c;
  }
  if (!duplicate) {
    let n = 0;
    for (let fd = 0; fd <= maxFd; fd++) {
      const c = slots[fd];
      if (c !== undefined) connections[n++] = c;
    }
  }
  for (const c of connections) slots[c.fd!] = undefined;
  return duplicate ? connections.sort(compareByFd) : connections;
}

let slots: (Connection | undefined)[] = [];

function ascendingFds(connections: readonly Connection[]): boolean {
  let last = -1;
  for (let i = 0; i < connections.length; i++) {
    const fd = connections[i]!.fd;
    if (fd === undefined || !(fd > last)) return false;
    last = fd;
  }
  return true;
}
