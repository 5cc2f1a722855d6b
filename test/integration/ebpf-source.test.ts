// sockwatch's own eBPF source (no bpftrace) against real programs, as root: Python http.client
// processes against Python http.server on 127.0.0.1 and ::1, every client a separate process
// born after the watch began; a group given by PIDs; the CLI with no bpftrace anywhere on its
// PATH. Truth comes from the clients (their PID, local port and clock around each connection).

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { SocketEnded, SocketStarted } from '../../src/core/lifecycle-types';
import { openWatchedTarget } from '../../src/sources/open-target';
import type { Source } from '../../src/sources/source';
import { drainUntil, within } from '../helpers/lifecycle-evidence';
import { findTool, isRoot, pythonPath } from '../helpers/real-tools';
import { start, stopRealHttp, type Program } from '../helpers/real-http';
import type { ChildProcess } from 'node:child_process';
import { JsonChild, startChurnClient, startChurnServer } from '../helpers/churn';
import { ndjson } from '../helpers/cli';
import { mkdtempSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';

/** Our clock against the kernel's (measured once at the attach), and Python's time.time() steps. */
const SLACK_MS = 3;
/**
 * The kernel's CLOSE comes with the peer's last ACK or FIN, after close() has returned: on a loaded
 * machine softirq work can put it milliseconds later (measured: 2.6 ms past the 3 ms slack).
 */
const CLOSE_AFTER_MS = 50;

const sources: Source[] = [];
const children: JsonChild[] = [];
const launched: ChildProcess[] = [];
after(async () => {
  for (const l of launched) l.kill('SIGKILL');
  for (const s of sources) s.close();
  for (const c of children) await c.kill();
  await stopRealHttp();
});

// One connection, one GET, from a fresh process; what it saw, on the wall clock in ms.
const CLIENT = String.raw`
import sys, time, json, os, http.client
host, port = sys.argv[1], int(sys.argv[2])
t0 = time.time()
c = http.client.HTTPConnection(host, port, timeout=10)
c.connect()
local = c.sock.getsockname()[1]
t1 = time.time()
c.request('GET', '/')
body = c.getresponse().read()
c.close()
t2 = time.time()
print(json.dumps({'pid': os.getpid(), 'port': local, 'host': host, 'begin': t0 * 1000, 'connected': t1 * 1000, 'closed': t2 * 1000, 'body': len(body)}), flush=True)
`;

// Waits for a line naming clients to start (all at once, each its own process), prints what they saw.
const LAUNCHER = String.raw`
import sys, json, subprocess
print(json.dumps({'ready': True}), flush=True)
for line in sys.stdin:
    targets = json.loads(line)
    procs = [subprocess.Popen([sys.executable, '-c', sys.argv[1], h, str(p)], stdout=subprocess.PIPE) for h, p in targets]
    out = [json.loads(p.communicate()[0]) for p in procs]
    print(json.dumps({'clients': out}), flush=True)
`;

interface ClientSaw {
  pid: number;
  port: number;
  host: string;
  begin: number;
  connected: number;
  closed: number;
  body: number;
}

async function pythonServer(bind: string): Promise<{ program: Program; port: number }> {
  const program = start(pythonPath(), ['-u', '-m', 'http.server', '0', '--bind', bind, '--directory', path.resolve(__dirname, '../../../test/fixtures/ebpf')]);
  const line = await program.line(/port \d+/);
  return { program, port: Number(/port (\d+)/.exec(line)![1]) };
}



test('root is needed for these cases', () => {
  assert.ok(isRoot(), 'the eBPF cases run as root (CI does)');
});

test('--children: 24 Python clients over IPv4 and IPv6, each a process born after the attach, all reported with their own PID and times', async () => {
  const v4 = await pythonServer('127.0.0.1');
  const v6 = await pythonServer('::1');
  const launcher = spawn(pythonPath(), ['-u', '-c', LAUNCHER, CLIENT], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = lineReader(launcher.stdout);
  launched.push(launcher);
  await lines.next(/ready/);
  const source = await openWatchedTarget({ spec: { pids: [launcher.pid!], children: true }, brief: 'ebpf' });
  sources.push(source);
  assert.deepEqual(source.lifecycleStatus, { facility: 'ebpf' });
  await source.snapshot('all');
  const targets = Array.from({ length: 24 }, (_, i) => (i % 2 === 0 ? ['127.0.0.1', v4.port] : ['::1', v6.port]));
  launcher.stdin.write(JSON.stringify(targets) + '\n');
  const saw = (JSON.parse(await lines.next(/"clients"/)) as { clients: ClientSaw[] }).clients;
  assert.equal(saw.length, 24);
  assert.equal(new Set(saw.map((c) => c.pid)).size, 24, 'separate processes');
  const ports = new Set(saw.map((c) => c.port));
  const evs = await drainUntil(source, (e) => e.filter((x) => x.kind === 'ended' && ports.has(x.local.port)).length >= 24, 10_000);
  for (const c of saw) {
    assert.ok(c.body > 0, 'the server answered');
    const s = evs.find((e): e is SocketStarted => e.kind === 'started' && e.local.port === c.port);
    const e = evs.find((x): x is SocketEnded => x.kind === 'ended' && x.local.port === c.port);
    assert.ok(s && e, `client ${c.pid} (${c.host} port ${c.port}): ${s ? '' : 'no start '}${e ? '' : 'no end'}`);
    assert.equal(s.pid, c.pid, 'the start carries the client\'s own PID');
    assert.equal(e.pid, c.pid);
    assert.equal(e.protocol, c.host === '::1' ? 'tcp6' : 'tcp');
    assert.deepEqual(e.remote, { address: c.host, port: c.host === '::1' ? v6.port : v4.port });
    within(s.atMs, c.begin - SLACK_MS, c.connected + SLACK_MS, `start of ${c.port}`);
    within(e.atMs, c.begin - SLACK_MS, c.closed + CLOSE_AFTER_MS, `end of ${c.port}`);
    assert.equal(e.startedAtMs, s.atMs);
    assert.ok((e.totals?.bytesReceived ?? 0) >= c.body, `bytes received ${e.totals?.bytesReceived} < body ${c.body}`);
    assert.ok((e.totals?.segmentsSent ?? 0) >= 1);
  }
  // the servers' sockets are not the group's
  assert.equal(evs.filter((e) => e.local.port === v4.port || e.local.port === v6.port).length, 0);
});

/** The lines of a stream, waited for by pattern. */
function lineReader(stream: NodeJS.ReadableStream): { next(re: RegExp, timeoutMs?: number): Promise<string> } {
  let buf = '';
  const waiters = new Set<() => void>();
  stream.on('data', (d: Buffer) => {
    buf += d.toString();
    for (const w of waiters) w();
  });
  return {
    next: (re, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const l = buf.split('\n').find((x) => re.test(x));
          if (l === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(l);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no line matching ${re} in ${timeoutMs} ms: ${buf}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

test('a group given by PIDs: each member\'s connections carry that member\'s PID', async () => {
  const server = await startChurnServer();
  const a = await startChurnClient();
  const b = await startChurnClient();
  children.push(server.child, a.child, b.child);
  const source = await openWatchedTarget({ spec: { pids: [a.child.pid, b.child.pid], children: false }, brief: 'ebpf' });
  sources.push(source);
  await source.snapshot('all');
  const [ca, cb] = await Promise.all([a.churn('127.0.0.1', server.port, 10), b.churn('127.0.0.1', server.port, 10)]);
  const portsA = new Set(ca.map((c) => c.localPort));
  const portsB = new Set(cb.map((c) => c.localPort));
  const evs = await drainUntil(source, (e) => e.filter((x) => x.kind === 'ended').length >= 20, 10_000);
  const ended = evs.filter((e) => e.kind === 'ended');
  assert.equal(ended.filter((e) => portsA.has(e.local.port) && e.pid === a.child.pid).length, 10);
  assert.equal(ended.filter((e) => portsB.has(e.local.port) && e.pid === b.child.pid).length, 10);
  assert.equal(ended.length, 20, 'nothing but the members\' connections');
});

test('the CLI with no bpftrace on its PATH uses eBPF and counts every brief connection', async () => {
  // a PATH of one directory holding only node (node and bpftrace may share /usr/bin)
  const nodeDir = mkdtempSync(path.join(os.tmpdir(), 'sockwatch-path-'));
  symlinkSync(process.execPath, path.join(nodeDir, 'node'));
  const env = { ...process.env, PATH: nodeDir };
  assert.equal(findToolIn('bpftrace', nodeDir), undefined, `bpftrace found in ${nodeDir}`);
  assert.equal(findToolIn('node', nodeDir), path.join(nodeDir, 'node'));
  const server = await startChurnServer();
  const client = await startChurnClient();
  children.push(server.child, client.child);
  const cli = spawn(process.execPath, [path.resolve(__dirname, '../../../bin/sockwatch.js'), 'watch', String(client.child.pid), '--json', '--brief', 'ebpf', '--interval', '1s', '--duration', '3s'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
  cli.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => cli.once('close', r));
  while (!out.includes('"type":"start"') && cli.exitCode === null) await new Promise((r) => setTimeout(r, 20));
  const conns = await client.churn('127.0.0.1', server.port, 20);
  const code = await exited;
  assert.equal(code, 0, err);
  const events = ndjson(out);
  const startEvent = events.find((e) => e.type === 'start') as { briefConnections?: { facility: string } } | undefined;
  assert.deepEqual(startEvent?.briefConnections, { facility: 'ebpf' }, err);
  const ports = new Set(conns.map((c) => c.localPort));
  const closes = events.filter((e) => e.type === 'close' && ports.has(((e.connection as { local: { port: number } }).local.port)));
  assert.equal(closes.length, 20, `closes of the 20 brief connections:\n${out}`);
});

function findToolIn(tool: string, dir: string): string | undefined {
  const saved = process.env.PATH;
  try {
    process.env.PATH = dir;
    const p = findTool(tool);
    // findTool also looks in the sbin directories: only PATH matters to sockwatch now
    return p !== undefined && path.dirname(p) === dir ? p : undefined;
  } finally {
    process.env.PATH = saved;
  }
}

test('run\'s gate: a process sockwatch forks is in the kernel\'s watched set before spawn() returns; sockwatch itself never is', async () => {
  const { openRunGate } = await import('../../src/cli/run-gate');
  const gate = await openRunGate('ebpf', () => assert.fail('no line expected as root'));
  const feed = gate.feed as import('../../src/sources/ebpf/ebpf-lifecycle').EbpfLifecycle;
  try {
    assert.deepEqual(feed.kernelPids(), [process.pid], 'sockwatch marked, follow-only');
    const child = spawn('sleep', ['5'], { stdio: 'ignore' });
    // nothing from JS has named the child yet: only the kernel's fork-follow can have added it
    assert.ok(feed.kernelPids().includes(child.pid!), `child ${child.pid} not followed: ${feed.kernelPids().join(',')}`);
    gate.spawned(child.pid);
    assert.deepEqual(feed.kernelPids(), [child.pid]);
    const other = spawn('sleep', ['5'], { stdio: 'ignore' });
    assert.ok(!feed.kernelPids().includes(other.pid!), 'later forks of sockwatch are not followed');
    child.kill();
    other.kill();
  } finally {
    feed.close();
  }
});
