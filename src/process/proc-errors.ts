import { SockwatchError, noSuchProcess } from '../errors';

/** The errno name of a Node fs error (ENOENT, EACCES, ...), or undefined for anything else. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const code = (e as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** /proc answers ENOENT (and ESRCH for some files) once a process is gone, also mid-read. */
export function isGoneError(e: unknown): boolean {
  const code = errnoCode(e);
  return code === 'ENOENT' || code === 'ESRCH';
}

export function isPermissionError(e: unknown): boolean {
  const code = errnoCode(e);
  return code === 'EACCES' || code === 'EPERM';
}

/**
 * Maps a failed /proc read for `pid` to the expected-failure value; anything other than "gone"
 * becomes io_error naming the path, so the CLI still prints one line instead of a stack.
 */
export function procReadError(e: unknown, pid: number, path: string): SockwatchError {
  if (e instanceof SockwatchError) return e;
  if (isGoneError(e)) return noSuchProcess(pid);
  const message = e instanceof Error ? e.message : String(e);
  return new SockwatchError('io_error', `cannot read ${path}: ${message}`, undefined, { cause: e });
}
