// What to do when stdout's reader goes away (`sockwatch watch … | head`): by default exit 0 at
// once; a watch registers a graceful stop instead, so its recording still ends with `summary`.
let handler: (() => void) | undefined;

export function onStdoutGone(h: (() => void) | undefined): void {
  handler = h;
}

export function installStdoutGone(exit: (code: number) => void): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    if (handler) handler();
    else exit(0);
  });
}

/** After EPIPE the stream is destroyed; writing again would only raise the error again. */
export function stdoutOpen(): boolean {
  return !process.stdout.destroyed;
}
