// Which processes a watch follows: PIDs given, processes matching a name, and (with --children)
// every descendant of those. Pure over a ProcessEntry table, so re-evaluating it at each poll
// picks up workers born during the watch and forgets those that exited.
import type { ProcessEntry } from './process-table';

export interface TargetSpec {
  /** PIDs given on the command line (`sockwatch 12`, `-p 12,34`) */
  pids: readonly number[];
  /** --name: matches comm or argv[0]'s basename exactly, as `pgrep -x` does with either */
  name?: string;
  /** --children: add every descendant of the selected processes */
  children: boolean;
}

/**
 * The `comm` of a process is cut to 15 bytes by the kernel, so a longer name can only match it
 * by its first 15 bytes; argv[0] is matched whole.
 */
export const COMM_MAX = 15;

export function matchesName(e: ProcessEntry, name: string): boolean {
  if (e.argv0 === name) return true;
  if (e.comm === name) return true;
  return Buffer.byteLength(name) > COMM_MAX && e.comm === Buffer.from(name).subarray(0, COMM_MAX).toString();
}

/**
 * The PIDs to watch, ascending. `exclude` is sockwatch's own PID (and its parents'): `sockwatch
 * --name node` must not watch itself. Given PIDs that are not in the table are left out (they
 * exited); the caller decides whether that is an error.
 */
export function selectTargets(table: readonly ProcessEntry[], spec: TargetSpec, exclude: ReadonlySet<number> = new Set()): number[] {
  const byPid = new Map(table.map((e) => [e.pid, e]));
  const roots = new Set<number>();
  for (const pid of spec.pids) if (byPid.has(pid)) roots.add(pid);
  if (spec.name !== undefined) {
    for (const e of table) if (!exclude.has(e.pid) && matchesName(e, spec.name)) roots.add(e.pid);
  }
  const selected = new Set(roots);
  if (spec.children) for (const d of descendants(table, roots)) if (!exclude.has(d)) selected.add(d);
  return [...selected].sort((a, b) => a - b);
}

/** Every process below `roots` in the parent tree (the roots themselves not included). */
export function descendants(table: readonly ProcessEntry[], roots: ReadonlySet<number>): number[] {
  const kids = new Map<number, number[]>();
  for (const e of table) {
    if (e.pid === e.ppid) continue; // never loop on a malformed row
    const list = kids.get(e.ppid);
    if (list) list.push(e.pid);
    else kids.set(e.ppid, [e.pid]);
  }
  const out: number[] = [];
  const seen = new Set<number>(roots);
  const stack = [...roots];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    for (const k of kids.get(pid) ?? []) {
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(k);
      stack.push(k);
    }
  }
  return out;
}

/** sockwatch itself and its ancestors: never targets of a name match. */
export function selfAndAncestors(table: readonly ProcessEntry[], self: number): Set<number> {
  const byPid = new Map(table.map((e) => [e.pid, e]));
  const out = new Set<number>();
  let pid: number | undefined = self;
  while (pid !== undefined && pid > 0 && !out.has(pid)) {
    out.add(pid);
    pid = byPid.get(pid)?.ppid;
  }
  return out;
}

/** What a spec names, for messages: "PID 12", "PIDs 12,34", "name nginx", "name nginx and PID 12". */
export function describeSpec(spec: TargetSpec): string {
  const parts: string[] = [];
  if (spec.name !== undefined) parts.push(`name ${JSON.stringify(spec.name)}`);
  if (spec.pids.length === 1) parts.push(`PID ${spec.pids[0]}`);
  else if (spec.pids.length > 1) parts.push(`PIDs ${spec.pids.join(',')}`);
  return parts.join(' and ') + (spec.children ? ' with children' : '');
}
