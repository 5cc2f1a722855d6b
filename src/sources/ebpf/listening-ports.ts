// The group's listening ports and the member holding each, for the tcp-life program's accept-side
// rule. Read from /proc (fd inodes and the members' own net tables), not through the poll source,
// so that it can run while the poll loop is using that source. The net tables list the whole
// namespace's sockets (tens of ms on a busy host): read once per network namespace, however many
// members share it.
import { readlinkSync } from 'node:fs';
import { readSocketInodes } from '../procfs/fd-inodes';
import { NetTableReader } from '../procfs/net-table-reader';
import { parseNetTcpForInodes } from '../procfs/parse-net-tcp';

export async function listeningPortsOf(pids: readonly number[]): Promise<{ port: number; pid: number }[]> {
  // socket inode → the first member (lowest PID given first) holding it, per namespace
  const byNetns = new Map<string, { reader: number; owners: Map<number, number> }>();
  for (const pid of pids) {
    let ns: string;
    let inodes: Map<number, number>;
    try {
      ns = readlinkSync(`/proc/${pid}/ns/net`);
      inodes = await readSocketInodes(pid);
    } catch {
      continue; // gone, or not ours to read: its ports come from the program when it listens
    }
    const entry = byNetns.get(ns) ?? { reader: pid, owners: new Map<number, number>() };
    for (const inode of inodes.keys()) if (!entry.owners.has(inode)) entry.owners.set(inode, pid);
    byNetns.set(ns, entry);
  }
  const out = new Map<number, number>();
  const reader = new NetTableReader();
  for (const { reader: pid, owners } of byNetns.values()) {
    const inodes = new Set(owners.keys());
    for (const protocol of ['tcp', 'tcp6'] as const) {
      const n = reader.read(`/proc/${pid}/net/${protocol}`);
      if (n < 0) continue;
      for (const c of parseNetTcpForInodes(reader.buffer, protocol, inodes, n)) {
        if (c.state === 'LISTEN' && !out.has(c.local.port)) out.set(c.local.port, owners.get(c.inode) ?? pid);
      }
    }
  }
  return [...out].map(([port, pid]) => ({ port, pid })).sort((a, b) => a.port - b.port);
}
