// For the metrics endpoint tests: a churning client, HTTP GETs, the URL sockwatch announces, and
// the external tools (promtool, prometheus, tmux) a test must not run without.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function httpRequest(url: string, method = 'GET'): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** The URL from sockwatch's "serving metrics on …" line on stderr. */
export function announcedUrl(stderr: string): string | undefined {
  return /serving metrics on (http:\/\/\S+)/.exec(stderr)?.[1];
}

export async function waitForAnnouncedUrl(stderr: () => string, timeoutMs = 10_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const url = announcedUrl(stderr());
    if (url !== undefined) return url;
    if (Date.now() > until) throw new Error(`sockwatch did not announce its metrics URL; stderr:\n${stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Throws (the test fails, it does not skip) when a tool the test needs is missing. */
export function requireTool(cmd: string, versionArgs: string[], pkg: string): void {
  try {
    execFileSync(cmd, versionArgs, { stdio: 'ignore' });
  } catch {
    throw new Error(`${cmd} is required for this test and was not found: install the Debian package "${pkg}"`);
  }
}

/** A free loopback port, for tools that must be told their port up front (a tiny race with other binders). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const CHURN_SCRIPT = String.raw`
const net = require('node:net');
const [host, port, everyMs, holdMs] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4])];
let opened = 0, closed = 0, stopping = false;
const say = (m) => process.stdout.write(JSON.stringify(m) + '\n');
const timer = setInterval(() => {
  const s = net.connect(port, host, () => {
    opened++;
    setTimeout(() => s.destroy(), holdMs);
  });
  s.on('error', () => {});
  s.on('close', () => { closed++; if (stopping && closed >= opened) say({ stopped: true, opened }); });
}, everyMs);
say({ ready: true, pid: process.pid });
process.stdin.on('data', () => { stopping = true; clearInterval(timer); if (closed >= opened) say({ stopped: true, opened }); });
process.stdin.on('end', () => process.exit(0));
`;

export interface ChurnClient {
  pid: number;
  /** stops opening, waits until every connection has closed; resolves with how many it opened */
  stop(): Promise<number>;
  kill(): void;
}

/** A Node child that opens a connection to host:port every `everyMs` and closes each after `holdMs`. */
export function startChurnClient(host: string, port: number, everyMs: number, holdMs: number): Promise<ChurnClient> {
  const child: ChildProcess = spawn(process.execPath, ['-e', CHURN_SCRIPT, host, String(port), String(everyMs), String(holdMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let buf = '';
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  child.stdout?.on('data', (c: Buffer) => {
    buf += c.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const m = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
      buf = buf.slice(nl + 1);
      waiters.shift()?.(m);
    }
  });
  const next = (): Promise<Record<string, unknown>> => new Promise((r) => waiters.push(r));
  return next().then((ready) => ({
    pid: Number(ready.pid),
    async stop() {
      const done = next();
      child.stdin?.write('stop\n');
      return Number((await done).opened);
    },
    kill() {
      child.kill('SIGKILL');
    },
  }));
}
