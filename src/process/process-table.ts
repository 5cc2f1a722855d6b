// The host's processes as a table (pid, parent, names), for choosing targets by name and following
// a process's descendants. Read from /proc; the choosing itself (target-selection.ts) is pure.
import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseProcStat } from './proc-text';

export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** /proc/PID/comm: the kernel's name for it, at most 15 bytes */
  comm: string;
  /** basename of argv[0] ('' for kernel threads and processes whose cmdline is hidden) */
  argv0: string;
  /** field 22 of stat: with the PID, the process's identity */
  startTicks: number;
}

const PROC = '/proc';

/** Every process that can be read now; those that exit mid-read are skipped. */
export function readProcessTable(root = PROC): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (const name of readdirSync(root)) {
    if (!/^\d+$/.test(name)) continue;
    const entry = readProcessEntry(Number(name), root);
    if (entry !== undefined) out.push(entry);
  }
  return out;
}

export function readProcessEntry(pid: number, root = PROC): ProcessEntry | undefined {
  let stat: string;
  let cmdline = '';
  try {
    stat = readFileSync(`${root}/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone, or not ours to read: either way not a candidate
  }
  try {
    cmdline = readFileSync(`${root}/${pid}/cmdline`, 'utf8');
  } catch {
    // hidden cmdline (hardened kernels): comm still names it
  }
  const parsed = parseProcStat(stat);
  if (parsed === undefined || parsed.ppid === undefined || parsed.state === 'Z' || parsed.state === 'X') return undefined;
  const argv0 = cmdline.split('\0', 1)[0] ?? '';
  return { pid, ppid: parsed.ppid, comm: commFromStat(stat), argv0: argv0 === '' ? '' : basename(argv0), startTicks: parsed.startTicks };
}

/** comm is the text between the first '(' and the last ')' of stat (it may hold either). */
function commFromStat(stat: string): string {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  return open >= 0 && close > open ? stat.slice(open + 1, close) : '';
}

/** every entry is read again after this long (reparenting, exec, a reused PID) */
export const TABLE_REFRESH_MS = 30_000;
/** entries first seen less than this long ago are read again each time: a fork is often followed by an exec */
export const TABLE_YOUNG_MS = 2_000;

/**
 * The process table read at every poll of a --name or --children watch, for a fraction of the
 * cost: /proc is listed each time (new and gone PIDs), but an entry already known is read again
 * only while it is young (a fresh fork about to exec) or after TABLE_REFRESH_MS.
 */
export class CachedProcessTable {
  private entries = new Map<number, { entry: ProcessEntry; seenMs: number }>();
  private refreshedMs = -Infinity;

  constructor(
    private readonly root = PROC,
    private readonly clock: () => number = Date.now,
  ) {}

  read(): ProcessEntry[] {
    const now = this.clock();
    const full = now - this.refreshedMs >= TABLE_REFRESH_MS;
    if (full) this.refreshedMs = now;
    const next = new Map<number, { entry: ProcessEntry; seenMs: number }>();
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      names = [];
    }
    for (const name of names) {
      if (!/^\d+$/.test(name)) continue;
      const pid = Number(name);
      const known = this.entries.get(pid);
      if (known !== undefined && !full && now - known.seenMs >= TABLE_YOUNG_MS) {
        next.set(pid, known);
        continue;
      }
      const entry = readProcessEntry(pid, this.root);
      if (entry === undefined) continue;
      // a PID read again with another start time is another process: young again
      const seenMs = known !== undefined && known.entry.startTicks === entry.startTicks ? known.seenMs : now;
      next.set(pid, { entry, seenMs });
    }
    this.entries = next;
    return [...next.values()].map((e) => e.entry);
  }
}
