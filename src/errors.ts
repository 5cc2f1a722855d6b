// Expected failures are values with a one-line message; the CLI prints the message and exits
// with `exitCode`, never a stack trace.

export type ErrorCode =
  | 'no_such_process'
  | 'permission_denied'
  | 'not_supported'
  | 'invalid_argument'
  | 'io_error';

export class SockwatchError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  /** `options.cause`: the system error behind it, kept so that isOutOfDescriptors can see its errno */
  constructor(code: ErrorCode, message: string, exitCode = code === 'invalid_argument' ? 2 : 1, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SockwatchError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

export function noSuchProcess(pid: number): SockwatchError {
  return new SockwatchError('no_such_process', `no process with PID ${pid}`);
}

export function permissionDenied(pid: number, owner: string): SockwatchError {
  return new SockwatchError(
    'permission_denied',
    owner === 'root'
      ? `permission denied reading the sockets of PID ${pid} (owned by root): run sockwatch as root`
      : `permission denied reading the sockets of PID ${pid} (owned by ${owner}): run sockwatch as ${owner} or as root`,
  );
}

export function isSockwatchError(e: unknown): e is SockwatchError {
  return e instanceof SockwatchError;
}

/**
 * EMFILE/ENFILE, on the error or on a cause it wraps: the process (or the system) is out of file
 * descriptors for now. A poll that fails so is transient: descriptors free up as the clients that
 * hold them go (the metrics endpoint's idle timeouts), so the watch retries instead of ending.
 */
export function isOutOfDescriptors(e: unknown): boolean {
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 'EMFILE' || code === 'ENFILE') return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
