// What a replay shows as watched now: the processes and the live connections, kept from the
// recorded events alone (open, state, close, poll, exit) — a recording holds no snapshots. The
// live watch's counterpart is the reconciler (reconciler.ts), which holds the polled sockets.
import type { Endpoint, ProcessInfo } from '../model';
import type { TrackedConnection, TrackerEvent } from './tracker-types';

export class RecordedLive {
  /** live connections and listeners, in open order */
  private readonly conns = new Map<string, TrackedConnection>();
  private readonly members = new Map<number, ProcessInfo>();
  private hasExited = false;
  private current: ProcessInfo;

  /** `processes`: those the recording's start names (a group), else the one it watched */
  constructor(process: ProcessInfo, processes: readonly ProcessInfo[] = [process]) {
    this.current = { ...process };
    for (const p of processes) this.members.set(p.pid, { ...p });
  }

  apply(e: TrackerEvent): void {
    switch (e.type) {
      case 'open':
        this.conns.set(e.conn.id, copy(e.conn));
        return;
      case 'state': {
        const c = this.conns.get(e.conn.id);
        if (c === undefined) return;
        c.connection = { ...c.connection, state: e.to };
        c.states.push({ state: e.to, atMs: e.atMs });
        c.lastSeenMs = e.atMs;
        return;
      }
      case 'close':
        this.conns.delete(e.conn.id);
        return;
      case 'poll':
        // a poll after the target exited is a new process's, watched afresh (a --name watch)
        if (e.first === true && this.hasExited) this.hasExited = false;
        for (const u of e.exchanges ?? []) {
          const c = this.conns.get(u.id);
          if (c !== undefined) c.exchanges = u.exchanges;
        }
        for (const c of this.conns.values()) c.lastSeenMs = e.atMs;
        return;
      case 'exit':
        this.members.delete(e.process.pid);
        if (this.members.size === 0) this.hasExited = true;
        return;
      case 'finding':
        return;
    }
  }

  get process(): ProcessInfo {
    return this.current;
  }

  get exited(): boolean {
    return this.hasExited;
  }

  get processes(): readonly ProcessInfo[] {
    return [...this.members.values()];
  }

  live(): TrackedConnection[] {
    return [...this.conns.values()].map(copy);
  }

  *liveEndpoints(): Iterable<Endpoint> {
    for (const c of this.conns.values()) {
      yield c.connection.local;
      yield c.connection.remote;
    }
  }
}

function copy(t: TrackedConnection): TrackedConnection {
  return { ...t, connection: { ...t.connection }, states: t.states.map((s) => ({ ...s })) };
}
