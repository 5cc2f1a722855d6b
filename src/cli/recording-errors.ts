// replay and report read a file anyone may have forged. Whatever such a file makes go wrong past the
// checks (a RangeError from a size no check foresaw, a stack overflow) is still a failure to read
// that file, not a crash of sockwatch: one line naming the file and the error, exit 1.
import { SockwatchError, isSockwatchError } from '../errors';

export async function oneLineErrors<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (isSockwatchError(e)) throw e;
    const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new SockwatchError('io_error', `${what}: ${text.split('\n')[0]}`);
  }
}
