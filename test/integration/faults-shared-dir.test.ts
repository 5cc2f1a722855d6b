// Files planted by another user (uid 65534) in a sticky world-writable directory, as in /tmp, for
// every writer sockwatch has: `snapshot --output`, `watch --record`, `report -o`, and the log of
// `sockwatch run` (whose name is predictable to the second). A planted file is refused with one
// line naming its owner, a planted link is never followed; the root-owned victim is untouched.
// Runs as root (it plants files as another user). Temp directories only.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI } from '../helpers/cli';
import { NOBODY, pythonPath } from '../helpers/real-tools';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren, type LoopbackClient } from '../helpers/loopback';
import { syntheticRecording } from '../helpers/synthetic-recording';
import { oneErrorLine, runFault, type FaultResult } from '../helpers/fault-run';

/** Runs fs calls as uid/gid 65534: `plant(['file', path, text] | ['link', target, path])`. */
function plant(...what: (['file', string, string] | ['link', string, string])[]): void {
  const script = `const fs = require('node:fs');
for (const [kind, a, b] of JSON.parse(process.argv[1])) {
  if (kind === 'file') { fs.writeFileSync(a, b, { mode: 0o666 }); fs.chmodSync(a, 0o666); }
  else fs.symlinkSync(a, b);
}`;
  const r = spawnSync(process.execPath, ['-e', script, JSON.stringify(what)], { ...NOBODY, encoding: 'utf8' });
  assert.equal(r.status, 0, `planting as uid 65534 failed: ${r.stderr}`);
}

/** uid 65534's name as the system reports it */
function nobodyLabel(): string {
  const r = spawnSync('getent', ['passwd', '65534'], { encoding: 'utf8' });
  return r.status === 0 ? `${r.stdout.split(':')[0]} (uid 65534)` : 'uid 65534';
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function refusedForOwner(r: FaultResult, file: string): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(oneErrorLine(r), new RegExp(`^sockwatch: refusing to write ${escapeRe(file)}: it is owned by ${escapeRe(nobodyLabel())}, in the sticky shared directory `));
  assert.equal(r.stdout, '', 'refused before anything was printed');
}

describe('planted in a sticky world-writable directory by another user', () => {
  let base: string;
  let shared: string;
  let victim: string;
  let client: LoopbackClient;
  let recording: string;

  before(async () => {
    if (process.geteuid?.() !== 0) throw new Error('these tests must run as root (they plant files as uid 65534)');
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-shared-'));
    fs.chmodSync(base, 0o755);
    shared = path.join(base, 'tmp');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o1777);
    // root's file, out of the planter's reach: what a followed link would overwrite
    const safe = path.join(base, 'root-only');
    fs.mkdirSync(safe, { mode: 0o700 });
    victim = path.join(safe, 'victim');
    fs.writeFileSync(victim, 'root data\n', { mode: 0o600 });
    recording = path.join(safe, 'run.ndjson');
    fs.writeFileSync(recording, syntheticRecording({ churn: 5, leak: 1 }));
    const server = await startLoopbackServer();
    client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 2 }]);
  });
  after(async () => {
    await stopLoopbackChildren();
    fs.rmSync(base, { recursive: true, force: true });
  });

  const victimUntouched = (): void => {
    const st = fs.statSync(victim);
    assert.deepEqual([fs.readFileSync(victim, 'utf8'), st.uid, st.mode & 0o7777], ['root data\n', 0, 0o600]);
  };
  const writers = (out: string): [string, string[]][] => [
    ['snapshot --output', ['snapshot', String(client.pid), '--format', 'json', '--output', out]],
    ['watch --record', ['watch', String(client.pid), '--json', '--duration', '1s', '--record', out]],
    ['report -o', ['report', recording, '-o', out]],
  ];

  it('a planted file: refused with one line naming its owner, exit 1, the file as the planter left it', async () => {
    for (const [name, args] of writers(path.join(shared, 'planted.out'))) {
      const file = path.join(shared, 'planted.out');
      plant(['file', file, 'planter\n']);
      const r = await runFault(args);
      refusedForOwner(r, file);
      const st = fs.lstatSync(file);
      assert.deepEqual([fs.readFileSync(file, 'utf8'), st.uid, st.mode & 0o7777], ['planter\n', 65534, 0o666], name);
      fs.rmSync(file);
    }
    assert.deepEqual(fs.readdirSync(shared), [], 'no temp file left');
  });

  it('a planted link to a root-owned file: never followed, one line, exit 1', async () => {
    const link = path.join(shared, 'link.out');
    plant(['link', victim, link]);
    for (const [name, args] of writers(link)) {
      const r = await runFault(args);
      assert.equal(r.code, 1, `${name}: ${r.stderr}`);
      assert.match(oneErrorLine(r), /^sockwatch: refusing to write .*link\.out: it is a symbolic link/, name);
      victimUntouched();
      assert.equal(fs.readlinkSync(link), victim);
    }
    assert.deepEqual(fs.readdirSync(shared), ['link.out'], 'no temp file left');
    fs.rmSync(link);
  });

  it('files sockwatch creates there are its own, and its own file is replaced without set-id bits', async () => {
    const out = path.join(shared, 'mine.json');
    let r = await runFault(writers(out)[0]![1]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.statSync(out).uid, 0);
    fs.chmodSync(out, 0o4755);
    r = await runFault(writers(out)[2]![1]);
    assert.equal(r.code, 0, r.stderr);
    const st = fs.statSync(out);
    assert.deepEqual([st.uid, st.mode & 0o7777], [0, 0o755]);
    assert.match(fs.readFileSync(out, 'utf8'), /^<!doctype html>/i);
    fs.rmSync(out);
  });

  it("`run`'s log: links planted at its predictable names are not followed; the log gets a new name", async () => {
    // On a terminal `run` sends CMD's output to sockwatch-run-<cmd>-<UTC second>.log: plant a
    // link at the names of the coming seconds. A pty (python's, argv only) makes it a terminal.
    const stamp = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
    const now = Date.now();
    const links: string[] = [];
    for (let s = -1; s <= 30; s++) links.push(path.join(shared, `sockwatch-run-node-${stamp(now + s * 1000)}.log`));
    plant(...links.map((l): ['link', string, string] => ['link', victim, l]));
    const PTY = `import fcntl, os, pty, struct, sys, termios
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 80, 0, 0))
    os.execvp(sys.argv[1], sys.argv[1:])
while True:
    try:
        data = os.read(fd, 65536)
    except OSError:
        break
    if not data:
        break
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;
    const child = spawn(pythonPath(), ['-c', PTY, process.execPath, CLI, 'run', '--interval', '100ms', '--export-dir', shared, '--', process.execPath, '-e', "console.log('hello from CMD'); setTimeout(() => {}, 300)"], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TERM: 'xterm-256color' },
    });
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    child.stdout.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
    clearTimeout(timer);
    assert.equal(code, 0, err);
    victimUntouched();
    for (const l of links) assert.ok(fs.lstatSync(l).isSymbolicLink(), l);
    const logs = fs.readdirSync(shared).filter((f) => /^sockwatch-run-node-\d{8}-\d{6}-\w+\.log$/.test(f));
    assert.equal(logs.length, 1, fs.readdirSync(shared).join('\n'));
    const log = path.join(shared, logs[0]!);
    const st = fs.lstatSync(log);
    assert.ok(st.isFile());
    assert.deepEqual([st.uid, st.mode & 0o777], [0, 0o600]);
    assert.equal(fs.readFileSync(log, 'utf8'), 'hello from CMD\n');
  });
});
