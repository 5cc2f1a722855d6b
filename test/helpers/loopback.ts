// Child processes for integration tests: an HTTP server on 127.0.0.1 and ::1 (port 0) and a
// client that opens, holds, exercises and closes keep-alive connections on command. Children
// speak JSON lines on stdio, so a test knows the truth (ports, fds) from the client itself.
//
// Usage:
//   const server = await startLoopbackServer();
//   const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 3 }]);
//   ... client.connections, client.pid, await client.request(), await client.closeAll() ...
//   after(() => stopLoopbackChildren());
//
// Every child also exits on its own when its stdin closes, i.e. when the test process dies.

import { spawn, type ChildProcess } from 'node:child_process';

export const DEFAULT_TIMEOUT_MS = 10_000;

const SERVER_SCRIPT = String.raw`
const http = require('node:http');
// no idle/request timeouts: tests hold keep-alive connections as long as they like
const options = { requestTimeout: 0, headersTimeout: 0, keepAliveTimeout: 0 };
function listen(host) {
  return new Promise((resolve) => {
    const server = http.createServer(options, (req, res) => {
      req.resume();
      req.on('end', () => { res.setHeader('content-type', 'text/plain'); res.end('ok\n'); });
    });
    server.keepAliveTimeout = 0;
    server.once('error', () => resolve(null)); // e.g. no IPv6 on this host
    server.listen(0, host, () => resolve(server));
  });
}
(async () => {
  const v4 = await listen('127.0.0.1');
  const v6 = await listen('::1');
  if (!v4) { process.stderr.write('cannot listen on 127.0.0.1\n'); process.exit(1); }
  process.stdout.write(JSON.stringify({
    ready: true, pid: process.pid,
    ipv4Port: v4.address().port, ipv6Port: v6 ? v6.address().port : null,
  }) + '\n');
})();
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

const CLIENT_SCRIPT = String.raw`
const net = require('node:net');
const held = new Map(); // local port -> { socket, info }
const reply = (m) => process.stdout.write(JSON.stringify(m) + '\n');

// One HTTP/1.1 keep-alive request; resolves when the whole response (Content-Length) is in.
function exchange(socket, host) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk) => {
      buf += chunk.toString('latin1');
      const headEnd = buf.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const m = /content-length:\s*(\d+)/i.exec(buf.slice(0, headEnd));
      if (buf.length >= headEnd + 4 + (m ? Number(m[1]) : 0)) { cleanup(); resolve(); }
    };
    const onClose = () => { cleanup(); reject(new Error('connection closed during exchange')); };
    const cleanup = () => { socket.off('data', onData); socket.off('close', onClose); };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.write('GET / HTTP/1.1\r\nHost: ' + host + '\r\nConnection: keep-alive\r\n\r\n');
  });
}

function openOne(host, port, doRequest) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once('error', reject);
    socket.once('connect', async () => {
      socket.setKeepAlive(true);
      const info = {
        localAddress: socket.localAddress, localPort: socket.localPort,
        remoteAddress: socket.remoteAddress, remotePort: socket.remotePort,
        fd: socket._handle && typeof socket._handle.fd === 'number' ? socket._handle.fd : -1,
      };
      try { if (doRequest) await exchange(socket, host); } catch (e) { reject(e); return; }
      socket.off('error', reject);
      socket.on('error', () => {}); // a peer reset later is the test's business, not a crash
      socket.on('close', () => held.delete(info.localPort));
      held.set(info.localPort, { socket, info, host });
      resolve(info);
    });
  });
}

async function handle(msg) {
  switch (msg.cmd) {
    case 'open': {
      const opened = [];
      for (const t of msg.targets) {
        // sequential: the order of fds and ports follows the order asked for
        for (let i = 0; i < t.count; i++) opened.push(await openOne(t.host, t.port, msg.request !== false));
      }
      return { connections: opened };
    }
    case 'request': {
      const all = [...held.values()];
      await Promise.all(all.map((h) => exchange(h.socket, h.host)));
      return { exchanged: all.length };
    }
    case 'close': {
      const ports = msg.localPorts ?? [...held.keys()];
      const closed = [];
      await Promise.all(ports.map((p) => new Promise((resolve) => {
        const h = held.get(p);
        if (!h) return resolve();
        h.socket.once('close', () => { closed.push(p); resolve(); });
        h.socket.destroy();
      })));
      return { closed };
    }
    case 'list':
      return { connections: [...held.values()].map((h) => h.info) };
    case 'exit':
      setImmediate(() => process.exit(0));
      return {};
    default:
      throw new Error('unknown command ' + msg.cmd);
  }
}

let pending = '';
process.stdin.on('data', (chunk) => {
  pending += chunk.toString('utf8');
  let nl;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (!line.trim()) continue;
    const msg = JSON.parse(line);
    handle(msg).then(
      (r) => reply({ id: msg.id, ok: true, ...r }),
      (e) => reply({ id: msg.id, ok: false, error: String(e && e.message || e) }),
    );
  }
});
process.stdin.on('end', () => process.exit(0));
reply({ ready: true, pid: process.pid });
`;

type Message = Record<string, unknown>;

/** A node child running an inline script that talks JSON lines; replies are matched by id. */
class ScriptChild {
  private stdoutBuf = '';
  private stderrText = '';
  private readonly waiters = new Map<number, (m: Message) => void>();
  private firstMessage: ((m: Message) => void) | undefined;
  private exitWaiters: Array<() => void> = [];
  private nextId = 1;
  exited = false;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => this.onStdout(chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrText = (this.stderrText + chunk.toString('utf8')).slice(-4000);
    });
    child.stdin?.on('error', () => {}); // EPIPE after the child died
    child.once('exit', () => {
      this.exited = true;
      for (const w of this.exitWaiters) w();
      this.exitWaiters = [];
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('child has no pid (spawn failed)');
    return this.child.pid;
  }

  static async start(script: string, timeoutMs: number): Promise<{ child: ScriptChild; ready: Message }> {
    const proc = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    const child = new ScriptChild(proc);
    live.add(child);
    try {
      const ready = await child.withTimeout(
        new Promise<Message>((resolve, reject) => {
          child.firstMessage = resolve;
          proc.once('error', reject);
          proc.once('exit', (code) => reject(new Error(`child exited with ${String(code)} before ready`)));
        }),
        timeoutMs,
        'ready',
      );
      return { child, ready };
    } catch (e) {
      await child.kill();
      throw e;
    }
  }

  private onStdout(chunk: Buffer): void {
    this.stdoutBuf += chunk.toString('utf8');
    let nl: number;
    while ((nl = this.stdoutBuf.indexOf('\n')) >= 0) {
      const line = this.stdoutBuf.slice(0, nl);
      this.stdoutBuf = this.stdoutBuf.slice(nl + 1);
      let msg: Message;
      try {
        msg = JSON.parse(line) as Message; // our own scripts print only JSON objects
      } catch {
        continue;
      }
      if (typeof msg.id === 'number') {
        this.waiters.get(msg.id)?.(msg);
        this.waiters.delete(msg.id);
      } else if (this.firstMessage) {
        this.firstMessage(msg);
        this.firstMessage = undefined;
      }
    }
  }

  private withTimeout<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`loopback child ${String(this.child.pid)}: ${what} timed out after ${timeoutMs} ms; stderr: ${this.stderrText}`)),
        timeoutMs,
      );
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  async call(msg: Message, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Message> {
    if (this.exited) throw new Error('loopback child has exited');
    const id = this.nextId++;
    const reply = new Promise<Message>((resolve) => this.waiters.set(id, resolve));
    this.child.stdin?.write(JSON.stringify({ ...msg, id }) + '\n');
    const r = await this.withTimeout(reply, timeoutMs, String(msg.cmd));
    if (r.ok !== true) throw new Error(`loopback child: ${String(msg.cmd)} failed: ${String(r.error)}`);
    return r;
  }

  /** Resolves once the child has exited (immediately if it already has). */
  waitForExit(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    if (this.exited) return Promise.resolve();
    return this.withTimeout(new Promise<void>((resolve) => this.exitWaiters.push(resolve)), timeoutMs, 'exit');
  }

  /** SIGKILL and wait (bounded) for the exit, so the PID is really gone afterwards. */
  async kill(): Promise<void> {
    live.delete(this);
    if (this.exited) return;
    this.child.kill('SIGKILL');
    await this.waitForExit(5_000).catch(() => undefined);
  }
}

const live = new Set<ScriptChild>();

process.once('exit', () => {
  for (const c of live) if (!c.exited) c.child.kill('SIGKILL');
});

/** Kills every child these helpers started and still running. Call it in `after`. */
export async function stopLoopbackChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.kill()));
}

export interface LoopbackServer {
  pid: number;
  ipv4Port: number;
  /** undefined where ::1 cannot be bound (no IPv6) */
  ipv6Port: number | undefined;
  stop(): Promise<void>;
}

export async function startLoopbackServer(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<LoopbackServer> {
  const { child, ready } = await ScriptChild.start(SERVER_SCRIPT, timeoutMs);
  return {
    pid: child.pid,
    ipv4Port: Number(ready.ipv4Port),
    ipv6Port: typeof ready.ipv6Port === 'number' ? ready.ipv6Port : undefined,
    stop: () => child.kill(),
  };
}

export interface ClientTarget {
  host: string;
  port: number;
  count: number;
}

/** One connection as the client's own socket sees it. */
export interface HeldConnection {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** the socket's fd in the client, -1 where Node does not expose it */
  fd: number;
}

export interface LoopbackClient {
  pid: number;
  /** all connections opened so far and not closed by closeAll/close */
  readonly connections: readonly HeldConnection[];
  /** opens more; with `request` (default true) each does one HTTP exchange before it counts */
  open(targets: ClientTarget[], request?: boolean): Promise<HeldConnection[]>;
  /** one keep-alive exchange on every held connection; resolves with how many */
  request(): Promise<number>;
  /** closes the given local ports (all when omitted); resolves with the ports closed */
  close(localPorts?: number[]): Promise<number[]>;
  closeAll(): Promise<number[]>;
  /** asks the child to exit and waits until it has */
  exit(): Promise<void>;
  kill(): Promise<void>;
}

function asConnections(value: unknown): HeldConnection[] {
  return Array.isArray(value) ? (value as HeldConnection[]) : []; // shape fixed by CLIENT_SCRIPT
}

export async function startLoopbackClient(
  targets: ClientTarget[] = [],
  options: { request?: boolean; timeoutMs?: number } = {},
): Promise<LoopbackClient> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const { child } = await ScriptChild.start(CLIENT_SCRIPT, timeoutMs);
  let held: HeldConnection[] = [];
  const client: LoopbackClient = {
    pid: child.pid,
    get connections() {
      return held;
    },
    async open(more, request = true) {
      const r = await child.call({ cmd: 'open', targets: more, request }, timeoutMs);
      const opened = asConnections(r.connections);
      held = [...held, ...opened];
      return opened;
    },
    async request() {
      const r = await child.call({ cmd: 'request' }, timeoutMs);
      return Number(r.exchanged);
    },
    async close(localPorts) {
      const r = await child.call({ cmd: 'close', localPorts }, timeoutMs);
      const closed = Array.isArray(r.closed) ? (r.closed as number[]) : [];
      held = held.filter((c) => !closed.includes(c.localPort));
      return closed;
    },
    closeAll() {
      return client.close();
    },
    async exit() {
      await child.call({ cmd: 'exit' }, timeoutMs);
      await child.waitForExit(timeoutMs);
      live.delete(child);
    },
    kill: () => child.kill(),
  };
  try {
    if (targets.length > 0) await client.open(targets, options.request ?? true);
  } catch (e) {
    await child.kill();
    throw e;
  }
  return client;
}
