// The target's listening ports, for the tcp-life program's accept-side rule. Read from /proc
// (fd inodes and the target's own net tables), not through the poll source, so that it can run
// while the poll loop is using that source.
import { readSocketInodes } from '../procfs/fd-inodes';
import { NetTableReader } from '../procfs/net-table-reader';
import { parseNetTcpForInodes } from '../procfs/parse-net-tcp';

export async function listeningPorts(pid: number): Promise<number[]> {
  const inodes = new Set((await readSocketInodes(pid)).keys());
  const reader = new NetTableReader();
  const ports = new Set<number>();
  for (const protocol of ['tcp', 'tcp6'] as const) {
    const n = reader.read(`/proc/${pid}/net/${protocol}`);
    if (n < 0) continue;
    for (const c of parseNetTcpForInodes(reader.buffer, protocol, inodes, n)) if (c.state === 'LISTEN') ports.add(c.local.port);
  }
  return [...ports].sort((a, b) => a - b);
}
