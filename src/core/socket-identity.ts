// Which socket of a poll is which: a process is its PID and start time, a live socket its inode
// and tuple (and cookie, where the source gives one). The reconciler's matching rules, pure.
import { connectionKey, type Connection, type ProcessInfo } from '../model';

export function sameProcess(a: ProcessInfo, b: ProcessInfo): boolean {
  if (a.pid !== b.pid) return false;
  // An unknown start time (a source that cannot read it, or a failed read) is not a change.
  if (a.startTime === undefined || b.startTime === undefined) return true;
  return a.startTime === b.startTime;
}

export function sameTuple(a: Connection, b: Connection): boolean {
  return (
    a.local.port === b.local.port &&
    a.remote.port === b.remote.port &&
    a.local.address === b.local.address &&
    a.remote.address === b.remote.address
  );
}

export function cookieChanged(prev: Connection, next: Connection): boolean {
  const a = prev.tcp?.cookie;
  const b = next.tcp?.cookie;
  return a !== undefined && b !== undefined && a !== b;
}

/**
 * One connection per connectionKey(), the first listed, in order. Keys are built only when two
 * entries share an inode, or one has none: a first poll of a big target has thousands of entries,
 * all of distinct inodes.
 */
export function firstOfEachKey(conns: Connection[]): Connection[] {
  if (conns.length < 2) return conns;
  const inodes = new Float64Array(conns.length);
  for (let i = 0; i < conns.length; i++) {
    const inode = conns[i]!.inode;
    if (!(inode > 0)) return firstOfEachKeyByString(conns);
    inodes[i] = inode;
  }
  inodes.sort();
  for (let i = 1; i < inodes.length; i++) if (inodes[i] === inodes[i - 1]) return firstOfEachKeyByString(conns);
  return conns;
}

function firstOfEachKeyByString(conns: readonly Connection[]): Connection[] {
  const byKey = new Map<string, Connection>();
  for (const c of conns) {
    const key = connectionKey(c);
    if (!byKey.has(key)) byKey.set(key, c);
  }
  return [...byKey.values()];
}
