// The plain `snapshot PID [--state] [--format]` runs a fast path (src/cli/fast-snapshot.ts) that
// skips commander and the source probe. It must print what the full CLI prints, with the truth
// from the client itself, and must really be taken.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren, type LoopbackClient, type LoopbackServer } from '../helpers/loopback';
import { CLI, runCli } from '../helpers/cli';

interface JsonConn {
  fd: number;
  local: { address: string; port: number };
  remote: { address: string; port: number };
  state: string;
  tcp?: { bytesSent: number; bytesReceived: number };
}

describe('the snapshot fast path', () => {
  let server: LoopbackServer;
  let client: LoopbackClient;
  let truth: string[];

  before(async () => {
    server = await startLoopbackServer();
    const targets = [{ host: '127.0.0.1', port: server.ipv4Port, count: 4 }];
    if (server.ipv6Port) targets.push({ host: '::1', port: server.ipv6Port, count: 2 });
    client = await startLoopbackClient(targets);
    truth = client.connections.map((c) => `${c.fd} ${c.localPort} ${c.remotePort}`).sort();
  });
  after(() => stopLoopbackChildren());

  it('table and csv equal the full CLI (--source netlink) and list exactly the client’s connections', async () => {
    for (const format of ['table', 'csv']) {
      const fast = await runCli(['snapshot', String(client.pid), '--format', format]);
      const full = await runCli(['snapshot', String(client.pid), '--format', format, '--source', 'netlink']);
      assert.equal(fast.code, 0, fast.stderr);
      assert.equal(full.code, 0, full.stderr);
      // a keepalive timer's time to expiry moves between the two runs
      const steady = (text: string): string => text.replace(/,keepalive,\d+$/gm, ',keepalive,N').replace(/keepalive \S+/g, 'keepalive N').replace(/ +/g, ' ');
      assert.equal(steady(fast.stdout), steady(full.stdout), format);
    }
    const csv = (await runCli(['snapshot', String(client.pid), '--format', 'csv'])).stdout.trimEnd().split('\n').slice(1);
    const got = csv.map((l) => l.split(',')).map((f) => `${f[0]} ${f[3]} ${f[5]}`).sort();
    assert.deepEqual(got, truth);
  });

  it('json carries tcp_info: the bytes the client exchanged', async () => {
    await client.request();
    const r = await runCli(['snapshot', String(client.pid), '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { source: string; connections: JsonConn[] };
    assert.equal(doc.source, 'netlink');
    assert.deepEqual(doc.connections.map((c) => `${c.fd} ${c.local.port} ${c.remote.port}`).sort(), truth);
    for (const c of doc.connections) {
      // each connection did at least two HTTP exchanges (open, request): requests out, "ok" in
      assert.ok(c.tcp !== undefined && c.tcp.bytesSent > 100 && c.tcp.bytesReceived > 100, JSON.stringify(c));
    }
  });

  it('asks only for the states wanted: --state listen gives the server’s listeners, nothing else', async () => {
    const r = await runCli(['snapshot', String(server.pid), '--state', 'listen', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { connections: JsonConn[] };
    const ports = [server.ipv4Port, ...(server.ipv6Port ? [server.ipv6Port] : [])].sort();
    assert.deepEqual(doc.connections.map((c) => c.local.port).sort(), ports);
    assert.ok(doc.connections.every((c) => c.state === 'LISTEN'));
  });

  it('errors are the full CLI’s: a gone PID, a bad state', async () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const pid = gone.stdout.toString();
    const r = await runCli(['snapshot', pid]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', `sockwatch: no process with PID ${pid}\n`]);
    const bad = await runCli(['snapshot', String(client.pid), '--state', 'establishd']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown state "ESTABLISHD"/);
  });

  it('is taken: the plain one-shot never loads commander; any other command does', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-fast-'));
    try {
      const probe = path.join(dir, 'probe.js');
      // a preload that reports, at exit, whether the full CLI (commander's) was ever required:
      // commander itself, or the full bundle that holds it (see cli-bundle.test.ts)
      fs.writeFileSync(
        probe,
        "process.on('exit', () => process.stderr.write(Object.keys(require.cache).some((f) => f.includes('/commander/') || f.endsWith('/sockwatch-full.cjs')) ? 'COMMANDER\\n' : 'NO-COMMANDER\\n'));\n",
      );
      const run = (args: string[]): string => spawnSync(process.execPath, ['-r', probe, CLI, ...args], { encoding: 'utf8' }).stderr;
      assert.match(run(['snapshot', String(client.pid)]), /^NO-COMMANDER\n$/);
      assert.match(run(['snapshot', String(client.pid), '--format=json', '--state', 'all']), /^NO-COMMANDER\n$/);
      assert.match(run(['snapshot', String(client.pid), '--source', 'netlink']), /COMMANDER\n$/);
      assert.doesNotMatch(run(['snapshot', String(client.pid), '--source', 'netlink']), /NO-COMMANDER/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
