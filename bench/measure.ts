// Timing helpers: in-process polls (process.cpuUsage: all threads of this process) and child
// commands (wall from hrtime around the run; CPU and peak RSS from /usr/bin/time, which reads
// the child's rusage — its own children included).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Sample {
  wallMs: number;
  cpuMs: number;
}

export interface Summary {
  /** medians */
  wallMs: number;
  cpuMs: number;
  /** means (for polls: amortized over the rescan policy) */
  meanWallMs: number;
  meanCpuMs: number;
  maxRssKiB?: number;
  runs: number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

export function summarize(samples: readonly Sample[], rss?: readonly number[]): Summary {
  const s: Summary = {
    wallMs: median(samples.map((x) => x.wallMs)),
    cpuMs: median(samples.map((x) => x.cpuMs)),
    meanWallMs: mean(samples.map((x) => x.wallMs)),
    meanCpuMs: mean(samples.map((x) => x.cpuMs)),
    runs: samples.length,
  };
  if (rss && rss.length > 0) s.maxRssKiB = Math.max(...rss);
  return s;
}

export async function timeInProcess(fn: () => Promise<unknown>): Promise<Sample> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await fn();
  const c = process.cpuUsage(c0);
  return { wallMs: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: (c.user + c.system) / 1000 };
}

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

export interface CommandResult extends Sample {
  rssKiB?: number;
  status: number | null;
  stdoutBytes: number;
}

/** Runs a command to completion, output discarded (counted). CPU is NaN without /usr/bin/time. */
export function timeCommand(cmd: string, args: readonly string[], timeoutMs = 60_000): CommandResult {
  const argv = TIME ? ['-f', '@@time %U %S %M', cmd, ...args] : [...args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(TIME ?? cmd, argv, { maxBuffer: 256 * 1024 * 1024, timeout: timeoutMs });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  let cpuMs = Number.NaN;
  let rssKiB: number | undefined;
  const m = /@@time ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr?.toString() ?? '');
  if (m) {
    cpuMs = (Number(m[1]) + Number(m[2])) * 1000;
    rssKiB = Number(m[3]);
  }
  const res: CommandResult = { wallMs, cpuMs, status: r.status, stdoutBytes: r.stdout?.length ?? 0 };
  if (rssKiB !== undefined) res.rssKiB = rssKiB;
  return res;
}

export function hasCommand(cmd: string): boolean {
  return ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].some((d) => existsSync(`${d}/${cmd}`));
}

export function repeatCommand(cmd: string, args: readonly string[], runs: number): { summary: Summary; last: CommandResult } {
  const results: CommandResult[] = [];
  for (let i = 0; i < runs; i++) results.push(timeCommand(cmd, args));
  const rss = results.flatMap((r) => (r.rssKiB === undefined ? [] : [r.rssKiB]));
  return { summary: summarize(results, rss), last: results[results.length - 1]! };
}

/**
 * Wall ms from spawning `cmd` until its stdout's first line (e.g. `watch --json`'s start event,
 * printed after the first poll); the command is then killed. NaN when no line came in time.
 */
export function timeToFirstLine(cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<number> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let done = false;
    const finish = (ms: number): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve(ms);
    };
    const timer = setTimeout(() => finish(Number.NaN), timeoutMs);
    child.stdout.on('data', (b: Buffer) => {
      if (b.includes(10)) finish(Number(process.hrtime.bigint() - t0) / 1e6);
    });
    child.once('exit', () => finish(Number.NaN));
  });
}
