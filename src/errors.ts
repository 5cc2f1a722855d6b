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
  constructor(code: ErrorCode, message: string, exitCode = code === 'invalid_argument' ? 2 : 1) {
    super(message);
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
