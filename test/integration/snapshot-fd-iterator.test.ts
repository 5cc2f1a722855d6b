// `snapshot PID` as root reads the process's own descriptor table in the kernel (the fd-socket
// iterator), not the host's socket table. Its numbers are checked against `ss` (iproute2, through
// inet_diag), for a Python process that holds what a snapshot must get right: IPv4 and IPv6,
// listeners with a connection waiting in the backlog, unread and unacknowledged data, a
// keepalive timer, a socket on two descriptors, and non-TCP sockets it must leave out.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli } from '../helpers/cli';
import { isRoot, pythonPath, requireTools } from '../helpers/real-tools';
import { oneShotSource } from '../../src/sources/one-shot-source';

const TARGET = String.raw`
import socket, sys, json, time
ls = socket.socket(); ls.bind(('127.0.0.1', 0)); ls.listen(8)
l6 = socket.socket(socket.AF_INET6); l6.bind(('::1', 0)); l6.listen(8)
out = [socket.create_connection(ls.getsockname()) for _ in range(3)]
inn = [ls.accept()[0] for _ in range(2)]  # the third waits in the backlog
v6 = socket.create_connection(l6.getsockname()[:2]); v6in = l6.accept()[0]
out[0].setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
out[0].setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 600)
inn[0].sendall(b'x' * 1000)     # its peer never reads: 1000 bytes in a receive queue
v6in.sendall(b'y' * 77)
dup = out[1].fileno(); import os; os.dup(dup)  # one socket, two descriptors
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); udp.bind(('127.0.0.1', 0))
unix = socket.socketpair()
print(json.dumps({'pid': __import__('os').getpid()}), flush=True)
time.sleep(600)
`;

interface Row {
  state: string;
  recvQ: number;
  sendQ: number;
  local: string;
  remote: string;
  fd: number;
  timer: string;
}

/** `ss -tanpoH` lines of `pid` (ss names a socket held on several fds once per fd). */
function ssRows(ss: string, pid: number): Row[] {
  const r = spawnSync(ss, ['-tanpoH'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, r.stderr);
  const rows: Row[] = [];
  for (const line of r.stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    for (const m of line.matchAll(/pid=(\d+),fd=(\d+)/g)) {
      if (Number(m[1]) !== pid) continue;
      const timer = /timer:\((\w+),/.exec(line)?.[1] ?? 'none';
      rows.push({ state: f[0]!, recvQ: Number(f[1]), sendQ: Number(f[2]), local: f[3]!, remote: f[4]!, fd: Number(m[2]), timer });
    }
  }
  return rows;
}

const SS_STATE: Record<string, string> = { ESTAB: 'ESTABLISHED', LISTEN: 'LISTEN' };
const ssEndpoint = (address: string, port: string) => (address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`);

describe('snapshot through the fd-socket iterator (root)', () => {
  let target: ChildProcess;
  let pid: number;
  let ss: string;

  before(async () => {
    assert.ok(isRoot(), 'the iterator is root’s: run this suite as root (CI does)');
    ss = requireTools('ss').ss;
    target = spawn(pythonPath(), ['-c', TARGET], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(target.stdout!, 'data')) as [Buffer];
    pid = (JSON.parse(line.toString()) as { pid: number }).pid;
  });
  after(() => target?.kill());

  it('is the path taken as root: the snapshot says ebpf', async () => {
    const snap = await oneShotSource(pid, { tcpInfo: false, directions: false }).snapshot('all');
    assert.equal(snap.source, 'ebpf');
  });

  it('loads under a storm of signals (Node’s CPU profiler, SIGPROF every 50 µs: a verifier with a signal pending answers EAGAIN)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sockwatch-prof-'));
    try {
      const code = `require(${JSON.stringify(path.join(__dirname, '..', '..', 'src', 'sources', 'one-shot-source.js'))}).oneShotSource(${pid}, { tcpInfo: false, directions: false }).snapshot('all').then((s) => console.log(s.source))`;
      const sources = Array.from({ length: 6 }, () => spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-interval', '50', '--cpu-prof-dir', dir, '-e', code], { encoding: 'utf8' }).stdout.trim());
      assert.deepEqual(sources, Array(6).fill('ebpf'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists what ss lists for the process: fds, endpoints, states, queues, timers', async () => {
    const r = await runCli(['snapshot', String(pid), '--state', 'all', '--format', 'csv']);
    assert.equal(r.code, 0, r.stderr);
    const got = r.stdout.trimEnd().split('\n').slice(1).map((l) => {
      const f = l.split(',');
      return { fd: Number(f[0]), local: ssEndpoint(f[2]!, f[3]!), remote: ssEndpoint(f[4]!, f[5]!), state: f[6]!, sendQ: Number(f[8]), recvQ: Number(f[9]), timer: f[10]! };
    });
    const truth = ssRows(ss, pid);
    // a socket on two descriptors: ss names both, a snapshot lists it once, at the lower fd
    const lowest = new Map<string, Row>();
    for (const t of truth) {
      const key = `${t.local} ${t.remote} ${t.state}`;
      if (!lowest.has(key) || lowest.get(key)!.fd > t.fd) lowest.set(key, t);
    }
    assert.equal(truth.length, lowest.size + 1, 'ss shows the dup’ed socket twice');
    const expected = [...lowest.values()].map((t) => ({
      fd: t.fd,
      local: t.local.replace(/^\*:/, '0.0.0.0:'),
      remote: t.remote.replace(/^\[::\]:\*$/, '[::]:0').replace(/^0\.0\.0\.0:\*$/, '0.0.0.0:0'),
      state: SS_STATE[t.state] ?? t.state,
      // a listener: ss's Send-Q is the backlog limit; a snapshot prints 0 there, as procfs does
      sendQ: t.state === 'LISTEN' ? 0 : t.sendQ,
      recvQ: t.recvQ,
      timer: t.timer === 'keepalive' ? 'keepalive' : 'none',
    }));
    const byFd = <T extends { fd: number }>(a: T[]) => [...a].sort((x, y) => x.fd - y.fd);
    assert.deepEqual(byFd(got), byFd(expected));
    // what the scene was built to hold, so the comparison cannot pass on an empty or thin table
    assert.equal(got.filter((c) => c.state === 'LISTEN').length, 2);
    assert.ok(got.some((c) => c.state === 'LISTEN' && c.recvQ === 1), 'a connection waits in the IPv4 backlog');
    assert.ok(got.some((c) => c.recvQ === 1000) && got.some((c) => c.recvQ === 77), 'unread data');
    assert.ok(got.some((c) => c.timer === 'keepalive'), 'the keepalive timer');
    assert.ok(got.some((c) => c.local.startsWith('[::1]')), 'IPv6');
    assert.equal(got.length, 2 + 5 + 2);
  });

  it('prints exactly what the netlink path prints (the table, keepalive countdown aside)', async () => {
    const fast = await runCli(['snapshot', String(pid), '--state', 'all']);
    const full = await runCli(['snapshot', String(pid), '--state', 'all', '--source', 'netlink']);
    assert.equal(fast.code, 0, fast.stderr);
    const steady = (text: string) => text.replace(/keepalive \S+/g, 'keepalive N').replace(/ +/g, ' ');
    assert.equal(steady(fast.stdout), steady(full.stdout));
  });

  it('without root the iterator is not tried: another path answers, with the same connections', async () => {
    // a copy of the compiled sources nobody can read (the checkout's parents may not let it in)
    const dir = mkdtempSync(path.join(tmpdir(), 'sockwatch-iter-'));
    const src = path.join(dir, 'src');
    cpSync(path.join(__dirname, '..', '..', 'src'), src, { recursive: true });
    spawnSync('chmod', ['-R', 'a+rX', dir]);
    const own = spawn(pythonPath(), ['-c', TARGET], { stdio: ['ignore', 'pipe', 'inherit'], uid: 65534, gid: 65534 });
    try {
      const [line] = (await once(own.stdout!, 'data')) as [Buffer];
      const ownPid = (JSON.parse(line.toString()) as { pid: number }).pid;
      const code = `require(${JSON.stringify(path.join(src, 'sources/one-shot-source.js'))}).oneShotSource(${ownPid}, { tcpInfo: false, directions: false }).snapshot('all')
        .then((s) => console.log(JSON.stringify({ source: s.source, n: s.connections.length })), (e) => console.log(JSON.stringify({ error: String(e) })))`;
      const r = spawnSync(process.execPath, ['-e', code], { uid: 65534, gid: 65534, cwd: dir, encoding: 'utf8' });
      const got = JSON.parse(r.stdout) as { source?: string; n?: number; error?: string };
      assert.notEqual(got.source, 'ebpf', JSON.stringify(got));
      assert.equal(got.n, ssRows(ss, ownPid).length - 1, `every TCP socket once (the dup'ed one at one fd): ${JSON.stringify(got)}`);
    } finally {
      own.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a process that is gone is reported as gone, not as an empty table', async () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const r = await runCli(['snapshot', gone]);
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, '', `sockwatch: no process with PID ${gone}\n`]);
  });
});
