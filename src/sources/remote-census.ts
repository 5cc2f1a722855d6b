// The second half of the likelyBrief rule (core/lifecycle-types.ts OwnershipHints): whether any
// socket in sockwatch's network namespace connects to an endpoint from outside the target's fd
// table. /proc/self/net/tcp{,6} lists every socket of the namespace with its inode, for any user:
// a socket with an inode is held in some fd table; one with none (TIME_WAIT, an orphan) is
// nobody's. Destroy notifications only cover sockwatch's own namespace, so this is the one that
// matters. Read only when an unowned brief connection goes to an endpoint the target talks to.
import type { Endpoint, Protocol } from '../model';
import { remoteKey } from '../core/lifecycle-match';
import { readdirSync, readlinkSync } from 'node:fs';
import { NetTableReader } from './procfs/net-table-reader';
import { parseNetTcpLine } from './procfs/parse-net-tcp';

const TABLES: readonly (readonly [string, Protocol])[] = [
  ['tcp', 'tcp'],
  ['tcp6', 'tcp6'],
];

/** The socket inodes in /proc/PID/fd now; none once the process is gone or unreadable. */
function socketInodesNow(pid: number): Set<number> {
  const out = new Set<number>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(Number(m[1]));
    } catch {
      // closed between readdir and readlink
    }
  }
  return out;
}

export class RemoteCensus {
  private readonly reader = new NetTableReader();

  constructor(private readonly netDir = '/proc/self/net') {}

  /**
   * The remoteKey()s of `remotes` that a socket whose inode is not in `own` (and not 0) connects
   * to. `pid`: the target, whose fd table is read again for the sockets found outside `own` (the
   * table is read after the poll's fd-table read: a connection the target opened since is its
   * own). Throws on a read error (the caller then proves nothing likely).
   */
  foreign(remotes: readonly Endpoint[], own: ReadonlySet<number>, pid?: number): Set<string> {
    const out = new Set<string>();
    if (remotes.length === 0) return out;
    const candidates = new Map<number, string>();
    // the target's fd table is read before and after the namespace table: a connection it opened and
    // closed while the (host-sized) table was read is still its own
    const before = pid !== undefined ? socketInodesNow(pid) : new Set<number>();
    const wanted = new Set(remotes.map(remoteKey));
    // a row's remote port as the table writes it (":1F90"): only those rows are parsed
    const ports = [...new Set(remotes.map((r) => `:${r.port.toString(16).toUpperCase().padStart(4, '0')} `))];
    for (const [file, protocol] of TABLES) {
      const n = this.reader.read(`${this.netDir}/${file}`);
      if (n < 0) continue;
      const text = this.reader.buffer.toString('latin1', 0, n);
      for (const line of text.split('\n')) {
        if (!ports.some((p) => line.includes(p))) continue;
        const c = parseNetTcpLine(line, protocol);
        if (c === undefined || c.inode === 0 || c.state === 'LISTEN' || own.has(c.inode) || before.has(c.inode)) continue;
        const key = remoteKey(c.remote);
        if (wanted.has(key)) candidates.set(c.inode, key);
      }
    }
    const now = candidates.size > 0 && pid !== undefined ? socketInodesNow(pid) : new Set<number>();
    for (const [inode, key] of candidates) if (!now.has(inode)) out.add(key);
    return out;
  }

  close(): void {
    this.reader.release();
  }
}
