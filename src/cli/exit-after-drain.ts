import { stdoutFailure } from './stdout-gone';

/**
 * How long the exit waits for a reader that takes nothing at all. A slow reader (`| (sleep 2;
 * wc -l)`, a pager) gets everything as long as it keeps reading; one that stopped for good must
 * not keep the process alive forever. A second Ctrl-C ends the wait at once (nothing handles
 * signals any more by then).
 */
export const STDOUT_STALL_MS = 60_000;
const CHECK_MS = 20;

let exiting: Promise<never> | undefined;
let exitCode = 0;

/**
 * process.exit() drops whatever stdout and stderr still hold in memory when their reader is
 * slower than we are (a pipe holds 64 KiB). So every exit goes through here: wait until both are
 * written out, then exit. A stdout write error other than EPIPE turns the exit status into 1 and
 * is said in one line. Calling it again while waiting only raises the code.
 */
export function exitAfterDrain(code: number): Promise<never> {
  exitCode = Math.max(exitCode, code);
  exiting ??= drainThenExit();
  return exiting;
}

async function drainThenExit(): Promise<never> {
  // A failed write reports its error from process.nextTick, which runs only after the promise
  // jobs that brought us here: let it arrive before deciding the exit status.
  await new Promise((r) => setImmediate(r));
  const left = await drained(process.stdout);
  const failure = left > 0 ? `stdout's reader took nothing for ${STDOUT_STALL_MS / 1000} s; ${left} bytes not delivered` : stdoutFailure();
  if (failure !== undefined) {
    process.stderr.write(`sockwatch: ${failure}\n`);
    exitCode = Math.max(exitCode, 1);
  }
  await drained(process.stderr);
  process.exit(exitCode);
}

/**
 * Resolves with 0 once `s` holds no unwritten bytes (its write callbacks have all run) or it is
 * destroyed (EPIPE, or another error, recorded by stdout-gone.ts); with the bytes left when it
 * made no progress for STDOUT_STALL_MS. Polled: 'drain' comes only after a write() returned false.
 */
function drained(s: NodeJS.WriteStream): Promise<number> {
  return new Promise((resolve) => {
    let last = s.writableLength;
    let progressAt = Date.now();
    const check = (): void => {
      const left = s.writableLength;
      if (s.destroyed || left === 0) return resolve(0);
      if (left < last) progressAt = Date.now();
      else if (Date.now() - progressAt >= STDOUT_STALL_MS) return resolve(left);
      last = left;
      setTimeout(check, CHECK_MS);
    };
    check();
  });
}
