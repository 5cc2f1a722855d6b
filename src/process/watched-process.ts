import { noSuchProcess } from '../errors';
import type { ProcessInfo } from '../model';
import { readProcessIdentity, readProcStat, validatePid, type ProcessIdentity } from './process-info';
import { procReadError } from './proc-errors';

/**
 * The process a source watches, followed by PID. When the PID is found held by another process
 * (the start time changed: the target exited and the kernel gave its PID to a new one between two
 * polls), the source must answer for the new process, with the new start time: that is how the
 * tracker tells "exited" from "exited, and its PID was reused" (exit reason pid_reused). Treating
 * the change as "no such process" made pid_reused unreachable.
 */
export class WatchedProcess {
  private current: ProcessIdentity;

  constructor(
    readonly pid: number,
    first: ProcessIdentity,
    /** how to read the identity again (tests pass a fake) */
    private readonly read: (pid: number) => Promise<ProcessIdentity> = readProcessIdentity,
    private readonly readStartTicks: (pid: number) => Promise<number> = async (p) => (await readProcStat(p)).startTicks,
  ) {
    this.current = first;
  }

  get info(): ProcessInfo {
    return { ...this.current.info };
  }

  get startTicks(): number {
    return this.current.startTicks;
  }

  /**
   * 'same' while the PID still holds the process last seen; 'replaced' when another process holds
   * it now (info and startTicks then describe the new one: the caller drops what it cached and
   * reads again). Rejects with no_such_process when nothing (or a zombie) holds it.
   */
  async check(): Promise<'same' | 'replaced'> {
    if ((await this.readStartTicks(this.pid)) === this.current.startTicks) return 'same';
    this.current = await this.read(this.pid);
    return 'replaced';
  }
}

/**
 * Runs `attempt` until the process it read is still the one watched afterwards. A PID replaced
 * more than `maxReplacements` times within one snapshot is not followed further.
 */
export async function readConsistently<T>(watched: WatchedProcess, attempt: () => Promise<T>, onReplaced: () => void | Promise<void>, maxReplacements = 3): Promise<T> {
  for (let n = 0; ; n++) {
    const result = await attempt();
    if ((await watched.check()) === 'same') return result;
    await onReplaced();
    if (n >= maxReplacements) throw noSuchProcess(watched.pid);
  }
}

/**
 * What every /proc-based source does first: check the PID and read who holds it. Rejects with
 * invalid_argument, no_such_process, permission_denied, or io_error naming the file.
 */
export async function watchProcess(pid: number): Promise<WatchedProcess> {
  validatePid(pid);
  const identity = await readProcessIdentity(pid).catch((e: unknown) => {
    throw procReadError(e, pid, `/proc/${pid}/stat`);
  });
  return new WatchedProcess(pid, identity);
}
