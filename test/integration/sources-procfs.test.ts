import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { isSockwatchError } from '../../src/errors';
import type { Connection, StateFilter } from '../../src/model';
import { processExists, readProcessInfo } from '../../src/process/process-info';
import { readSocketInodes } from '../../src/sources/procfs/fd-inodes';
import { createProcfsSource } from '../../src/sources/procfs/procfs-source';
import {
  startLoopbackClient,
  startLoopbackServer,
  stopLoopbackChildren,
  type HeldConnection,
  type LoopbackServer,
} from '../helpers/loopback';

const linux = process.platform === 'linux';
const ESTABLISHED: StateFilter = new Set(['ESTABLISHED']);
/** above PID_MAX_LIMIT (2^22), so never a live PID */
const NO_SUCH_PID = 4_194_305;

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isSockwatchError(e), `not a SockwatchError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

const tupleOf = (c: Connection): string => `${c.local.address}:${c.local.port}>${c.remote.address}:${c.remote.port}`;
const truthTuple = (h: HeldConnection): string => `${h.localAddress}:${h.localPort}>${h.remoteAddress}:${h.remotePort}`;

describe('procfs source against live loopback connections', { skip: !linux && 'needs Linux /proc' }, () => {
  let server: LoopbackServer;
  const K = 3;
  const M = 2;

  before(async () => {
    server = await startLoopbackServer();
  });
  after(() => stopLoopbackChildren());

  it('lists exactly the client connections, with their fds, under the ESTABLISHED filter', async () => {
    const targets = [{ host: '127.0.0.1', port: server.ipv4Port, count: K }];
    if (server.ipv6Port !== undefined) targets.push({ host: '::1', port: server.ipv6Port, count: M });
    const client = await startLoopbackClient(targets);
    const source = await createProcfsSource(client.pid);
    try {
      const snap = await source.snapshot(ESTABLISHED);
      assert.equal(snap.source, 'procfs');
      assert.equal(snap.process.pid, client.pid);
      assert.equal(snap.connections.length, client.connections.length);
      assert.deepEqual(snap.connections.map(tupleOf).sort(), client.connections.map(truthTuple).sort());
      for (const held of client.connections) {
        const c = snap.connections.find((x) => x.local.port === held.localPort);
        assert.ok(c);
        assert.equal(c.fd, held.fd, `fd of local port ${held.localPort}`);
        assert.equal(c.protocol, held.localAddress.includes(':') ? 'tcp6' : 'tcp');
        assert.equal(c.state, 'ESTABLISHED');
        assert.ok(c.inode > 0);
        assert.equal(c.uid, process.getuid?.());
      }
      assert.equal(snap.connections.filter((c) => c.protocol === 'tcp').length, K);
    } finally {
      source.close();
      await client.kill();
    }
  });

  it('sees the server side: both listeners and the accepted connections', async () => {
    const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 2 }]);
    const source = await createProcfsSource(server.pid);
    try {
      const snap = await source.snapshot('all');
      const listeners = snap.connections.filter((c) => c.state === 'LISTEN').map((c) => c.local.port);
      assert.ok(listeners.includes(server.ipv4Port));
      if (server.ipv6Port !== undefined) assert.ok(listeners.includes(server.ipv6Port));
      const acceptedPeers = snap.connections
        .filter((c) => c.state === 'ESTABLISHED' && c.local.port === server.ipv4Port)
        .map((c) => c.remote.port);
      for (const held of client.connections) assert.ok(acceptedPeers.includes(held.localPort));
    } finally {
      source.close();
      await client.kill();
    }
  });

  it('rescans the table for a new inode, reuses it while the set is unchanged, and rescans after rescanMs', async () => {
    const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 2 }]);
    let now = 1_000_000;
    const source = await createProcfsSource(client.pid, { rescanMs: 1000, nowMs: () => now });
    try {
      await source.snapshot(ESTABLISHED);
      const afterFirst = source.tableReads;
      assert.ok(afterFirst >= 1);

      now += 500;
      let snap = await source.snapshot(ESTABLISHED);
      assert.equal(source.tableReads, afterFirst, 'unchanged inode set within rescanMs reuses the rows');
      assert.equal(snap.connections.length, 2);

      const [opened] = await client.open([{ host: '127.0.0.1', port: server.ipv4Port, count: 1 }]);
      snap = await source.snapshot(ESTABLISHED);
      assert.ok(source.tableReads > afterFirst, 'a new inode forces a read');
      assert.ok(snap.connections.some((c) => c.local.port === opened.localPort));
      const afterNew = source.tableReads;

      // a closed socket disappears through the fd join, without a table read
      await client.close([opened.localPort]);
      snap = await source.snapshot(ESTABLISHED);
      assert.equal(source.tableReads, afterNew);
      assert.deepEqual(snap.connections.map((c) => c.local.port).sort(), client.connections.map((c) => c.localPort).sort());

      now += 1000;
      await source.snapshot(ESTABLISHED);
      assert.ok(source.tableReads > afterNew, 'rows older than rescanMs are read again');
    } finally {
      source.close();
      await client.kill();
    }
  });

  it('shows no ESTABLISHED connection after the client closes them all', async () => {
    const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 2 }]);
    const source = await createProcfsSource(client.pid);
    try {
      assert.equal((await source.snapshot(ESTABLISHED)).connections.length, 2);
      await client.closeAll();
      assert.deepEqual((await source.snapshot(ESTABLISHED)).connections, []);
    } finally {
      source.close();
      await client.kill();
    }
  });

  it('reads process info of the client', async () => {
    const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 2 }]);
    try {
      const info = await readProcessInfo(client.pid);
      assert.equal(info.pid, client.pid);
      assert.equal(info.command, 'node');
      assert.match(info.cmdline, /^\S*node -e /);
      assert.equal(info.uid, process.getuid?.());
      // truth from the OS's own account database, not from the code under test
      assert.equal(info.user, os.userInfo().username);
      assert.ok(info.startTime && !Number.isNaN(Date.parse(info.startTime)));
      assert.equal((await readProcessInfo(client.pid)).startTime, info.startTime, 'stable for one process');
      assert.equal(await processExists(client.pid), true);
      // the client names the fds of its two TCP sockets; their links, read here, name the inodes
      const inodes = await readSocketInodes(client.pid);
      const fds = client.connections.map((c) => c.fd);
      assert.equal(fds.length, 2);
      for (const fd of fds) {
        assert.ok(fd >= 0, 'the client reports its fds');
        const ino = Number(/^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${client.pid}/fd/${fd}`))?.[1]);
        assert.ok(inodes.has(ino), `inode ${ino} of fd ${fd} is among ${[...inodes].join(',')}`);
      }
    } finally {
      await client.kill();
    }
  });

  it('reports no_such_process for a PID that does not exist', async () => {
    await rejectsWith(createProcfsSource(NO_SUCH_PID), 'no_such_process');
    await rejectsWith(readSocketInodes(NO_SUCH_PID), 'no_such_process');
    await rejectsWith(readProcessInfo(NO_SUCH_PID), 'no_such_process');
    assert.equal(await processExists(NO_SUCH_PID), false);
  });

  it('reports invalid_argument for a PID that cannot be one', async () => {
    await rejectsWith(createProcfsSource(0), 'invalid_argument');
    await rejectsWith(createProcfsSource(-5), 'invalid_argument');
  });

  it('reports no_such_process once the target exits mid-watch', async () => {
    const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 1 }]);
    const source = await createProcfsSource(client.pid);
    try {
      assert.equal((await source.snapshot(ESTABLISHED)).connections.length, 1);
      await client.exit();
      assert.equal(await processExists(client.pid), false);
      await rejectsWith(source.snapshot(ESTABLISHED), 'no_such_process');
      await rejectsWith(source.snapshot('all'), 'no_such_process');
    } finally {
      source.close();
      source.close(); // safe twice
    }
  });
});
