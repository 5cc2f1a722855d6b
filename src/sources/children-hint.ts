// The hint for the commonest surprise: `sockwatch <nginx master PID>` shows nothing because the
// workers hold every connection. Checked once, at the start of a watch without --children.
import type { Snapshot } from '../model';
import { readProcessTable } from '../process/process-table';
import { descendants } from '../process/target-selection';
import { hasProcfs } from '../process/process-info';

/** descendants looked at, at most: the hint needs one that holds a socket, not a census */
const MAX_CHILDREN_CHECKED = 16;

/**
 * When the watched processes hold no TCP connection (listening sockets aside: an nginx master
 * holds those) and some descendant holds TCP sockets, the hint to add --children; else undefined.
 */
export async function childrenHint(first: Snapshot): Promise<string | undefined> {
  if (!hasProcfs()) return undefined;
  if (first.connections.some((c) => c.state !== 'LISTEN')) return undefined;
  const watched = (first.processes ?? [first.process]).map((p) => p.pid);
  const kids = descendants(readProcessTable(), new Set(watched));
  if (kids.length === 0) return undefined;
  const { createProcfsSource } = await import('./procfs/procfs-source');
  let holders = 0;
  for (const pid of kids.slice(0, MAX_CHILDREN_CHECKED)) {
    try {
      const source = await createProcfsSource(pid);
      try {
        if ((await source.snapshot('all')).connections.length > 0) holders++;
      } finally {
        source.close();
      }
    } catch {
      // gone or not ours: not a holder we can show
    }
  }
  if (holders === 0) return undefined;
  const who = watched.length === 1 ? `PID ${watched[0]}` : `PIDs ${watched.join(',')}`;
  const them = holders === 1 ? 'a child process holds TCP sockets' : `${holders} child processes hold TCP sockets`;
  return `${who} holds no TCP connection but ${them}: add --children to watch them too`;
}
