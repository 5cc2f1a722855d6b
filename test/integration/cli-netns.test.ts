// A target in another network namespace (as in a container): sockwatch must read its sockets
// through the target's own /proc/PID/net/tcp, and refuse netlink, which would see ours.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as readline from 'node:readline';
import { runCli } from '../helpers/cli';
import { HOLDER_SCRIPT } from '../helpers/holder-script';


function canUnshare(): boolean {
  return spawnSync('unshare', ['-n', 'true']).status === 0 && spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up']).status === 0;
}

describe('a target in another network namespace', { skip: !canUnshare() && 'unshare -n needs root and iproute2' }, () => {
  let child: ChildProcess;
  let info: { pid: number; ports: number[] };
  before(async () => {
    child = spawn('unshare', ['-n', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" -e "$0"`, HOLDER_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
    const rl = readline.createInterface({ input: child.stdout! });
    info = JSON.parse(await new Promise<string>((resolve) => rl.once('line', resolve))) as typeof info;
  });
  after(() => {
    child.kill('SIGKILL');
  });

  it('auto-selects procfs and lists its connections', async () => {
    const r = await runCli(['snapshot', String(info.pid), '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { source: string; connections: { local: { port: number }; remote: { port: number } }[] };
    assert.equal(doc.source, 'procfs');
    const outbound = doc.connections.filter((c) => info.ports.includes(c.local.port)).map((c) => c.local.port).sort();
    assert.deepEqual(outbound, [...info.ports].sort());
  });

  it('a plain table (as root: the fd-socket iterator, which sees any namespace) lists what procfs lists', async () => {
    const fast = await runCli(['snapshot', String(info.pid), '--format', 'csv', '--state', 'all']);
    const procfs = await runCli(['snapshot', String(info.pid), '--format', 'csv', '--state', 'all', '--source', 'procfs']);
    assert.equal(fast.code, 0, fast.stderr);
    assert.equal(procfs.code, 0, procfs.stderr);
    // fd, tuple, state, inode, queues (timers move between the two runs)
    const rows = (csv: string) => csv.trimEnd().split('\n').map((l) => l.split(',').slice(0, 10).join(','));
    assert.deepEqual(rows(fast.stdout), rows(procfs.stdout));
    assert.ok(rows(fast.stdout).length > info.ports.length, 'the holder’s connections are listed');
  });

  it('--source netlink says why it cannot work (exit 1)', async () => {
    const r = await runCli(['snapshot', String(info.pid), '--source', 'netlink']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^sockwatch: netlink source needs the target in sockwatch's network namespace.*use --source procfs\n$/);
  });
});
