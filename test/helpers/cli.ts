// Runs the real CLI (bin/sockwatch.js) as a child process, the way a user would: after `npm run
// build` that is the esbuild bundle (test/integration/cli-bundle.test.ts checks it is).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const CLI = path.join(__dirname, '..', '..', '..', 'bin', 'sockwatch.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  /** stdout so far */
  stdout(): string;
  /** stderr so far */
  stderr(): string;
  result: Promise<CliResult>;
  /** resolves when stdout (or stderr) contains a line matching `re` */
  waitFor(re: RegExp, timeoutMs?: number, stream?: 'stdout' | 'stderr'): Promise<string>;
}

export function startCli(args: string[], opts: SpawnOptions = {}): RunningCli {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString('utf8');
    for (const w of watchers) w();
  });
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString('utf8');
    for (const w of watchers) w();
  });
  const result = new Promise<CliResult>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err })),
  );
  const waitFor = (re: RegExp, timeoutMs = 10_000, stream: 'stdout' | 'stderr' = 'stdout'): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const line = (stream === 'stdout' ? out : err).split('\n').find((l) => re.test(l));
        if (line !== undefined) {
          done();
          resolve(line);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${re} in ${stream}:\n${out}\nstderr:\n${err}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        watchers.delete(check);
      };
      watchers.add(check);
      check();
    });
  return { child, stdout: () => out, stderr: () => err, result, waitFor };
}

/** Runs to the end, killing the CLI if it outlives `timeoutMs`. */
export async function runCli(args: string[], opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<CliResult> {
  const running = startCli(args, opts);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), opts.timeoutMs ?? 20_000);
  try {
    return await running.result;
  } finally {
    clearTimeout(timer);
  }
}

export function ndjson(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A zombie (killed, not yet reaped by whoever inherited it) counts as gone. */
export function processAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it holds; fails naming `what` after `timeoutMs`. A test waits for what it asserts. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  for (const until = Date.now() + timeoutMs; !check(); await sleep(20)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
  }
}
