import { errorReason } from '../views/output/safe-file';

// What to do when stdout fails. A reader that goes away (`sockwatch watch … | head`, EPIPE) is a
// normal end: exit 0. Any other error (`> /dev/full`: ENOSPC, EIO) is a failure: one line on
// stderr and exit 1, said by the exit in exit-after-drain.ts. By default the process exits at
// once; a watch registers a graceful stop instead, so its recording still ends with `summary`.
let handler: (() => void) | undefined;
let failure: NodeJS.ErrnoException | undefined;

export function onStdoutGone(h: (() => void) | undefined): void {
  handler = h;
}

export function installStdoutGone(exit: (code: number) => void): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    // Anything written after the exit began ending the stream is dropped on purpose.
    if (e.code === 'ERR_STREAM_WRITE_AFTER_END' || e.code === 'ERR_STREAM_DESTROYED') return;
    if (e.code !== 'EPIPE') failure ??= e;
    if (handler) handler();
    else exit(e.code === 'EPIPE' ? 0 : 1);
  });
  // Nowhere is left to report a stderr failure; the exit status still tells. Without a listener
  // the error would be thrown, with a stack trace, into whatever wrote.
  process.stderr.on('error', () => undefined);
}

/** After an error the stream is destroyed; writing again would only raise the error again. */
export function stdoutOpen(): boolean {
  return !process.stdout.destroyed;
}

/** The one line to print for a stdout write error other than EPIPE, if there was one. */
export function stdoutFailure(): string | undefined {
  return failure ? `cannot write to stdout: ${errorReason(failure)}` : undefined;
}
