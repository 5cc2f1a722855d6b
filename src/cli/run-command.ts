// `sockwatch run [watch options] -- CMD [ARGS…]`: start CMD (no shell) and watch it and its
// descendants from before its first connection. The watch's start is taken before the spawn, so
// nothing CMD holds is preexisting; the watch ends when CMD exits and sockwatch exits with CMD's
// status (128 + the signal's number when a signal killed it).
//
// Signals: CMD runs in its own process group, so a Ctrl-C on the terminal reaches sockwatch only,
// which forwards it (SIGINT, SIGTERM, SIGHUP) to CMD; a second signal kills CMD. When the watch
// ends first (q, --duration, stdout gone), CMD gets SIGTERM, then SIGKILL if it lingers.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { WatchArgs } from './watch-args';
import { runWatch } from './watch-command';
import { watchStartTime } from '../process/process-info';
import { SockwatchError, isSockwatchError } from '../errors';
import { checkWritableDir, createNewFile } from '../views/output/safe-file';

/** how long CMD may take to exit after the SIGTERM sent when the watch ended first */
export const TERM_GRACE_MS = 3_000;
/** How long a watch that found CMD gone waits for CMD's exit status to arrive. */
const EXIT_NEWS_MS = 2_000;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** the shell's convention: the exit code, or 128 + the number of the signal that killed it */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal === null ? undefined : os.constants.signals[signal];
  return n === undefined ? 1 : 128 + n;
}

/** the log's name without `.log`: predictable to the second, so it is only ever created anew */
function logStem(cmd: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-');
  const base = path.basename(cmd).replace(/[^\w.-]/g, '_') || 'cmd';
  return `sockwatch-run-${base}-${stamp}`;
}

/** CMD's output may hold what only its owner should read. */
const LOG_MODE = 0o600;

export async function runCommand(cmd: readonly string[], a: WatchArgs): Promise<number> {
  const [file, ...args] = cmd;
  if (file === undefined || file === '') throw new SockwatchError('invalid_argument', 'run needs a command: sockwatch run [options] -- CMD [ARGS...]');
  if (a.exportDir !== undefined) checkWritableDir(a.exportDir, '--export-dir');
  // The same test as the watch's: on a terminal the full-screen view owns it.
  const onTerminal = a.tui && Boolean(process.stdout.isTTY) && Boolean(process.stdin.isTTY) && !a.json;
  let logFile: string | undefined;
  let logFd: number | undefined;
  if (onTerminal) {
    // A new file (O_EXCL, links not followed): a name taken, even by a planted link, gets a suffix.
    ({ fd: logFd, file: logFile } = createNewFile(path.resolve(a.exportDir ?? process.cwd()), logStem(file), '.log', LOG_MODE));
  }
  // CMD's stdout and stderr: the log on a terminal, else sockwatch's stderr (stdout may be NDJSON).
  const stdio: StdioOptions = [process.stdin.isTTY ? 'ignore' : 'inherit', logFd ?? 2, logFd ?? 2];

  const watchStart = watchStartTime();
  let child: ChildProcess;
  try {
    child = spawn(file, args, { stdio, detached: true });
  } finally {
    if (logFd !== undefined) fs.closeSync(logFd);
  }
  let status: number | undefined;
  // status is set in the exit callback itself, not in a promise continuation: a watch failing
  // because CMD is gone must find it set
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => {
      status = exitStatus(code, signal);
      resolve(status);
    }),
  );
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (e: NodeJS.ErrnoException) => reject(new SockwatchError('invalid_argument', `cannot run ${JSON.stringify(file)}: ${e.code === 'ENOENT' ? 'command not found' : (e.code ?? e.message)}`, e.code === 'ENOENT' ? 127 : 126))),
  );
  spawnError.catch(() => undefined);
  if (child.pid === undefined) return spawnError;
  const pid = child.pid;

  let signals = 0;
  const forward = (sig: NodeJS.Signals): void => {
    signals++;
    if (status !== undefined) return;
    try {
      child.kill(signals === 1 ? sig : 'SIGKILL');
    } catch {
      // already gone
    }
  };
  for (const s of SIGNALS) process.on(s, forward);
  const info = logFile !== undefined ? `CMD (PID ${pid}) output → ${logFile}` : `running PID ${pid}: ${[file, ...args].join(' ')} (its output on stderr)`;
  try {
    try {
      await runWatch({ pids: [pid], children: true }, a, { watchStart, commandExit: exited, callerHandlesSignals: true, info });
    } catch (e) {
      // CMD gone before the first poll: its status is the answer. The watch may notice the
      // process gone (its /proc entry reaped) a moment before the exit reaches us.
      if (status === undefined && isSockwatchError(e) && e.code === 'no_such_process') await Promise.race([exited, delay(EXIT_NEWS_MS, undefined, { ref: false })]);
      if (status === undefined) throw e;
      process.stderr.write(`sockwatch: ${file} exited before the first poll\n`);
    }
    if (status === undefined) {
      // The watch ended first (q, --duration, stdout gone): CMD does not outlive it.
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), TERM_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    return await exited;
  } finally {
    for (const s of SIGNALS) process.removeListener(s, forward);
    if (status === undefined) child.kill('SIGKILL');
  }
}
