// The netlink source: the procfs source's data plus tcp_info (bytes, rtt, idle times, cookie).
// sock_diag answers for the network namespace of the socket that asks, so it only sees the
// target's sockets when the target lives in ours; otherwise we refuse instead of returning an
// empty, misleading list.

import { readlinkSync } from 'node:fs';
import { SockwatchError, noSuchProcess } from '../../errors';
import type { Connection, Snapshot, StateFilter } from '../../model';
import { readProcessInfo } from '../../process/process-info';
import { isGoneError } from '../../process/proc-errors';
import { readSocketInodes } from '../procfs/fd-inodes';
import type { Source } from '../source';
import { rowToConnection } from './inet-diag-connection';
import { decodeInetDiag, type InetDiagRow } from './inet-diag-decode';
import { buildInetDiagDumpRequest, stateMask, type InetFamily } from './inet-diag-request';
import { SockDiagSocket, type NetlinkDumpOptions } from './netlink-socket';
import { AF_INET, AF_INET6 } from './sock-diag-constants';

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
 * Dump one family's TCP sockets in `states` (a stateMask) and decode the rows whose inode is wanted.
 * The dump is the whole host's table in those states; the inode set keeps decoding cheap.
 */
export async function dumpTcp(
  socket: SockDiagSocket,
  family: InetFamily,
  states: number,
  wantedInodes?: ReadonlySet<number>,
): Promise<InetDiagRow[]> {
  const chunks = await socket.dump(buildInetDiagDumpRequest({ family, states }));
  const decoded = wantedInodes ? decodeInetDiag(chunks, { wantedInodes }) : decodeInetDiag(chunks);
  if (decoded.errno !== undefined) {
    throw new SockwatchError('io_error', `netlink sock_diag dump failed: errno ${decoded.errno}`);
  }
  if (decoded.problem !== undefined || !decoded.done) {
    throw new SockwatchError('io_error', `malformed netlink sock_diag reply: ${decoded.problem ?? 'no NLMSG_DONE'}`);
  }
  return decoded.rows;
}

export async function createNetlinkSource(pid: number, opts: NetlinkDumpOptions = {}): Promise<Source> {
  checkSameNetNamespace(pid);
  const socket = new SockDiagSocket(opts);

  async function snapshot(states: StateFilter): Promise<Snapshot> {
    const [proc, inodeToFd] = await Promise.all([readProcessInfo(pid), readSocketInodes(pid)]);
    const mask = stateMask(states);
    const connections: Connection[] = [];
    if (inodeToFd.size > 0 && mask !== 0) {
      const wanted = new Set(inodeToFd.keys());
      // One dump at a time: the socket serializes anyway, and IPv4 first keeps fd order stable.
      for (const family of [AF_INET, AF_INET6] as const) {
        for (const row of await dumpTcp(socket, family, mask, wanted)) {
          const conn = rowToConnection(row, inodeToFd.get(row.inode));
          if (conn) connections.push(conn);
        }
      }
      connections.sort((a, b) => (a.fd ?? 0) - (b.fd ?? 0));
    }
    return { process: proc, source: 'netlink', connections };
  }

  return {
    name: 'netlink',
    snapshot,
    close: () => socket.close(),
  };
}

/**
 * For the CLI's source auto-selection: true when the netlink source would work for PID (same
 * network namespace, addon loads, the kernel answers a LISTEN-only dump). Never throws.
 */
export async function canUseNetlink(pid: number): Promise<boolean> {
  let socket: SockDiagSocket | undefined;
  try {
    checkSameNetNamespace(pid);
    socket = new SockDiagSocket({ timeoutMs: 1000 });
    await dumpTcp(socket, AF_INET, stateMask(new Set(['LISTEN'])), new Set());
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
