// Real HTTP software nobody here wrote, started for integration tests, each able to say what it
// did: Python's http.server and http.client, a Go net/http client, nginx, ab. Everything listens
// on 127.0.0.1 port 0; every process started here is stopped by stopRealHttp().
// A missing tool throws an Error naming the Debian package to install: the test fails, loudly.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/real');

const PACKAGE: Record<string, string> = {
  python3: 'python3',
  go: 'golang-go',
  nginx: 'nginx-light',
  ab: 'apache2-utils',
  curl: 'curl',
};

/** The tool's path, looked up in PATH and the sbin directories (nginx lives in /usr/sbin). */
export function findTool(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'].filter((d) => d !== '');
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} is missing: install the Debian package ${PACKAGE[name] ?? name} (.ci/run does)`);
}

/** Debian's python3 rather than a version-manager shim, whose PID is a shell for a while. */
export function python(): string {
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : findTool('python3');
}

const children = new Set<ChildProcess>();
const dirs = new Set<string>();

/** A started program and its stdout, line by line. */
export interface Program {
  child: ChildProcess;
  pid: number;
  lines(): string[];
  /** resolves with the first line matching `re` */
  line(re: RegExp, timeoutMs?: number): Promise<string>;
  /** resolves when the process has exited */
  exited: Promise<number | null>;
}

export function start(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Program {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  children.add(child);
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString('utf8');
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      children.delete(child);
      for (const w of waiters) w();
      resolve(code);
    }),
  );
  const lines = (): string[] => out.split('\n').filter((l) => l !== '');
  const line = (re: RegExp, timeoutMs = 15_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const l = lines().find((x) => re.test(x));
        if (l !== undefined) finish(() => resolve(l));
        else if (child.exitCode !== null || child.signalCode !== null) {
          finish(() => reject(new Error(`${cmd} exited (${child.exitCode ?? child.signalCode}) before printing ${re}; stderr:\n${err}`)));
        }
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${cmd}: no line matching ${re} in ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`))), timeoutMs);
      const finish = (f: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        f();
      };
      waiters.add(check);
      check();
    });
  if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
  return { child, pid: child.pid, lines, line, exited };
}

export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.add(d);
  return d;
}

/** Stops every process started here (also nginx's worker) and removes the temporary directories. */
export async function stopRealHttp(): Promise<void> {
  const all = [...children];
  for (const c of all) c.kill('SIGKILL');
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  extraPids.clear();
  await Promise.all(all.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('close', r)))));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

const extraPids = new Set<number>();

// ---- Python's http.server ---------------------------------------------------------------------

export interface PythonServer {
  program: Program;
  port: number;
  /** requests the server answered, by client port (its own report) */
  requestsByClientPort(): Map<number, number>;
}

export async function startPythonServer(): Promise<PythonServer> {
  const program = start(python(), [path.join(FIXTURES, 'http-server.py')]);
  const port = Number(await program.line(/^\d+$/));
  const requestsByClientPort = (): Map<number, number> => {
    const m = new Map<number, number>();
    for (const l of program.lines()) {
      const r = /^request (\d+)$/.exec(l);
      if (r) m.set(Number(r[1]), (m.get(Number(r[1])) ?? 0) + 1);
    }
    return m;
  };
  return { program, port, requestsByClientPort };
}

// ---- the Go net/http client -------------------------------------------------------------------

/** Builds test/fixtures/real/go-client offline (standard library only) into a temporary directory. */
export function buildGoClient(): string {
  const go = findTool('go');
  const dir = tempDir('sockwatch-go-');
  const bin = path.join(dir, 'client');
  const env = {
    ...process.env,
    GOCACHE: path.join(dir, 'cache'),
    GOPATH: path.join(dir, 'gopath'),
    GO111MODULE: 'off', // one file, no go.mod, nothing to download
    GOFLAGS: '',
    GOPROXY: 'off',
    GOTOOLCHAIN: 'local',
  };
  const r = spawnSync(go, ['build', '-o', bin, path.join(FIXTURES, 'go-client', 'main.go')], { env, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`go build failed (${r.status ?? r.signal}): ${r.stderr}`);
  return bin;
}

export interface ClientReport {
  requests: number;
  /** requests carried, by the connection's local port */
  byLocalPort: Map<number, number>;
}

/** The Go client's own report: {"requests": n, "connections": {"127.0.0.1:port": n}} */
export function parseGoReport(line: string): ClientReport {
  const j = JSON.parse(line) as { requests: number; connections: Record<string, number> };
  const byLocalPort = new Map<number, number>();
  for (const [addr, n] of Object.entries(j.connections)) byLocalPort.set(Number(addr.slice(addr.lastIndexOf(':') + 1)), n);
  return { requests: j.requests, byLocalPort };
}

/** The Python client's own report: {"requests": n, "localPort": p} */
export function parsePythonReport(line: string): ClientReport {
  const j = JSON.parse(line) as { requests: number; localPort: number };
  return { requests: j.requests, byLocalPort: new Map([[j.localPort, j.requests]]) };
}

// ---- nginx ------------------------------------------------------------------------------------

export interface Nginx {
  ports: number[];
  workerPid: number;
  prefix: string;
  /** requests per connection from an access log written with log_format `reqs` */
  requestsByClientPort(log: string): Map<number, number>;
}

/**
 * Starts nginx (master and one worker) with `conf`, whose listen ports are @PORT1@, @PORT2@, …
 * and whose access logs use `log_format reqs '$connection $connection_requests $remote_port'`.
 */
export async function startNginx(conf: string): Promise<Nginx> {
  const nginx = findTool('nginx');
  const prefix = tempDir('sockwatch-nginx-');
  fs.mkdirSync(path.join(prefix, 'tmp'));
  fs.writeFileSync(path.join(prefix, 'nginx.conf.in'), conf);
  const master = start(python(), [path.join(FIXTURES, 'nginx-launch.py'), prefix, nginx]);
  const ports = (await master.line(/^\d+( \d+)*$/)).split(' ').map(Number);
  let workerPid: number | undefined;
  for (let i = 0; i < 100 && workerPid === undefined; i++) {
    try {
      const kids = fs.readFileSync(`/proc/${master.pid}/task/${master.pid}/children`, 'utf8').trim();
      if (kids !== '') workerPid = Number(kids.split(/\s+/)[0]);
    } catch {
      break;
    }
    if (workerPid === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  if (workerPid === undefined) throw new Error(`nginx started no worker: ${master.lines().join('\n')}`);
  extraPids.add(workerPid);
  const requestsByClientPort = (log: string): Map<number, number> => {
    // $connection_requests grows along a connection: its last value is the connection's total
    const byConnection = new Map<string, { port: number; requests: number }>();
    for (const l of fs.readFileSync(path.join(prefix, log), 'utf8').split('\n')) {
      const m = /^(\d+) (\d+) (\d+)$/.exec(l);
      if (m) byConnection.set(m[1]!, { requests: Number(m[2]), port: Number(m[3]) });
    }
    return new Map([...byConnection.values()].map((c) => [c.port, c.requests]));
  };
  return { ports, workerPid, prefix, requestsByClientPort };
}

// ---- reading sockwatch's events ---------------------------------------------------------------

interface EventConnection {
  local: { port: number };
  remote: { port: number };
  exchanges?: number;
}

/**
 * The exchanges sockwatch last reported for the connection `match` picks: from its open, state
 * and close events and the summary's live connections, the latest. undefined if never reported.
 */
export function exchangesOf(events: readonly Record<string, unknown>[], match: (c: EventConnection) => boolean): number | undefined {
  let last: number | undefined;
  for (const e of events) {
    const conns = e.type === 'summary' ? ((e.connections as EventConnection[] | undefined) ?? []) : e.connection === undefined ? [] : [e.connection as EventConnection];
    for (const c of conns) if (match(c) && c.exchanges !== undefined) last = c.exchanges;
  }
  return last;
}

/** Within the requirement: ±10 % of the truth, and ±1 below 20. */
export function closeEnough(measured: number | undefined, truth: number): boolean {
  return measured !== undefined && Math.abs(measured - truth) <= Math.max(1, truth * 0.1);
}
