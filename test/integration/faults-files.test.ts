// Files under faults, as root: --output and --record never follow a planted link, never replace a
// device, FIFO or directory (--output writes through a FIFO or character device, as tee would),
// keep an existing file's mode, and never block on a FIFO. --export-dir is checked at start.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren, type LoopbackClient } from '../helpers/loopback';
import { ndjson } from '../helpers/cli';
import { oneErrorLine, runFault } from '../helpers/fault-run';

interface Doc {
  connections: { local: { port: number }; remote: { port: number } }[];
}

function tool(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`\`${cmd} ${args.join(' ')}\` failed (is ${cmd} installed, are we root?): ${r.error?.message ?? r.stderr}`);
}

describe('--output and --record onto what is already there', () => {
  let client: LoopbackClient;
  let truth: string[];
  let tmp: string;
  const ports = (d: Doc): string[] => d.connections.map((c) => `${c.local.port}>${c.remote.port}`).sort();
  const snapshot = (out: string, extra: string[] = []): string[] => ['snapshot', String(client.pid), '--format', 'json', '--output', out, ...extra];
  const watch = (rec: string): string[] => ['watch', String(client.pid), '--json', '--duration', '1s', '--record', rec];

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-files-'));
    const server = await startLoopbackServer();
    client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 3 }]);
    truth = client.connections.map((c) => `${c.localPort}>${c.remotePort}`).sort();
  });
  after(async () => {
    await stopLoopbackChildren();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a planted symlink is refused, the link and its target untouched (--output and --record)', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'link-'));
    const target = path.join(dir, 'precious');
    fs.writeFileSync(target, 'precious\n');
    const link = path.join(dir, 'out.json');
    fs.symlinkSync(target, link);
    for (const args of [snapshot(link), watch(link)]) {
      const r = await runFault(args);
      assert.equal(r.code, 1, r.stderr);
      assert.match(oneErrorLine(r), /refusing to write .*out\.json: it is a symbolic link/);
      assert.equal(r.stdout, '', 'refused before anything was printed');
      assert.equal(fs.readFileSync(target, 'utf8'), 'precious\n');
      assert.equal(fs.readlinkSync(link), target);
    }
    assert.deepEqual(fs.readdirSync(dir).sort(), ['out.json', 'precious'], 'no temp file left');
  });

  it('a directory is refused and left alone', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'dir-'));
    const r = await runFault(snapshot(dir));
    assert.equal(r.code, 1);
    assert.match(oneErrorLine(r), /refusing to write .*: it is a directory$/);
    assert.ok(fs.statSync(dir).isDirectory());
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('an existing 0600 file is replaced and stays 0600, with its owner', async () => {
    const f = path.join(tmp, 'secret.json');
    fs.writeFileSync(f, 'old\n', { mode: 0o600 });
    fs.chmodSync(f, 0o600);
    fs.chownSync(f, 65534, 65534);
    const r = await runFault(snapshot(f));
    assert.equal(r.code, 0, r.stderr);
    const st = fs.statSync(f);
    assert.equal((st.mode & 0o7777).toString(8), '600');
    assert.equal(st.uid, 65534);
    assert.deepEqual(ports(JSON.parse(fs.readFileSync(f, 'utf8')) as Doc), truth);
  });

  it('a character device (mknod 1,3 in a temp dir) is written through, not replaced', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'dev-'));
    const dev = path.join(dir, 'null');
    tool('mknod', [dev, 'c', '1', '3']);
    const before = fs.statSync(dev);
    const r = await runFault(snapshot(dev));
    assert.equal(r.code, 0, r.stderr);
    const st = fs.lstatSync(dev);
    assert.ok(st.isCharacterDevice(), 'still a character device');
    assert.equal(st.rdev, before.rdev);
    assert.equal(st.ino, before.ino);
    assert.deepEqual(fs.readdirSync(dir), ['null'], 'no temp file left');
    // /dev/stdout names our own stdout on purpose: followed, whatever stdout is
    const out = await runFault(snapshot('/dev/stdout'));
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(ports(JSON.parse(out.stdout) as Doc), truth);
  });

  it('a FIFO with a reader gets the snapshot; without one: one line after a short wait, no hang', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'fifo-'));
    const fifo = path.join(dir, 'fifo');
    tool('mkfifo', [fifo]);
    const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
    let read = '';
    reader.stdout.on('data', (b: Buffer) => (read += b.toString('utf8')));
    // A CLI that replaced the FIFO instead of writing into it leaves `cat` waiting for ever.
    const readerDone = new Promise((r) => reader.once('close', r));
    const readerTimer = setTimeout(() => reader.kill('SIGKILL'), 10_000);
    try {
      const r = await runFault(snapshot(fifo));
      assert.equal(r.code, 0, r.stderr);
      await readerDone;
      assert.deepEqual(ports(JSON.parse(read) as Doc), truth);
    } finally {
      clearTimeout(readerTimer);
      reader.kill('SIGKILL');
    }
    assert.ok(fs.lstatSync(fifo).isFIFO(), 'still a FIFO');

    const lonely = await runFault(snapshot(fifo), { timeoutMs: 15_000 });
    assert.equal(lonely.signal, null, 'ended on its own');
    assert.equal(lonely.code, 1);
    assert.match(oneErrorLine(lonely), /cannot write .*fifo: no reader opened this FIFO/);
    assert.ok(lonely.elapsedMs < 10_000, `took ${lonely.elapsedMs} ms`);
    assert.ok(fs.lstatSync(fifo).isFIFO(), 'still a FIFO');
  });

  it('--record onto a FIFO with no reader errors at once instead of blocking the watch', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'recfifo-'));
    const fifo = path.join(dir, 'rec');
    tool('mkfifo', [fifo]);
    const r = await runFault(['watch', String(client.pid), '--json', '--duration', '2s', '--record', fifo], { timeoutMs: 15_000 });
    assert.equal(r.signal, null, 'ended on its own');
    assert.equal(r.code, 1);
    assert.match(oneErrorLine(r), /refusing to write .*rec: it is a FIFO; a recording needs a regular file/);
    assert.ok(r.elapsedMs < 5000, `took ${r.elapsedMs} ms`);
    assert.ok(fs.lstatSync(fifo).isFIFO());
  });

  it('--record appends to an existing file and keeps its mode', async () => {
    const f = path.join(tmp, 'rec.ndjson');
    fs.writeFileSync(f, '{"type":"earlier"}\n');
    fs.chmodSync(f, 0o600);
    const r = await runFault(watch(f));
    assert.equal(r.code, 0, r.stderr);
    const events = ndjson(fs.readFileSync(f, 'utf8'));
    assert.equal(events[0]!.type, 'earlier');
    assert.equal(events[1]!.type, 'start');
    assert.equal(events.at(-1)!.type, 'summary');
    assert.equal((fs.statSync(f).mode & 0o7777).toString(8), '600');
  });

  it('--export-dir that is missing or not a directory: one line, exit 1, at start', async () => {
    const file = path.join(tmp, 'plain-file');
    fs.writeFileSync(file, '');
    for (const [dir, why] of [[path.join(tmp, 'nonexistent'), 'no such directory'], [file, 'not a directory']] as const) {
      const r = await runFault(['watch', String(client.pid), '--duration', '5s', '--export-dir', dir], { timeoutMs: 15_000 });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(oneErrorLine(r), `sockwatch: --export-dir ${dir}: ${why}`);
      assert.equal(r.stdout, '');
      assert.ok(r.elapsedMs < 4000, `noticed only after ${r.elapsedMs} ms`);
    }
  });
});
