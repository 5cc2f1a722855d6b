import { readlinkSync } from 'node:fs';
import { procReadError } from './proc-errors';

/**
 * The network namespace PID lives in ("net:[4026531840]"). Rejects with no_such_process when PID
 * is gone; EACCES (another user's process, not root) is left to the caller to word.
 */
export function netNamespaceOf(pid: number | 'self'): string {
  const path = `/proc/${pid}/ns/net`;
  try {
    return readlinkSync(path);
  } catch (e) {
    if (pid !== 'self' && procReadError(e, pid, path).code === 'no_such_process') throw procReadError(e, pid, path);
    throw e;
  }
}
