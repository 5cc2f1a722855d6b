import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren, type LoopbackClient } from '../helpers/loopback';
import { runCli } from '../helpers/cli';
import { spawn } from 'node:child_process';
import * as readline from 'node:readline';
import { HOLDER_SCRIPT } from '../helpers/holder-script';


interface JsonConn {
  fd: number;
  protocol: string;
  local: { address: string; port: number };
  remote: { address: string; port: number };
  state: string;
  inode: number;
}

describe('sockwatch snapshot against a real keep-alive client', () => {
  let client: LoopbackClient;
  let expected: string[];
  let tmp: string;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-snap-'));
    const server = await startLoopbackServer();
    const targets = [{ host: '127.0.0.1', port: server.ipv4Port, count: 3 }];
    if (server.ipv6Port) targets.push({ host: '::1', port: server.ipv6Port, count: 2 });
    client = await startLoopbackClient(targets);
    expected = client.connections.map((c) => `${c.localAddress} ${c.localPort} ${c.remotePort} ${c.fd}`).sort();
    assert.ok(expected.length >= 3);
  });
  after(async () => {
    await stopLoopbackChildren();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  for (const source of ['auto', 'procfs', 'netlink']) {
    it(`json lists exactly the client's connections (source ${source})`, async () => {
      const args = ['snapshot', String(client.pid), '--format', 'json'];
      if (source !== 'auto') args.push('--source', source);
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as { schema: string; process: { pid: number; command: string; user: string; startTime: string }; source: string; states: string[]; connections: JsonConn[] };
      assert.equal(doc.schema, 'sockwatch.snapshot/1');
      assert.equal(doc.process.pid, client.pid);
      assert.equal(doc.process.command, 'node');
      assert.equal(doc.process.user, 'root');
      assert.match(doc.process.startTime, /^\d{4}-\d\d-\d\dT/);
      assert.deepEqual(doc.states, ['ESTABLISHED']);
      if (source !== 'auto') assert.equal(doc.source, source);
      const got = doc.connections.map((c) => `${c.local.address} ${c.local.port} ${c.remote.port} ${c.fd}`).sort();
      assert.deepEqual(got, expected);
      for (const c of doc.connections) {
        assert.equal(c.state, 'ESTABLISHED');
        assert.equal(c.protocol, c.local.address.includes(':') ? 'tcp6' : 'tcp');
        assert.ok(c.inode > 0);
      }
    });
  }

  it('csv and table carry the same rows as json', async () => {
    const json = JSON.parse((await runCli(['snapshot', String(client.pid), '--format', 'json', '--source', 'procfs'])).stdout) as { connections: JsonConn[] };
    const csv = await runCli(['snapshot', String(client.pid), '--format', 'csv', '--source', 'procfs']);
    assert.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'fd,protocol,local_address,local_port,remote_address,remote_port,state,inode,send_queue,recv_queue,timer,timer_expires_ms');
    const csvKeys = lines.slice(1).map((l) => l.split(',').slice(0, 8).join(',')).sort();
    const jsonKeys = json.connections.map((c) => [c.fd, c.protocol, c.local.address, c.local.port, c.remote.address, c.remote.port, c.state, c.inode].join(',')).sort();
    assert.deepEqual(csvKeys, jsonKeys);

    const table = await runCli(['snapshot', String(client.pid), '--source', 'procfs']);
    assert.equal(table.code, 0, table.stderr);
    const rows = table.stdout.trimEnd().split('\n');
    assert.match(rows[0]!, new RegExp(`^PID ${client.pid} \\(node\\) user root: .* — ${json.connections.length} TCP connections \\(ESTABLISHED\\)$`));
    assert.match(rows[1]!, /^FD\s+PROTO\s+LOCAL\s+REMOTE\s+STATE/);
    assert.doesNotMatch(table.stdout, /\x1b\[/, 'no color in a pipe');
    const tableKeys = rows.slice(2).map((l) => {
      const [fd, proto, local, remote, state] = l.trim().split(/\s+/);
      return `${fd} ${proto} ${local} ${remote} ${state}`;
    }).sort();
    const fmt = (a: { address: string; port: number }): string => (a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);
    assert.deepEqual(tableKeys, json.connections.map((c) => `${c.fd} ${c.protocol} ${fmt(c.local)} ${fmt(c.remote)} ${c.state}`).sort());
  });

  it('--output writes the file atomically and prints nothing', async () => {
    const file = path.join(tmp, 'snap.json');
    const r = await runCli(['snapshot', String(client.pid), '--format', 'json', '--output', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { connections: unknown[] };
    assert.equal(doc.connections.length, expected.length);
    assert.deepEqual(fs.readdirSync(tmp), ['snap.json']);
  });

  it('--state all adds non-established sockets; a state list filters', async () => {
    const all = JSON.parse((await runCli(['snapshot', String(client.pid), '--format', 'json', '--state', 'all'])).stdout) as { states: string[]; connections: JsonConn[] };
    assert.equal(all.states.length, 12);
    assert.ok(all.connections.length >= expected.length);
    const lw = await runCli(['snapshot', String(client.pid), '--format', 'json', '--state', 'listen,Close_Wait']);
    assert.equal(lw.code, 0, lw.stderr);
    const doc = JSON.parse(lw.stdout) as { states: string[]; connections: JsonConn[] };
    assert.deepEqual(doc.states, ['CLOSE_WAIT', 'LISTEN']);
    assert.equal(doc.connections.length, 0, 'the client has no listening or half-closed sockets');
  });
});

describe('sockwatch snapshot errors', () => {
  const oneLine = (s: string): void => {
    assert.equal(s.trimEnd().split('\n').filter((l) => !l.startsWith('(run sockwatch')).length, 1, `expected one line, got:\n${s}`);
    assert.doesNotMatch(s, /\n\s+at /, 'no stack trace');
  };

  it('a PID that is not a positive integer is a usage error (exit 2)', async () => {
    for (const bad of ['abc', '0', '-5', '1.5']) {
      const r = await runCli(['snapshot', bad]);
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /PID must be a positive integer/);
      assert.match(r.stderr, /sockwatch --help/);
      oneLine(r.stderr);
    }
  });

  it('an unknown format or state is a usage error', async () => {
    assert.equal((await runCli(['snapshot', '1', '--format', 'xml'])).code, 2);
    assert.equal((await runCli(['snapshot', '1', '--state', 'opened'])).code, 2);
  });

  it('no such process → exit 1, one line', async () => {
    let pid = 4_000_000;
    while (fs.existsSync(`/proc/${pid}`)) pid++;
    const r = await runCli(['snapshot', String(pid)]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `sockwatch: no process with PID ${pid}\n`);
    assert.equal(r.stdout, '');
  });

  it('permission denied on another user’s process → exit 1 naming the owner', { skip: process.getuid?.() !== 0 && 'needs root to run the CLI as nobody' }, async () => {
    const target = await startLoopbackClient([]);
    try {
      // Run the CLI as nobody against a root-owned process.
      const r = await runCli(['snapshot', String(target.pid)], { uid: 65534, gid: 65534 });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^sockwatch: permission denied .*PID ${target.pid}.*owned by root.*run sockwatch as root`));
      oneLine(r.stderr);
    } finally {
      await target.kill();
    }
  });

  it('a process you own needs no root: nobody watches nobody’s process', { skip: process.getuid?.() !== 0 && 'needs root to switch to nobody' }, async () => {
    const holder = spawn(process.execPath, ['-e', HOLDER_SCRIPT], { uid: 65534, gid: 65534, stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const { ports } = JSON.parse(await new Promise<string>((resolve) => readline.createInterface({ input: holder.stdout! }).once('line', resolve))) as { ports: number[] };
      const r = await runCli(['snapshot', String(holder.pid), '--format', 'json'], { uid: 65534, gid: 65534 });
      assert.equal(r.code, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as { process: { user: string }; connections: JsonConn[] };
      assert.equal(doc.process.user, 'nobody');
      const local = doc.connections.map((c) => c.local.port);
      for (const p of ports) assert.ok(local.includes(p), `port ${p} listed`);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('an unwritable --output → exit 1, nothing left behind', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-out-'));
    try {
      const file = path.join(dir, 'missing-dir', 'x.json');
      const r = await runCli(['snapshot', String(process.pid), '--format', 'json', '--output', file]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^sockwatch: cannot write .*x\.json: no such directory\n$/);
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bare sockwatch prints the whole help to stderr; an unknown command is named; both exit 2', async () => {
    const bare = await runCli([]);
    assert.equal(bare.code, 2);
    assert.equal(bare.stdout, '');
    assert.match(bare.stderr, /Usage: sockwatch/);
    assert.match(bare.stderr, /Examples:/);
    const typo = await runCli(['frob', '1']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /^error: unknown command 'frob' \(commands: snapshot, watch, serve, run, demo, replay, report; or a PID or a process name to watch\)\n\(run sockwatch --help for usage\)\n$/);
    const help = await runCli(['help', 'snapshot']);
    assert.equal(help.code, 0, 'commander\'s help command still works');
    assert.match(help.stdout, /Usage: sockwatch snapshot/);
  });

  it('--help shows examples, --version the version; both exit 0', async () => {
    const h = await runCli(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Examples:/);
    assert.match(h.stdout, /sockwatch demo/);
    const v = await runCli(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});
