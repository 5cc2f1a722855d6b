// Events carry the time their evidence was observed: both Linux sources stamp a snapshot with the
// moment they read the target's fd table (the read that sees a socket gone), inside the call.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createProcfsSource } from '../../src/sources/procfs/procfs-source';
import { createNetlinkSource } from '../../src/sources/netlink/netlink-source';
import type { Source } from '../../src/sources/source';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren, type LoopbackServer } from '../helpers/loopback';

describe('observedAtMs', () => {
  let server: LoopbackServer;
  before(async () => {
    server = await startLoopbackServer();
  });
  after(() => stopLoopbackChildren());

  for (const [name, open] of [
    ['procfs', (pid: number): Promise<Source> => createProcfsSource(pid)],
    ['netlink', (pid: number): Promise<Source> => createNetlinkSource(pid)],
  ] as const) {
    it(`${name}: set within the snapshot call, on every poll, every state returned`, async () => {
      const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 2 }]);
      const source = await open(client.pid);
      try {
        for (let i = 0; i < 3; i++) {
          const t0 = Date.now();
          const snap = await source.snapshot('all');
          const t1 = Date.now();
          assert.ok(snap.observedAtMs !== undefined, 'observedAtMs set');
          assert.ok(snap.observedAtMs >= t0 && snap.observedAtMs <= t1, `${snap.observedAtMs} not in [${t0}, ${t1}]`);
          const ports = snap.connections.map((c) => c.local.port).sort();
          assert.deepEqual(ports, client.connections.map((c) => c.localPort).sort());
        }
      } finally {
        source.close();
        await client.kill();
      }
    });
  }
});
