import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { isSockwatchError } from '../../src/errors';
import type { Connection, StateFilter } from '../../src/model';
import { createProcfsSource } from '../../src/sources/procfs/procfs-source';
import { connectionFromSysinfo, tcpStateFromName } from '../../src/sources/sysinfo/sysinfo-rows';
import { createSysinfoSource } from '../../src/sources/sysinfo/sysinfo-source';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren, type LoopbackServer } from '../helpers/loopback';

const ESTABLISHED: StateFilter = new Set(['ESTABLISHED']);
const NO_SUCH_PID = 4_194_305;
const fourTuple = (c: Connection): string =>
  `${c.protocol} ${c.local.address}:${c.local.port} ${c.remote.address}:${c.remote.port} ${c.state}`;

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isSockwatchError(e), `not a SockwatchError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

describe('systeminformation row mapping', () => {
  const row = (over: Partial<Record<string, unknown>>) =>
    ({ protocol: 'tcp', localAddress: '127.0.0.1', localPort: '5000', peerAddress: '127.0.0.1', peerPort: '80', state: 'ESTABLISHED', pid: 1, process: 'x', ...over }) as Parameters<typeof connectionFromSysinfo>[0];

  it('maps every spelling of the states', () => {
    const cases: Array<[string, string | undefined]> = [
      ['ESTABLISHED', 'ESTABLISHED'], ['ESTAB', 'ESTABLISHED'], ['TIME-WAIT', 'TIME_WAIT'],
      ['FIN-WAIT-1', 'FIN_WAIT1'], ['FIN_WAIT_2', 'FIN_WAIT2'], ['SYN_RECEIVED', 'SYN_RECV'],
      ['SYN-SENT', 'SYN_SENT'], ['CLOSE-WAIT', 'CLOSE_WAIT'], ['LAST-ACK', 'LAST_ACK'],
      ['LISTENING', 'LISTEN'], ['CLOSED', 'CLOSE'], ['closing', 'CLOSING'], ['UNKNOWN', undefined], ['', undefined],
    ];
    for (const [name, state] of cases) assert.equal(tcpStateFromName(name), state, name);
  });

  it('netstat: tcp6 with a plain IPv4 address is IPv4-mapped', () => {
    const c = connectionFromSysinfo(row({ protocol: 'tcp6' }));
    assert.equal(c?.protocol, 'tcp6');
    assert.equal(c?.local.address, '::ffff:127.0.0.1');
  });

  it('ss: bracketed IPv6 under protocol tcp, wildcard listeners', () => {
    const c = connectionFromSysinfo(row({ localAddress: '[::1]', peerAddress: '[::ffff:127.0.0.1]', state: 'ESTAB' }));
    assert.equal(c?.protocol, 'tcp6');
    assert.equal(c?.local.address, '::1');
    assert.equal(c?.remote.address, '::ffff:127.0.0.1');
    const l = connectionFromSysinfo(row({ localAddress: '*', peerAddress: '*', peerPort: '*', state: 'LISTEN' }));
    assert.deepEqual([l?.local, l?.remote], [{ address: '0.0.0.0', port: 5000 }, { address: '0.0.0.0', port: 0 }]);
  });

  it('macOS: tcp4/tcp46, zones, no inode or fd, nothing invented', () => {
    const c = connectionFromSysinfo(row({ protocol: 'tcp4', localAddress: 'fe80::1%lo0', peerAddress: 'fe80::2%lo0' }));
    assert.deepEqual(c, {
      protocol: 'tcp6', local: { address: 'fe80::1', port: 5000 }, remote: { address: 'fe80::2', port: 80 },
      state: 'ESTABLISHED', inode: 0,
    });
    assert.equal(connectionFromSysinfo(row({ protocol: 'tcp46', localAddress: '*', peerAddress: '*', peerPort: '*', state: 'LISTEN' }))?.local.address, '::');
  });

  it('drops udp rows, unknown states and bad ports', () => {
    assert.equal(connectionFromSysinfo(row({ protocol: 'udp', state: '' })), undefined);
    assert.equal(connectionFromSysinfo(row({ state: 'UNKNOWN' })), undefined);
    assert.equal(connectionFromSysinfo(row({ localPort: 'http' })), undefined);
    assert.equal(connectionFromSysinfo(row({ localPort: '70000' })), undefined);
  });
});

describe('systeminformation source against live loopback connections', { skip: process.platform !== 'linux' && 'compares with procfs' }, () => {
  let server: LoopbackServer;
  before(async () => {
    server = await startLoopbackServer();
  });
  after(() => stopLoopbackChildren());

  it('agrees with procfs on the ESTABLISHED set (4-tuples)', async () => {
    const targets = [{ host: '127.0.0.1', port: server.ipv4Port, count: 3 }];
    if (server.ipv6Port !== undefined) targets.push({ host: '::1', port: server.ipv6Port, count: 2 });
    const client = await startLoopbackClient(targets);
    const procfs = await createProcfsSource(client.pid);
    const sysinfo = await createSysinfoSource(client.pid);
    try {
      const a = await procfs.snapshot(ESTABLISHED);
      const b = await sysinfo.snapshot(ESTABLISHED);
      assert.equal(b.source, 'systeminformation');
      assert.equal(b.connections.length, client.connections.length);
      assert.deepEqual(b.connections.map(fourTuple).sort(), a.connections.map(fourTuple).sort());
      for (const c of b.connections) {
        assert.equal(c.inode, 0);
        assert.equal(c.fd, undefined);
        assert.equal(c.timer, undefined);
      }
      assert.deepEqual(b.process, a.process);
    } finally {
      procfs.close();
      sysinfo.close();
      await client.kill();
    }
  });

  it("agrees with procfs on the server's listeners", async () => {
    const sysinfo = await createSysinfoSource(server.pid);
    const procfs = await createProcfsSource(server.pid);
    try {
      const listen: StateFilter = new Set(['LISTEN']);
      const a = await procfs.snapshot(listen);
      const b = await sysinfo.snapshot(listen);
      assert.deepEqual(b.connections.map(fourTuple).sort(), a.connections.map(fourTuple).sort());
    } finally {
      procfs.close();
      sysinfo.close();
    }
  });

  it('reports no_such_process for a missing PID and for a target that exits', async () => {
    await rejectsWith(createSysinfoSource(NO_SUCH_PID), 'no_such_process');
    const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 1 }]);
    const sysinfo = await createSysinfoSource(client.pid);
    assert.equal((await sysinfo.snapshot(ESTABLISHED)).connections.length, 1);
    await client.exit();
    await rejectsWith(sysinfo.snapshot(ESTABLISHED), 'no_such_process');
    sysinfo.close();
  });
});
