// The second half of the likelyBrief rule (core/lifecycle-types.ts OwnershipHints): whether any
// socket in sockwatch's network namespace connects to an endpoint from outside the target's fd
// table. /proc/self/net/tcp{,6} lists every socket of the namespace with its inode, for any user:
// a socket with an inode is held in some fd table; one with none (TIME_WAIT, an orphan) is
// nobody's. Destroy notifications only cover sockwatch's own namespace, so this is the one that
// matters. Read only when an unowned brief connection goes to an endpoint the target talks to.
import type { Endpoint, Protocol } from '../model';
import { remoteKey } from '../core/lifecycle-match';
import { NetTableReader } from './procfs/net-table-reader';
import { parseNetTcpLine } from './procfs/parse-net-tcp';

const TABLES: readonly (readonly [string, Protocol])[] = [
  ['tcp', 'tcp'],
  ['tcp6', 'tcp6'],
];

export class RemoteCensus {
  private readonly reader = new NetTableReader();

  constructor(private readonly netDir = '/proc/self/net') {}

  /**
   * The remoteKey()s of `remotes` that a socket whose inode is not in `own` (and not 0) connects
   * to. Throws on a read error (the caller then proves nothing likely).
   */
  foreign(remotes: readonly Endpoint[], own: ReadonlySet<number>): Set<string> {
    const out = new Set<string>();
    if (remotes.length === 0) return out;
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
        if (c === undefined || c.inode === 0 || c.state === 'LISTEN' || own.has(c.inode)) continue;
        const key = remoteKey(c.remote);
        if (wanted.has(key)) out.add(key);
      }
    }
    return out;
  }

  close(): void {
    this.reader.release();
  }
}
