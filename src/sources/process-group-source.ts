// A target of several processes (an nginx master and its workers, `-p 12,34`, `--name gunicorn`)
// as one Source: one per-process source each, their snapshots merged. Membership is re-evaluated
// at each poll when the target is given by name or with --children, so workers born during the
// watch join and those that exit leave (the tracker sees them leave through `processes`).
// Between-poll evidence is not the members': one facility is attached to the whole group
// (open-target.ts, openWatchedTarget).
import { SockwatchError, isSockwatchError, noSuchProcess } from '../errors';
import { compareByFd, type Connection, type Snapshot, type SourceName, type StateFilter } from '../model';
import type { ProcessEntry } from '../process/process-table';
import { selectTargets, selfAndAncestors, describeSpec, type TargetSpec } from '../process/target-selection';
import type { Source } from './source';
import { assignDirections, type Direction } from './direction';

export interface GroupSourceOptions {
  spec: TargetSpec;
  /** opens the per-process source (the CLI's source choice applies to each) */
  openOne: (pid: number) => Promise<Source>;
  /** the host's process table (tests pass a fake one); read only for --name and --children */
  readTable: () => ProcessEntry[];
  /** sockwatch's own PID: never a member by name */
  selfPid?: number;
  ephemeralPorts?: readonly [number, number];
}

interface Member {
  pid: number;
  source: Source;
}

export class ProcessGroupSource implements Source {
  private readonly members = new Map<number, Member>();
  /** PIDs given that turned out gone or unreadable: never retried (a PID does not come back) */
  private readonly dropped = new Set<number>();
  private readonly directions = new Map<number, Direction>();
  private lastName: SourceName | undefined;

  constructor(private readonly o: GroupSourceOptions) {}

  get name(): SourceName {
    return this.lastName ?? this.first()?.source.name ?? 'procfs';
  }

  /** Whether the selection can change over time (re-read the process table each poll). */
  private get dynamic(): boolean {
    return this.o.spec.name !== undefined || this.o.spec.children;
  }

  private wanted(): number[] {
    if (!this.dynamic) return this.o.spec.pids.filter((p) => !this.dropped.has(p));
    const table = this.o.readTable();
    const exclude = this.o.selfPid === undefined ? new Set<number>() : selfAndAncestors(table, this.o.selfPid);
    return selectTargets(table, this.o.spec, exclude).filter((p) => !this.dropped.has(p));
  }

  async snapshot(states: StateFilter): Promise<Snapshot> {
    const wanted = this.wanted();
    const wantedSet = new Set(wanted);
    for (const [pid, m] of this.members) {
      if (!wantedSet.has(pid)) this.leave(m);
    }
    let denied: SockwatchError | undefined;
    for (const pid of wanted) {
      if (this.members.has(pid)) continue;
      try {
        this.members.set(pid, { pid, source: await this.o.openOne(pid) });
      } catch (e) {
        if (!isSockwatchError(e) || (e.code !== 'no_such_process' && e.code !== 'permission_denied')) throw e;
        if (e.code === 'permission_denied') denied ??= e;
        if (!this.dynamic) this.dropped.add(pid);
      }
    }
    const results = await Promise.all(
      [...this.members.values()].map(async (m) => {
        try {
          return await m.source.snapshot(states);
        } catch (e) {
          if (isSockwatchError(e) && e.code === 'no_such_process') {
            this.leave(m);
            this.dropped.add(m.pid);
            return undefined;
          }
          throw e;
        }
      }),
    );
    const snaps = results.filter((s): s is Snapshot => s !== undefined).sort((a, b) => a.process.pid - b.process.pid);
    if (snaps.length === 0) {
      if (denied) throw denied;
      const only = this.o.spec.pids.length === 1 && this.o.spec.name === undefined ? this.o.spec.pids[0] : undefined;
      if (only !== undefined) throw noSuchProcess(only);
      throw new SockwatchError('no_such_process', `no process matches ${describeSpec(this.o.spec)}`);
    }
    const read = snaps[0]!.source;
    // a group's members are poll sources: 'ebpf' names only the one-shot iterator's snapshots
    if (read !== 'ebpf') this.lastName = read;
    const connections = mergeHolders(snaps);
    assignDirections(connections, this.directions, this.o.ephemeralPorts);
    const out: Snapshot = { process: snaps[0]!.process, source: snaps[0]!.source, connections };
    if (snaps.length > 1 || this.dynamic || this.o.spec.pids.length > 1) out.processes = snaps.map((s) => s.process);
    const observed = snaps.map((s) => s.observedAtMs).filter((t): t is number => t !== undefined);
    if (observed.length > 0) out.observedAtMs = Math.max(...observed);
    return out;
  }

  /** The PIDs watched now, ascending. */
  pids(): number[] {
    return [...this.members.keys()].sort((a, b) => a - b);
  }

  close(): void {
    for (const m of this.members.values()) m.source.close();
    this.members.clear();
  }

  private first(): Member | undefined {
    const pids = this.pids();
    return pids.length > 0 ? this.members.get(pids[0]!) : undefined;
  }

  private leave(m: Member): void {
    m.source.close();
    this.members.delete(m.pid);
  }
}

/**
 * One connection per socket: a socket inherited through fork sits in several fd tables (nginx's
 * listeners in every worker). `snaps` is in PID order, so the first holder is the lowest PID.
 */
export function mergeHolders(snaps: readonly Snapshot[]): Connection[] {
  // One process (the usual watch): its connections as they are, named by their PID. A source
  // hands this poll its own objects (refreshed in place by the next poll, never shared with
  // another source), so they are ours to label; no copy per connection per poll.
  if (snaps.length === 1) {
    const s = snaps[0]!;
    const pid = s.process.pid;
    const conns = s.connections;
    for (let i = 0; i < conns.length; i++) conns[i]!.pid = pid;
    return inFdOrderOnce(s.connections);
  }
  const byInode = new Map<number, Connection>();
  const out: Connection[] = [];
  for (const s of snaps) {
    const pid = s.process.pid;
    for (const c of s.connections) {
      const held = c.inode > 0 ? byInode.get(c.inode) : undefined;
      if (held !== undefined) {
        held.pids = [...(held.pids ?? [held.pid ?? pid]), pid];
        continue;
      }
      const copy: Connection = { ...c, pid };
      if (c.inode > 0) byInode.set(c.inode, copy);
      out.push(copy);
    }
  }
  return out.sort((a, b) => (a.pid ?? 0) - (b.pid ?? 0) || compareByFd(a, b));
}

/** `conns` sorted by fd (in place), unless they already are: the sources list them in fd order. */
function inFdOrderOnce(conns: Connection[]): Connection[] {
  for (let i = 1; i < conns.length; i++) {
    if (compareByFd(conns[i - 1]!, conns[i]!) > 0) return conns.sort(compareByFd);
  }
  return conns;
}
