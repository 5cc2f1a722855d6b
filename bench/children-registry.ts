// Every process the bench starts, so that all of them are stopped on any way out: normal end,
// an error, Ctrl-C, SIGTERM. Children also exit on their own when their stdin closes (the bench
// died without running its handlers), so nothing outlives the bench.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

const children = new Set<ChildProcess>();
let handlersInstalled = false;

function killAll(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  children.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAll();
      process.stderr.write(`bench: ${sig}, children stopped\n`);
      process.exit(130);
    });
  }
}

const PRLIMIT = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p));

/** The hard RLIMIT_NOFILE children inherit. */
export function fdHardLimit(): number {
  try {
    const n = Number(execFileSync('/bin/sh', ['-c', 'ulimit -Hn']).toString().trim());
    return Number.isFinite(n) ? n : Number.POSITIVE_INFINITY; // "unlimited"
  } catch {
    return 1024;
  }
}

let raiseWorks: boolean | undefined;
/**
 * Node cannot raise its own RLIMIT_NOFILE; prlimit (util-linux) does it before exec — where the
 * sandbox grants CAP_SYS_RESOURCE, which root in a container may lack. Tried once.
 */
export function canRaiseFdLimit(): boolean {
  if (raiseWorks === undefined) {
    raiseWorks = false;
    if (PRLIMIT !== undefined) {
      const want = Math.min(1_048_576, fdHardLimit() + 1);
      try {
        execFileSync(PRLIMIT, [`--nofile=${want}:${want}`, 'true'], { stdio: 'ignore' });
        raiseWorks = true;
      } catch {
        raiseWorks = false;
      }
    }
  }
  return raiseWorks;
}

/** The most connections one child can hold (fds for node itself kept aside). */
export function maxFdsPerChild(): number {
  return canRaiseFdLimit() ? 1_048_576 : fdHardLimit() - 200;
}

/** Spawns `node script args` with at least `fds` file descriptors when that can be arranged. */
export function spawnNode(script: string, args: readonly string[], fds: number): ChildProcess {
  installHandlers();
  const cmd = canRaiseFdLimit() ? PRLIMIT! : process.execPath;
  const argv = canRaiseFdLimit() ? [`--nofile=${fds}:${fds}`, process.execPath, script, ...args] : [script, ...args];
  const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Call before starting some children; the function returned stops those (and only those). */
export function stopLater(): () => void {
  const before = new Set(children);
  return () => {
    for (const c of [...children]) {
      if (before.has(c)) continue;
      children.delete(c);
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
  };
}

export function stopAll(): void {
  killAll();
}

/** Resolves with the first stdout line that parses as JSON and passes `accept`. */
export function waitForLine<T>(child: ChildProcess, accept: (v: unknown) => v is T, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => done(new Error(`child ${child.pid} gave no answer in ${timeoutMs} ms`)), timeoutMs);
    const onData = (d: Buffer): void => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let v: unknown;
        try {
          v = JSON.parse(line);
        } catch {
          continue;
        }
        if (accept(v)) {
          done(undefined, v);
          return;
        }
      }
    };
    const onExit = (code: number | null): void => done(new Error(`child ${child.pid} exited (${code}) before answering`));
    function done(err: Error | undefined, v?: T): void {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(v as T);
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}
