// One snapshot of a process through the fd-socket iterator (fd-socket-iterator.ts): what the
// process holds, read from its own descriptor table in the kernel, at a cost that follows the
// process's size and not the host's (no readlink per descriptor, no dump of every socket on the
// host). Root only, Linux 6.1+ with BTF: the fast `snapshot PID` tries it first for the table and
// CSV (JSON prints tcp_info, which the netlink path reads) and takes the netlink path otherwise.
import { stateMatches, type Connection, type Snapshot, type StateFilter } from '../../model';
import { readConsistently, watchProcess } from '../../process/watched-process';
import { inFdOrder } from '../netlink/in-fd-order';
import { iterateFdSockets } from './fd-socket-iterator';

/**
 * Rejects with the process's own errors (no_such_process, permission_denied: SockwatchErrors)
 * as the netlink path would, and with a plain Error when the iterator cannot run here.
 */
export async function iteratorOneShot(pid: number, states: StateFilter): Promise<Snapshot> {
  const target = await watchProcess(pid);
  const connections = await readConsistently(
    target,
    () => connectionsOf(pid, states),
    () => undefined,
  );
  return { process: target.info, source: 'ebpf', connections };
}

async function connectionsOf(pid: number, states: StateFilter): Promise<Connection[]> {
  const all = await iterateFdSockets(pid);
  // in fd order already, unless threads with tables of their own were walked one after another
  return inFdOrder(states === 'all' ? all : all.filter((c) => stateMatches(states, c.state)));
}
