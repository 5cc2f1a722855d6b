// Opens what the user asked to watch: one PID, a PID list, processes by name, with or without their
// descendants, always as one ProcessGroupSource over per-process sources (openSource), so every
// connection carries the `pid` holding it and a `direction`. A single PID without --children is a
// group of one: its snapshots have no `processes` list and its errors are the per-process source's.
import type { SourceName } from '../model';
import { SockwatchError } from '../errors';
import { CachedProcessTable, readProcessTable, type ProcessEntry } from '../process/process-table';
import { describeSpec, selectTargets, selfAndAncestors, type TargetSpec } from '../process/target-selection';
import { openSource } from './open-source';
import { ProcessGroupSource } from './process-group-source';
import type { Source } from './source';
import type { BriefChoice } from './lifecycle/open-lifecycle';
import type { LifecycleFeed } from './lifecycle/lifecycle-feed';
import { ephemeralPorts } from './direction';

export interface TargetOptions {
  spec: TargetSpec;
  source?: SourceName;
  /** connections shorter than one poll (watch only; a snapshot has no between-poll time) */
  brief?: BriefChoice;
}


/** Whether the spec needs the process table (names, descendants) at all. */
export function isDynamic(spec: TargetSpec): boolean {
  return spec.name !== undefined || spec.children;
}

/** A group answers with `processes` (several processes, or a selection that can change). */
export function isGroup(spec: TargetSpec): boolean {
  return isDynamic(spec) || spec.pids.length > 1;
}

export function openTarget(o: TargetOptions): ProcessGroupSource {
  const table = new CachedProcessTable();
  return new ProcessGroupSource({
    spec: o.spec,
    openOne: (pid) => openSource(pid, o.source),
    readTable: () => table.read(),
    selfPid: process.pid,
    ephemeralPorts: ephemeralPorts(),
  });
}

/**
 * The target with its between-poll evidence: ONE facility for the whole group. eBPF filters on
 * every member in the kernel, kept current as members come and go (and, with --children, a forked
 * child joins in the kernel before it runs); destroy notifications are namespace-wide. `lifecycle`
 * is a feed opened beforehand (`run` opens it before CMD exists).
 */
export async function openWatchedTarget(o: TargetOptions & { lifecycle?: LifecycleFeed }): Promise<Source> {
  const group = openTarget(o);
  const { withLifecycle } = await import('./lifecycle/lifecycle-feed');
  if (o.lifecycle) return withLifecycle(group, o.lifecycle, () => group.pids());
  const brief = o.brief ?? 'auto';
  const pids = o.spec.name === undefined && !o.spec.children ? o.spec.pids : selectNow(o.spec);
  const first = o.spec.pids[0] ?? pids[0];
  if (first === undefined) return group; // nothing to attach to yet: the first poll names what was tried
  const { openLifecycle } = await import('./lifecycle/open-lifecycle');
  return withLifecycle(group, await openLifecycle(first, brief, { pids, follow: o.spec.children }), () => group.pids());
}

/** The PIDs a spec selects now (sockwatch and its parents left out of name matches). */
export function selectNow(spec: TargetSpec, table: readonly ProcessEntry[] = readProcessTable()): number[] {
  return selectTargets(table, spec, selfAndAncestors(table, process.pid));
}

/**
 * `--wait`: resolves once the spec selects something, checking every `intervalMs`; says once on
 * stderr that it is waiting. Without --wait the caller's first snapshot fails naming the spec.
 */
export async function waitForTarget(spec: TargetSpec, intervalMs: number, say: (text: string) => void, signal?: AbortSignal): Promise<void> {
  let said = false;
  for (;;) {
    if (selectNow(spec).length > 0) return;
    if (!said) {
      say(`sockwatch: waiting for a process matching ${describeSpec(spec)}`);
      said = true;
    }
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, intervalMs);
      signal?.addEventListener('abort', () => {
        clearTimeout(t);
        reject(new SockwatchError('no_such_process', `stopped waiting for ${describeSpec(spec)}`));
      }, { once: true });
    });
  }
}
