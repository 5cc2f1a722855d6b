// A real process that names itself to attack the terminal of whoever watches it: it writes
// ESC ] 0 ; T BEL ESC [ 2 J (retitle, clear) into /proc/self/comm, runs with argv holding escape
// sequences and U+202E, and holds a TCP connection on 127.0.0.1. snapshot (table, procfs, csv),
// watch with --name (the group header) and a single-PID watch whose target exits (the exit line)
// must show it escaped, with no raw control, bidi or format character on stdout or stderr.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { runCli, startCli, type CliResult } from '../helpers/cli';
import { pythonPath } from '../helpers/real-tools';
import { assertNoRawControls, RETITLE_AND_CLEAR, RLO } from '../helpers/hostile-text';

const SHOWN_COMM = '\\x1b]0;T\\x07\\x1b[2J';
const HOSTILE_ARGS = [`ab${RLO}gnp.exe`, '\x1b[31mred\x9b2J', `z\u200bw\u2066`];

// Sets its comm, connects to PORT on 127.0.0.1, says "ready LOCALPORT"; then on stdin "open" makes
// one more connection (and says "opened LOCALPORT"), "exit" (or end of stdin) exits.
const TARGET = `
import socket, sys
with open('/proc/self/comm', 'w') as f:
    f.write(sys.argv[2])
held = [socket.create_connection(('127.0.0.1', int(sys.argv[1])))]
print('ready', held[0].getsockname()[1], flush=True)
for line in sys.stdin:
    if line.strip() == 'open':
        held.append(socket.create_connection(('127.0.0.1', int(sys.argv[1]))))
        print('opened', held[-1].getsockname()[1], flush=True)
    elif line.strip() == 'exit':
        break
`;

interface Target {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  /** resolves with the next stdout line matching `re` */
  next(re: RegExp): Promise<string>;
  exited: Promise<void>;
}

function both(r: CliResult, where: string): void {
  assertNoRawControls(r.stdout, `${where} stdout`);
  assertNoRawControls(r.stderr, `${where} stderr`);
}

describe('a target that names itself with escape sequences and bidi controls', () => {
  let server: net.Server;
  let port: number;
  let dir: string;
  const peers = new Set<net.Socket>();
  const targets: Target[] = [];

  before(async () => {
    server = net.createServer((s) => {
      peers.add(s);
      s.on('close', () => peers.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-hostile-'));
    fs.writeFileSync(path.join(dir, 'target.py'), TARGET);
  });
  after(async () => {
    for (const t of targets) t.child.kill('SIGKILL');
    for (const s of peers) s.destroy();
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function startTarget(): Promise<Target> {
    const child = spawn(pythonPath(), [path.join(dir, 'target.py'), String(port), RETITLE_AND_CLEAR, ...HOSTILE_ARGS], { stdio: ['pipe', 'pipe', 'pipe'] });
    let buf = '';
    const waiting: { re: RegExp; resolve: (l: string) => void }[] = [];
    const lines: string[] = [];
    const deliver = (): void => {
      for (let i = 0; i < waiting.length; i++) {
        const at = lines.findIndex((l) => waiting[i]!.re.test(l));
        if (at >= 0) {
          const [line] = lines.splice(at, 1);
          waiting.splice(i--, 1)[0]!.resolve(line!);
        }
      }
    };
    child.stdout.on('data', (b: Buffer) => {
      buf += b.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
      deliver();
    });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const next = (re: RegExp): Promise<string> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`target said no ${re}`)), 10_000);
        waiting.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
        deliver();
      });
    const t: Target = { child, pid: child.pid!, next, exited };
    targets.push(t);
    await next(/^ready \d+$/);
    // truth from the kernel, not from sockwatch: the comm really is the escape sequence
    assert.equal(fs.readFileSync(`/proc/${t.pid}/comm`, 'utf8'), `${RETITLE_AND_CLEAR}\n`);
    assert.ok(fs.readFileSync(`/proc/${t.pid}/cmdline`, 'utf8').includes(`ab${RLO}gnp.exe`));
    return t;
  }

  it('snapshot (fast path, full CLI with --source procfs, csv): escaped header and command line', async () => {
    const t = await startTarget();
    try {
      for (const args of [['snapshot', String(t.pid)], ['snapshot', String(t.pid), '--source', 'procfs']]) {
        const r = await runCli(args);
        assert.equal(r.code, 0, r.stderr);
        both(r, args.join(' '));
        const head = r.stdout.split('\n')[0]!;
        assert.ok(head.startsWith(`PID ${t.pid} (${SHOWN_COMM}) user root: `), head);
        // the command line is cut at 100 characters: the first hostile argument is still in
        assert.ok(head.includes(`target.py ${port} ${SHOWN_COMM} ab\\u202egnp.exe`), head);
        assert.match(r.stdout, new RegExp(`127\\.0\\.0\\.1:${port}\\s+ESTABLISHED`));
      }
      const csv = await runCli(['snapshot', String(t.pid), '--format', 'csv']);
      assert.equal(csv.code, 0, csv.stderr);
      both(csv, 'snapshot --format csv');
      assert.match(csv.stdout, new RegExp(`,127\\.0\\.0\\.1,${port},ESTABLISHED,`));
      // a group snapshot by that very name: its header names the processes
      const group = await runCli(['snapshot', '--name', RETITLE_AND_CLEAR]);
      assert.equal(group.code, 0, group.stderr);
      both(group, 'snapshot --name');
      assert.ok(group.stdout.includes(`(${SHOWN_COMM})`), group.stdout);
      t.child.stdin.end('exit\n');
      await t.exited;
    } finally {
      t.child.kill('SIGKILL');
    }
  });

  it('watch --name: the group header, event lines and exit line escaped', async () => {
    const t = await startTarget();
    try {
      const cli = startCli(['watch', '--name', RETITLE_AND_CLEAR, '--interval', '100ms', '--duration', '20s', '--no-tui']);
      const header = await cli.waitFor(/^watching /);
      assert.ok(header.includes(`1 process: ${t.pid} (${SHOWN_COMM}) — source`), header);
      await cli.waitFor(/^TIME /);
      t.child.stdin.write('open\n');
      const opened = (await t.next(/^opened \d+$/)).split(' ')[1]!;
      await cli.waitFor(new RegExp(`open .*127\\.0\\.0\\.1:${opened}\\b`));
      t.child.stdin.end('exit\n');
      await t.exited;
      // the watch of a name ends when no process of that name is left
      const r = await cli.result;
      both(r, 'watch --name');
      assert.ok(r.stdout.includes(`exit  PID ${t.pid} (${SHOWN_COMM}) exited`), r.stdout);
      assert.match(r.stdout, /^summary: /m);
    } finally {
      t.child.kill('SIGKILL');
    }
  });

  it('watch PID --duration: the start line names it escaped; the exit line too when it exits', async () => {
    const t = await startTarget();
    try {
      const cli = startCli(['watch', String(t.pid), '--interval', '100ms', '--duration', '20s', '--no-tui']);
      const start = await cli.waitFor(/^watching PID/);
      assert.equal(start.split(' — ')[0], `watching PID ${t.pid} (${SHOWN_COMM}) user root`);
      await cli.waitFor(/^TIME /);
      t.child.stdin.end('exit\n');
      await t.exited;
      const r = await cli.result;
      assert.equal(r.code, 0, r.stderr);
      both(r, 'watch PID');
      assert.ok(r.stdout.includes(`exit  PID ${t.pid} (${SHOWN_COMM}) exited`), r.stdout);
    } finally {
      t.child.kill('SIGKILL');
    }
  });

  it('watch --duration with --json stays exact: the comm as the kernel has it', async () => {
    const t = await startTarget();
    try {
      const r = await runCli(['watch', String(t.pid), '--interval', '100ms', '--duration', '500ms', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const start = JSON.parse(r.stdout.split('\n')[0]!) as { process: { command: string; cmdline: string } };
      assert.equal(start.process.command, RETITLE_AND_CLEAR);
      assert.ok(start.process.cmdline.endsWith(` ${RETITLE_AND_CLEAR} ${HOSTILE_ARGS.join(' ')}`), start.process.cmdline);
      t.child.stdin.end('exit\n');
      await t.exited;
    } finally {
      t.child.kill('SIGKILL');
    }
  });
});
