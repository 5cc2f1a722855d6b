// Children for the brief-connection tests: a server that answers one short exchange per
// connection and closes, and a client that makes N such connections back to back on command and
// reports, from its own clock, each connection's local port and when it began and ended. Both
// speak JSON lines; both exit when their stdin closes (i.e. when the test process dies).

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

const SERVER = String.raw`
const net = require('node:net');
const server = net.createServer((s) => {
  s.once('data', () => s.end('y'));
  s.on('error', () => {});
});
server.listen(0, process.argv[1] || '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ ready: true, pid: process.pid, port: server.address().port }) + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

// now(): epoch ms with sub-ms resolution, on the same clock as Date.now()
const CLIENT = String.raw`
const net = require('node:net');
const now = () => performance.timeOrigin + performance.now();
function one(host, port) {
  return new Promise((resolve, reject) => {
    const r = { begin: now() };
    const s = net.connect({ host, port });
    s.on('connect', () => { r.connected = now(); r.localPort = s.localPort; r.localAddress = s.localAddress; s.write('x'); });
    s.on('data', () => { r.closing = now(); s.end(); });
    s.on('error', reject);
    s.on('close', () => { r.closed = now(); resolve(r); });
  });
}
let buf = '';
process.stdin.on('data', async (chunk) => {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const cmd = JSON.parse(buf.slice(0, nl));
    buf = buf.slice(nl + 1);
    const out = [];
    for (let i = 0; i < cmd.count; i++) out.push(await one(cmd.host, cmd.port));
    process.stdout.write(JSON.stringify({ done: true, connections: out }) + '\n');
  }
});
process.stdin.on('end', () => process.exit(0));
process.stdout.write(JSON.stringify({ ready: true, pid: process.pid }) + '\n');
`;

export interface ChurnConnection {
  /** epoch ms (sub-ms) before connect() */
  begin: number;
  connected: number;
  /** when it called end() after the reply */
  closing: number;
  /** 'close' event */
  closed: number;
  localPort: number;
  localAddress: string;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export class JsonChild {
  private buf = '';
  private waiting: Array<(m: Record<string, unknown>) => void> = [];
  stderr = '';
  private constructor(readonly child: ChildProcess) {
    live.add(child);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => {
      this.buf += c;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.waiting.shift()?.(JSON.parse(line) as Record<string, unknown>);
      }
    });
    child.stderr!.on('data', (c: Buffer) => {
      this.stderr = (this.stderr + c.toString()).slice(-4000);
    });
    child.stdin!.on('error', () => {});
    child.once('exit', () => live.delete(child));
  }

  static spawnNode(args: readonly string[], options: SpawnOptions = {}): JsonChild {
    return new JsonChild(spawn(process.execPath, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The next JSON line, or a rejection naming what the child said on stderr. */
  next(timeoutMs = 20_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child ${this.pid}: no reply in ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      const onExit = (code: number | null): void => {
        clearTimeout(timer);
        reject(new Error(`child ${this.pid} exited (${code}); stderr: ${this.stderr}`));
      };
      this.child.once('exit', onExit);
      this.waiting.push((m) => {
        clearTimeout(timer);
        this.child.off('exit', onExit);
        resolve(m);
      });
    });
  }

  send(msg: unknown): void {
    this.child.stdin!.write(JSON.stringify(msg) + '\n');
  }

  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await gone;
  }
}

export async function startChurnServer(host = '127.0.0.1', options: SpawnOptions = {}): Promise<{ child: JsonChild; port: number }> {
  const child = JsonChild.spawnNode(['-e', SERVER, host], options);
  const ready = await child.next();
  return { child, port: ready.port as number };
}

export async function startChurnClient(options: SpawnOptions = {}): Promise<{ child: JsonChild; churn(host: string, port: number, count: number): Promise<ChurnConnection[]> }> {
  const child = JsonChild.spawnNode(['-e', CLIENT], options);
  await child.next();
  return {
    child,
    churn: async (host, port, count) => {
      const reply = child.next();
      child.send({ host, port, count });
      return (await reply).connections as ChurnConnection[];
    },
  };
}
