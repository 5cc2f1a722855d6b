// Python's http.server and http.client started for integration tests, each able to say what it
// did, and a generic way to start a program and read its lines. Everything listens on 127.0.0.1
// port 0; every process started here is stopped by stopRealHttp(). nginx and the Go client have
// their own harnesses (nginx.ts, go-client.ts); tools are found by real-tools.ts.

import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { GoClient, GoDone } from './go-client';
import { pythonPath } from './real-tools';

export const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/real');

const children = new Set<ChildProcess>();

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

export function start(cmd: string, args: string[], env?: NodeJS.ProcessEnv, user?: { uid: number; gid: number }): Program {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env, ...(user ? { uid: user.uid, gid: user.gid } : {}) });
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

/** Stops every process started here. */
export async function stopRealHttp(): Promise<void> {
  const all = [...children];
  for (const c of all) c.kill('SIGKILL');
  await Promise.all(all.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('close', r)))));
}

// ---- Python's http.server ---------------------------------------------------------------------

export interface PythonServer {
  program: Program;
  port: number;
  /** requests the server answered, by client port (its own report) */
  requestsByClientPort(): Map<number, number>;
  /** resolves once the server has reported `n` answered requests (its log line follows the answer) */
  served(n: number, timeoutMs?: number): Promise<void>;
}

/** `user`: run it as that user (sockwatch watching it as the same user needs no root) */
export async function startPythonServer(user?: { uid: number; gid: number }): Promise<PythonServer> {
  const program = start(pythonPath(), [path.join(FIXTURES, 'http-server.py')], undefined, user);
  const port = Number(await program.line(/^\d+$/));
  const requestsByClientPort = (): Map<number, number> => {
    const m = new Map<number, number>();
    for (const l of program.lines()) {
      const r = /^request (\d+)$/.exec(l);
      if (r) m.set(Number(r[1]), (m.get(Number(r[1])) ?? 0) + 1);
    }
    return m;
  };
  const served = async (n: number, timeoutMs = 10_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    const count = (): number => program.lines().filter((l) => /^request \d+$/.test(l)).length;
    while (count() < n) {
      if (Date.now() > deadline) throw new Error(`the server reported ${count()} of ${n} requests within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { program, port, requestsByClientPort, served };
}

// ---- what a client reports ----------------------------------------------------------------------

export interface ClientReport {
  requests: number;
  /** requests carried, by the connection's local port */
  byLocalPort: Map<number, number>;
}

/** The Go client's own report: its request count, and the connection (local port) of each request. */
export function goClientReport(client: GoClient, done: GoDone): ClientReport {
  const byLocalPort = new Map<number, number>();
  for (const r of client.requests) byLocalPort.set(r.localPort, (byLocalPort.get(r.localPort) ?? 0) + 1);
  return { requests: done.requests, byLocalPort };
}

/** The Python client's own report: {"requests": n, "localPort": p} */
export function parsePythonReport(line: string): ClientReport {
  const j = JSON.parse(line) as { requests: number; localPort: number };
  return { requests: j.requests, byLocalPort: new Map([[j.localPort, j.requests]]) };
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
