// Kernel-side port filters against the real kernel: a filtered dump on loopback sockets of this
// process returns exactly the sockets whose ports the filter names (the evaluator agrees with
// the kernel on every row), and the netlink source gives the same connections whether it
// refreshes by exact lookups or by a filtered dump — also across a close and an fd reuse.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { FfiSockDiagSocket } from '../../src/sources/netlink/ffi-sock-diag-socket';
import { buildInetDiagDumpRequest, FD_STATES_MASK } from '../../src/sources/netlink/inet-diag-request';
import { buildPortFilterBytecode, portRanges } from '../../src/sources/netlink/inet-diag-bytecode';
import { runPortBytecode } from '../helpers/oracles';
import { decodeInetDiag } from '../../src/sources/netlink/inet-diag-decode';
import { createNetlinkSource } from '../../src/sources/netlink/netlink-source';
import { AF_INET, AF_INET6 } from '../../src/sources/netlink/sock-diag-constants';
import { BOTH_FAMILIES, FamilyDumper, dumpTcp } from '../../src/sources/netlink/dump-tcp';
import type { Connection } from '../../src/model';

let server: net.Server;
let port = 0;
const clients: net.Socket[] = [];

async function connect(): Promise<net.Socket> {
  const s = net.connect({ host: '127.0.0.1', port });
  await once(s, 'connect');
  clients.push(s);
  return s;
}

before(async () => {
  server = net.createServer((s) => s.on('data', () => undefined));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
  for (let i = 0; i < 40; i++) await connect();
});

after(() => {
  for (const c of clients) c.destroy();
  server.close();
});

test('a filtered dump returns exactly the sockets whose local port is named', async () => {
  const chosen = clients.filter((_, i) => i % 3 === 0).map((c) => c.localPort!);
  const bc = buildPortFilterBytecode({ local: portRanges(chosen, 100), remote: [] });
  const socket = new FfiSockDiagSocket();
  try {
    const decoded = decodeInetDiag(await socket.dump(buildInetDiagDumpRequest({ family: AF_INET, states: FD_STATES_MASK, bytecode: bc, extensions: 0 })));
    assert.equal(decoded.done, true);
    // every row the kernel returned passes our evaluator, and ours are all there
    for (const r of decoded.rows) assert.ok(runPortBytecode(bc, r.srcPort, r.dstPort), `kernel returned local port ${r.srcPort}`);
    const ours = decoded.rows.filter((r) => r.dstPort === port && r.dstAddress === '127.0.0.1');
    assert.deepEqual(ours.map((r) => r.srcPort).sort(), [...chosen].sort());
    // the server side of those connections has local port `port`, which is not named
    assert.equal(decoded.rows.some((r) => r.srcPort === port), false);
  } finally {
    socket.close();
  }
});

test('a remote-port filter returns the client side of every connection to the server', async () => {
  const bc = buildPortFilterBytecode({ local: [], remote: [{ lo: port, hi: port }] });
  const socket = new FfiSockDiagSocket();
  try {
    const decoded = decodeInetDiag(await socket.dump(buildInetDiagDumpRequest({ family: AF_INET, states: FD_STATES_MASK, bytecode: bc })));
    assert.deepEqual(decoded.rows.map((r) => r.srcPort).sort(), clients.map((c) => c.localPort!).sort());
    assert.ok(decoded.rows.every((r) => r.tcpInfo !== undefined));
  } finally {
    socket.close();
  }
});

const key = (c: Connection): string => `${c.fd}|${c.inode}|${c.local.port}|${c.remote.port}|${c.state}|${c.tcp?.cookie}`;

test('lookups and filtered dumps give the same connections; a close and an fd reuse show up', async () => {
  const lookups = await createNetlinkSource(process.pid, { lookupMax: 1e9 });
  const filtered = await createNetlinkSource(process.pid, { lookupMax: 0 });
  try {
    await lookups.snapshot('all');
    await filtered.snapshot('all');
    const a = await lookups.snapshot('all');
    const b = await filtered.snapshot('all');
    assert.deepEqual(b.connections.map(key).sort(), a.connections.map(key).sort());
    assert.equal(filtered.counters().filteredDumps > 0, true);
    assert.ok(b.connections.every((c) => c.tcp !== undefined));

    // close one client and open another: the fd number is usually reused at once
    const gone = clients.shift()!;
    const goneInode = a.connections.find((c) => c.local.port === gone.localPort && c.remote.port === port)!.inode;
    gone.destroy();
    await new Promise((r) => setTimeout(r, 20));
    const fresh = await connect();
    for (const source of [lookups, filtered]) {
      const snap = await source.snapshot('all');
      assert.equal(snap.connections.some((c) => c.inode === goneInode), false, 'the closed connection is gone');
      assert.ok(snap.connections.some((c) => c.local.port === fresh.localPort && c.remote.port === port), 'the new one is there');
    }
  } finally {
    lookups.close();
    filtered.close();
  }
});

test('one two-family walk (TCPDIAG_GETSOCK) returns IPv4 and IPv6 sockets, filtered by ports too', async () => {
  const server6 = net.createServer((s) => s.on('data', () => undefined));
  server6.listen(0, '::1');
  await once(server6, 'listening');
  const port6 = (server6.address() as net.AddressInfo).port;
  const client6 = net.connect({ host: '::1', port: port6 });
  await once(client6, 'connect');
  const socket = new FfiSockDiagSocket();
  try {
    const dumper = new FamilyDumper(socket);
    const all = await dumpTcp(dumper, BOTH_FAMILIES, { states: FD_STATES_MASK, extensions: 0 });
    assert.equal(all.walks, 1, 'this kernel serves the two-family request');
    const v4 = all.rows.filter((r) => r.family === AF_INET && r.dstPort === port && r.dstAddress === '127.0.0.1');
    assert.deepEqual(v4.map((r) => r.srcPort).sort(), clients.map((c) => c.localPort!).sort());
    const v6 = all.rows.filter((r) => r.family === AF_INET6 && r.srcPort === client6.localPort && r.dstPort === port6);
    assert.equal(v6.length, 1, 'the IPv6 client socket is in the same walk');
    assert.equal(v6[0]!.dstAddress, '::1');

    // the same request carries a port filter: exactly the named local ports, of either family
    const named = [clients[0]!.localPort!, client6.localPort!];
    const bc = buildPortFilterBytecode({ local: portRanges(named, 100), remote: [] });
    const filtered = await dumpTcp(dumper, BOTH_FAMILIES, { states: FD_STATES_MASK, bytecode: bc });
    assert.equal(filtered.walks, 1);
    for (const r of filtered.rows) assert.ok(runPortBytecode(bc, r.srcPort, r.dstPort), `kernel returned local port ${r.srcPort}`);
    const got = filtered.rows.filter((r) => r.dstPort === port || r.dstPort === port6).map((r) => `${r.family}:${r.srcPort}`).sort();
    assert.deepEqual(got, [`${AF_INET}:${named[0]}`, `${AF_INET6}:${named[1]}`].sort());
    assert.ok(filtered.rows.every((r) => r.tcpInfo !== undefined), 'tcp_info asked by default');
  } finally {
    socket.close();
    client6.destroy();
    server6.close();
  }
});
