// systeminformation lists the host's sockets with `netstat -tunap` or `ss -tunap`, which name a
// socket's process only when they may read that process's /proc/PID/fd, and which see only their
// own network namespace. Where either fails the target's sockets are silently absent from the
// list, and the watch would report "0 TCP connections" as if that were true; refuse instead.
import { readdirSync } from 'node:fs';
import { SockwatchError } from '../../errors';
import { isPermissionError, procReadError } from '../../process/proc-errors';
import { permissionDeniedFor } from '../../process/process-info';
import { netNamespaceOf } from '../../process/net-namespace';

/** Linux only. Rejects with permission_denied, not_supported (other namespace) or no_such_process. */
export async function checkSysinfoCanSee(pid: number): Promise<void> {
  const fdDir = `/proc/${pid}/fd`;
  try {
    readdirSync(fdDir);
  } catch (e) {
    if (isPermissionError(e)) throw await permissionDeniedFor(pid);
    throw procReadError(e, pid, fdDir);
  }
  let theirs: string;
  let ours: string;
  try {
    theirs = netNamespaceOf(pid);
    ours = netNamespaceOf('self');
  } catch (e) {
    if (e instanceof SockwatchError) throw e;
    throw new SockwatchError('not_supported', `the systeminformation source cannot tell which network namespace PID ${pid} is in (${e instanceof Error ? e.message : String(e)}); use --source procfs`);
  }
  if (theirs !== ours) {
    throw new SockwatchError(
      'not_supported',
      `the systeminformation source sees only sockwatch's network namespace (PID ${pid} is in another one); use --source procfs`,
    );
  }
}
