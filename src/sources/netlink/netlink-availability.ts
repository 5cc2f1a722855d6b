// sock_diag answers for the network namespace of the socket that asks, so it only sees the
// target's sockets when the target lives in ours; otherwise we refuse instead of returning an
// empty, misleading list.
import { readlinkSync } from 'node:fs';
import { SockwatchError, noSuchProcess } from '../../errors';
import { isGoneError } from '../../process/proc-errors';
import { FamilyDumper, dumpTcp } from './dump-tcp';
import { stateMask } from './inet-diag-request';
import { openSockDiagSocket } from './open-sock-diag';
import type { SockDiagRequests } from './sock-diag-requests';
import { AF_INET } from './sock-diag-constants';

/** Rejects unless PID shares our network namespace; no_such_process when PID does not exist. */
export function checkSameNetNamespace(pid: number): void {
  let ours: string;
  let theirs: string;
  try {
    ours = readlinkSync('/proc/self/ns/net');
  } catch (e) {
    throw new SockwatchError('not_supported', `netlink source cannot read sockwatch's network namespace (${errText(e)}); use --source procfs`);
  }
  try {
    theirs = readlinkSync(`/proc/${pid}/ns/net`);
  } catch (e) {
    if (isGoneError(e)) throw noSuchProcess(pid);
    throw new SockwatchError(
      'not_supported',
      `netlink source cannot tell which network namespace PID ${pid} is in (${errText(e)}); use --source procfs`,
    );
  }
  if (ours !== theirs) {
    throw new SockwatchError(
      'not_supported',
      `netlink source needs the target in sockwatch's network namespace (PID ${pid} is in another one); use --source procfs`,
    );
  }
}

/**
 * For the CLI's source auto-selection: true when the netlink source would work for PID (same
 * network namespace, koffi loads, the kernel answers a LISTEN-only dump). Never throws.
 */
export async function canUseNetlink(pid: number): Promise<boolean> {
  let socket: SockDiagRequests | undefined;
  try {
    checkSameNetNamespace(pid);
    socket = openSockDiagSocket({ timeoutMs: 1000 });
    await dumpTcp(new FamilyDumper(socket), new Set([AF_INET]), { states: stateMask(new Set(['LISTEN'])), extensions: 0 }, new Set());
    return true;
  } catch {
    return false;
  } finally {
    socket?.close();
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
