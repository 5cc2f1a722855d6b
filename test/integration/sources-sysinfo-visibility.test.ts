// --source systeminformation relies on netstat/ss, which show a socket's PID only to whoever may
// read that process's fds, and only in their own network namespace. Where it cannot see the
// target's sockets it must fail with the reason (exit 1), not print "0 TCP connections".
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as readline from 'node:readline';
import { runCli } from '../helpers/cli';
import { HOLDER_SCRIPT } from '../helpers/holder-script';

const NOBODY = 65534;
const asNobody = { uid: NOBODY, gid: NOBODY, cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } };

/** Starts the holder (two loopback connections), optionally as nobody or under a wrapper command. */
async function startHolder(opts: { uid?: number; gid?: number; wrap?: string[] } = {}): Promise<{ child: ChildProcess; pid: number; ports: number[] }> {
  const argv = [...(opts.wrap ?? []), process.execPath, '-e', HOLDER_SCRIPT];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'], uid: opts.uid, gid: opts.gid, cwd: '/' });
  const rl = readline.createInterface({ input: child.stdout! });
  const line = await new Promise<string>((resolve, reject) => {
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  const info = JSON.parse(line) as { pid: number; ports: number[] };
  return { child, ...info };
}

function fails(what: string): never {
  assert.fail(`cannot run this test: ${what}`);
}

describe('--source systeminformation refuses targets it cannot see', () => {
  const children: ChildProcess[] = [];
  before(() => {
    if (process.getuid?.() !== 0) fails('it must run as root (it runs sockwatch as uid 65534 and uses unshare -n)');
    if (spawnSync('unshare', ['-n', 'true']).status !== 0) fails('unshare -n is missing or not permitted');
  });
  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('as uid 65534 on a root-owned process: exit 1, permission denied naming root (snapshot and watch)', async () => {
    const target = await startHolder();
    children.push(target.child);
    for (const args of [['snapshot', String(target.pid)], ['watch', String(target.pid), '--duration', '1s']]) {
      const r = await runCli([...args, '--source', 'systeminformation', '--state', 'all'], asNobody);
      assert.equal(r.code, 1, `${args[0]}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `sockwatch: permission denied reading the sockets of PID ${target.pid} (owned by root): run sockwatch as root\n`);
    }
  });

  it('as uid 65534 on its own process: the connections are listed (the refusal is not blanket)', async () => {
    const target = await startHolder({ uid: NOBODY, gid: NOBODY });
    children.push(target.child);
    const r = await runCli(['snapshot', String(target.pid), '--source', 'systeminformation', '--format', 'json'], asNobody);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { connections: { local: { port: number } }[] };
    const seen = doc.connections.map((c) => c.local.port).filter((p) => target.ports.includes(p)).sort();
    assert.deepEqual(seen, [...target.ports].sort());
  });

  it('a target in another network namespace: exit 1 saying so (snapshot and watch)', async () => {
    const target = await startHolder({ wrap: ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'] });
    children.push(target.child);
    for (const args of [['snapshot', String(target.pid)], ['watch', String(target.pid), '--duration', '1s']]) {
      const r = await runCli([...args, '--source', 'systeminformation', '--state', 'all']);
      assert.equal(r.code, 1, `${args[0]}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `sockwatch: the systeminformation source sees only sockwatch's network namespace (PID ${target.pid} is in another one); use --source procfs\n`);
      // the advice holds: procfs sees the target's own connections there
    }
    const r = await runCli(['snapshot', String(target.pid), '--source', 'procfs', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { connections: { local: { port: number } }[] };
    assert.deepEqual(doc.connections.map((c) => c.local.port).filter((p) => target.ports.includes(p)).sort(), [...target.ports].sort());
  });
});
