// ApacheBench (`ab`) as a load generator, with the counts it reports about itself.
import { spawn } from 'node:child_process';
import { requireTools } from './real-tools';

export interface AbOptions {
  url: string;
  requests: number;
  concurrency: number;
  /** -k: HTTP keep-alive */
  keepAlive: boolean;
  timeoutMs?: number;
  user?: { uid: number; gid: number };
}

export interface AbReport {
  completeRequests: number;
  failedRequests: number;
  /** "Keep-Alive requests" (ab prints it with -k only; 0 otherwise) */
  keepAliveRequests: number;
  timeTakenMs: number;
  /** wall clock around the run, ms since the epoch */
  startedMs: number;
  endedMs: number;
  stdout: string;
}

/** Parses ab's report; a report missing "Complete requests" is an error (ab failed). */
export function parseAbReport(stdout: string): Omit<AbReport, 'startedMs' | 'endedMs' | 'stdout'> {
  const num = (label: string): number | undefined => {
    const m = new RegExp(`^${label}:\\s+([0-9.]+)`, 'm').exec(stdout);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  };
  const complete = num('Complete requests');
  const taken = num('Time taken for tests');
  if (complete === undefined || taken === undefined) throw new Error(`ab printed no report:\n${stdout}`);
  return {
    completeRequests: complete,
    failedRequests: num('Failed requests') ?? 0,
    keepAliveRequests: num('Keep-Alive requests') ?? 0,
    timeTakenMs: taken * 1000,
  };
}

export interface RunningAb {
  pid: number;
  done: Promise<AbReport>;
}

export function startAb(o: AbOptions): RunningAb {
  const { ab } = requireTools('ab');
  const args = ['-n', String(o.requests), '-c', String(o.concurrency), ...(o.keepAlive ? ['-k'] : []), o.url];
  const startedMs = Date.now();
  const child = spawn(ab, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(o.user ? { uid: o.user.uid, gid: o.user.gid } : {}),
  });
  if (child.pid === undefined) throw new Error('could not start ab');
  let out = '';
  let err = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr?.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
  const done = new Promise<AbReport>((resolve, reject) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const endedMs = Date.now();
      if (code !== 0) {
        reject(new Error(`ab ${args.join(' ')} exited ${String(code ?? signal)}\n${out}\n${err}`));
        return;
      }
      try {
        resolve({ ...parseAbReport(out), startedMs, endedMs, stdout: out });
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
  return { pid: child.pid, done };
}

export function runAb(o: AbOptions): Promise<AbReport> {
  return startAb(o).done;
}
