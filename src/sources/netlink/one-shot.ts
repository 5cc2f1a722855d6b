// One netlink snapshot for `sockwatch snapshot`, without the poller's caches: the fd table, one
// dump of the asked states, and tcp_info only when the output prints it.
import { stateMatches, type Connection, type Snapshot, type StateFilter } from '../../model';
import { readProcessIdentity, validatePid } from '../../process/process-info';
import { procReadError } from '../../process/proc-errors';
import { WatchedProcess, readConsistently } from '../../process/watched-process';
import { FdSocketTable } from '../procfs/fd-socket-table';
import { BOTH_FAMILIES, FamilyDumper, dumpTcp } from './dump-tcp';
import { rowToConnection } from './inet-diag-connection';
import type { InetDiagRow } from './inet-diag-decode';
import { inFdOrder } from './in-fd-order';
import { stateMask } from './inet-diag-request';
import type { KnownSockets } from './known-sockets';
import { checkSameNetNamespace } from './netlink-availability';
import { openSockDiagSocket } from './open-sock-diag';

export interface OneShotOptions {
  /** read tcp_info (connection.tcp, exact retransmits): only JSON prints it */
  tcpInfo: boolean;
}

/**
 * The target's connections in `states`, in fd order, read once. Unlike the poller's first poll
 * (NetlinkSource), the dump asks the kernel only for the states wanted: a one-shot learns nothing
 * for later, so sockets in other states are not worth sending. tcp_info is read, by exact lookups
 * of the target's sockets (or one port-filtered dump for a large target: KnownSockets), only when
 * asked: the dump itself never carries it, since the host's tcp_info is most of a dump's cost.
 *
 * Rejects like NetlinkSource: not_supported when the target is in another network namespace or
 * netlink cannot be opened (callers fall back to procfs), no_such_process, permission_denied.
 */
export async function netlinkOneShot(pid: number, states: StateFilter, opts: OneShotOptions): Promise<Snapshot> {
  validatePid(pid);
  checkSameNetNamespace(pid);
  const identity = await readProcessIdentity(pid).catch((e: unknown) => {
    throw procReadError(e, pid, `/proc/${pid}/stat`);
  });
  const target = new WatchedProcess(pid, identity);
  const socket = openSockDiagSocket();
  const dumper = new FamilyDumper(socket);
  // loaded only for tcp_info: the table and CSV never need it
  const known = opts.tcpInfo ? new (require('./known-sockets') as typeof import('./known-sockets')).KnownSockets(dumper, { openSocket: openSockDiagSocket }) : undefined;
  try {
    const connections = await readConsistently(
      target,
      () => readOnce(pid, states, dumper, known),
      () => checkSameNetNamespace(pid),
    );
    return { process: target.info, source: 'netlink', connections };
  } finally {
    known?.close();
    socket.close();
  }
}

async function readOnce(pid: number, states: StateFilter, dumper: FamilyDumper, known: KnownSockets | undefined): Promise<Connection[]> {
  const inodeToFd = await new FdSocketTable(pid).scan();
  if (inodeToFd.size === 0) return [];
  const dumped = await dumpTcp(dumper, BOTH_FAMILIES, { states: stateMask(states), extensions: 0 }, inodeToFd);
  let rows = dumped.rows;
  if (known !== undefined && rows.length > 0) {
    known.replaceWith(rows, dumped.tableSize);
    // as in the poller's first poll: a failed lookup leaves the rows without tcp_info
    // the dump's rows lend the lookups their decoded addresses, cookie and sockId
    const refresh = await known.refresh(new Map<number, InetDiagRow>(rows.map((r) => [r.inode, r]))).catch(() => undefined);
    if (refresh) rows = known.withTcpInfo(rows, refresh, inodeToFd);
  }
  const connections: Connection[] = [];
  for (const row of rows) {
    const conn = rowToConnection(row, inodeToFd.get(row.inode));
    // an exact lookup answers whatever state the socket is in now
    if (conn && stateMatches(states, conn.state)) connections.push(conn);
  }
  return inFdOrder(connections);
}
