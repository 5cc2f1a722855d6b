import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ProcessGroupSource, mergeHolders } from '../../src/sources/process-group-source';
import { SockwatchError, noSuchProcess } from '../../src/errors';
import type { Connection, Snapshot } from '../../src/model';
import type { Source } from '../../src/sources/source';
import type { ProcessEntry } from '../../src/process/process-table';

const proc = (pid: number) => ({ pid, command: 'nginx', cmdline: 'nginx', user: 'root' });
const c = (inode: number, fd: number, lport: number, rport: number, state: Connection['state'] = 'ESTABLISHED'): Connection => ({
  fd, protocol: 'tcp', local: { address: '127.0.0.1', port: lport }, remote: { address: '127.0.0.1', port: rport }, state, inode,
});
const snap = (pid: number, connections: Connection[]): Snapshot => ({ process: proc(pid), source: 'procfs', connections });

/** A per-process source that answers from a mutable script; `gone` makes it reject as exited. */
function fakeSource(pid: number, world: Map<number, Connection[] | 'gone' | 'denied'>): Source {
  return {
    name: 'procfs',
    async snapshot() {
      const w = world.get(pid);
      if (w === undefined || w === 'gone') throw noSuchProcess(pid);
      if (w === 'denied') throw new SockwatchError('permission_denied', `denied ${pid}`);
      return snap(pid, w.map((x) => ({ ...x })));
    },
    close() {},
  };
}
const entry = (pid: number, ppid: number, comm = 'nginx'): ProcessEntry => ({ pid, ppid, comm, argv0: comm, startTicks: 1 });

describe('mergeHolders', () => {
  it('one connection per shared socket, held by the lowest PID, pids lists all', () => {
    const merged = mergeHolders([
      snap(10, [c(100, 6, 80, 0, 'LISTEN'), c(101, 7, 80, 40000)]),
      snap(11, [c(100, 6, 80, 0, 'LISTEN'), c(102, 8, 80, 40001)]),
      snap(12, [c(100, 6, 80, 0, 'LISTEN')]),
    ]);
    assert.deepEqual(merged.map((m) => [m.inode, m.pid, m.pids]), [
      [100, 10, [10, 11, 12]],
      [101, 10, undefined],
      [102, 11, undefined],
    ]);
  });
});

describe('ProcessGroupSource', () => {
  it('--children: workers born later join, exited ones leave; directions from the shared listener', async () => {
    const world = new Map<number, Connection[] | 'gone' | 'denied'>([
      [10, [c(100, 6, 80, 0, 'LISTEN')]],
      [11, [c(100, 6, 80, 0, 'LISTEN'), c(101, 7, 80, 40000), c(103, 9, 45000, 5432)]],
    ]);
    let table = [entry(1, 0, 'init'), entry(10, 1), entry(11, 10)];
    const g = new ProcessGroupSource({ spec: { pids: [10], children: true }, openOne: async (pid) => fakeSource(pid, world), readTable: () => table });
    let s = await g.snapshot('all');
    assert.deepEqual(s.processes?.map((p) => p.pid), [10, 11]);
    assert.deepEqual(s.connections.map((x) => [x.inode, x.pid, x.direction]), [[100, 10, undefined], [101, 11, 'in'], [103, 11, 'out']]);

    world.set(12, [c(100, 6, 80, 0, 'LISTEN'), c(104, 7, 80, 40002)]);
    world.set(11, 'gone');
    table = [entry(1, 0, 'init'), entry(10, 1), entry(12, 10)];
    s = await g.snapshot('all');
    assert.deepEqual(s.processes?.map((p) => p.pid), [10, 12]);
    assert.deepEqual(g.pids(), [10, 12]);
    assert.deepEqual(s.connections.map((x) => [x.inode, x.pid, x.pids]), [[100, 10, [10, 12]], [104, 12, undefined]]);
  });

  it('a single PID behaves as that PID: gone → no_such_process naming it, no processes list', async () => {
    const world = new Map<number, Connection[] | 'gone' | 'denied'>([[7, [c(1, 3, 40000, 80)]]]);
    const g = new ProcessGroupSource({ spec: { pids: [7], children: false }, openOne: async (pid) => fakeSource(pid, world), readTable: () => { throw new Error('not read for a fixed PID'); } });
    const s = await g.snapshot('all');
    assert.equal(s.processes, undefined);
    assert.equal(s.connections[0]!.pid, 7);
    world.set(7, 'gone');
    await assert.rejects(g.snapshot('all'), /no process with PID 7/);
  });

  it('a name matching nothing names what was tried; all members unreadable → the permission error', async () => {
    const none = new ProcessGroupSource({ spec: { pids: [], name: 'nginx', children: false }, openOne: async () => { throw noSuchProcess(1); }, readTable: () => [] });
    await assert.rejects(none.snapshot('all'), /no process matches name "nginx"/);
    const world = new Map<number, Connection[] | 'gone' | 'denied'>([[20, 'denied']]);
    const denied = new ProcessGroupSource({
      spec: { pids: [], name: 'nginx', children: false },
      openOne: async (pid) => { const s = fakeSource(pid, world); await s.snapshot('all'); return s; },
      readTable: () => [entry(20, 1)],
    });
    await assert.rejects(denied.snapshot('all'), /denied 20/);
  });

  it('never watches itself or its ancestors by name', async () => {
    const world = new Map<number, Connection[] | 'gone' | 'denied'>([[30, []], [31, []], [40, []]]);
    const g = new ProcessGroupSource({
      spec: { pids: [], name: 'node', children: false },
      openOne: async (pid) => fakeSource(pid, world),
      readTable: () => [entry(1, 0, 'init'), entry(30, 1, 'node'), entry(31, 30, 'node'), entry(40, 1, 'node')],
      selfPid: 31,
    });
    assert.deepEqual((await g.snapshot('all')).processes?.map((p) => p.pid), [40]);
  });
});
