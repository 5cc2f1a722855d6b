import { existsSync, readFileSync } from 'node:fs';
import { noSuchProcess, permissionDenied, SockwatchError } from '../errors';
import type { ProcessInfo } from '../model';
import { isGoneError, isPermissionError, procReadError } from './proc-errors';
import {
  cmdlineFromProc,
  parseBootTime,
  parseProcStat,
  parseStatusUids,
  startTimeIso,
  CLOCK_TICKS_PER_SECOND,
  type ProcStat,
} from './proc-text';
import { userLabel } from './user-names';

export { lookupUserName, userLabel } from './user-names';

const PROC = '/proc';

/**
 * Linux with /proc mounted, as the procfs source needs it: the fd directory, not only stat (a
 * /proc with fd directories always has stat files).
 */
export function hasProcfs(): boolean {
  return process.platform === 'linux' && existsSync(`${PROC}/self/fd`);
}

// btime moves when the wall clock is stepped, which would shift every computed start time; read
// it once per run so one process keeps one startTime string. Identity checks compare the raw
// tick count (readProcStat), never the ISO string.
let bootTimeSec: number | undefined;
function bootTime(): number | undefined {
  if (bootTimeSec === undefined) {
    try {
      bootTimeSec = parseBootTime(readFileSync(`${PROC}/stat`, 'utf8'));
    } catch {
      bootTimeSec = undefined;
    }
  }
  return bootTimeSec;
}

// Synchronous on purpose: these files are a few hundred bytes that the kernel formats on read, and
// pollers read stat every poll. fs.promises.readFile costs open, fstat, read and close as four
// thread-pool round trips; readFileSync is one call, an order of magnitude cheaper.
async function readProcFile(pid: number, name: string): Promise<string> {
  const path = `${PROC}/${pid}/${name}`;
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw procReadError(e, pid, path);
  }
}

/**
 * /proc/PID/stat, parsed. Cheap (one small read), so pollers call it every time to notice that
 * the target exited or that its PID now belongs to a new process (startTicks changed).
 * A zombie counts as gone: it has exited and its sockets are closed.
 */
export async function readProcStat(pid: number): Promise<ProcStat> {
  const stat = parseProcStat(await readProcFile(pid, 'stat'));
  if (!stat) throw new SockwatchError('io_error', `cannot parse ${PROC}/${pid}/stat`);
  if (stat.state === 'Z' || stat.state === 'X') throw noSuchProcess(pid);
  return stat;
}

/** The effective uid of a process (what ps shows as its user and who owns its /proc files). */
export async function readProcessUid(pid: number): Promise<number> {
  const uids = parseStatusUids(await readProcFile(pid, 'status'));
  if (!uids) throw new SockwatchError('io_error', `cannot parse ${PROC}/${pid}/status`);
  return uids.effective;
}

/** The error for "may not read PID's sockets", naming the owner. */
export async function permissionDeniedFor(pid: number): Promise<SockwatchError> {
  // status stays world-readable when fd/ is not; if even that fails, the process is gone.
  return permissionDenied(pid, userLabel(await readProcessUid(pid)));
}

export function validatePid(pid: number): void {
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new SockwatchError('invalid_argument', `invalid PID ${String(pid)}`);
  }
}

/** A process as sources tell it apart: its info, and the raw start time from the same stat read. */
export interface ProcessIdentity {
  info: ProcessInfo;
  /** /proc/PID/stat field 22; a different value under the same PID is a different process */
  startTicks: number;
}

/** Linux only. Rejects with no_such_process when the PID does not exist (or is a zombie). */
export async function readProcessInfo(pid: number): Promise<ProcessInfo> {
  return (await readProcessIdentity(pid)).info;
}

/**
 * readProcessInfo plus the start ticks it was built from (one stat read, so the two cannot come
 * from two processes that held the PID in turn).
 */
export async function readProcessIdentity(pid: number): Promise<ProcessIdentity> {
  validatePid(pid);
  const [stat, comm, cmdlineRaw, uid] = await Promise.all([
    readProcStat(pid),
    readProcFile(pid, 'comm'),
    readProcFile(pid, 'cmdline').catch((e: unknown) => {
      // hardened kernels may hide another user's cmdline; the rest of the info is still useful
      if (isPermissionError(e)) return '';
      throw e;
    }),
    readProcessUid(pid),
  ]);
  const boot = bootTime();
  const info: ProcessInfo = {
    pid,
    command: comm.replace(/\n$/, ''),
    cmdline: cmdlineFromProc(cmdlineRaw),
    user: userLabel(uid),
    uid,
  };
  const startTime = boot === undefined ? undefined : startTimeIso(stat.startTicks, boot);
  if (startTime !== undefined) info.startTime = startTime;
  return { info, startTicks: stat.startTicks };
}

/** True while the process exists and has not exited (zombies count as exited on Linux). */
export async function processExists(pid: number): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (hasProcfs()) {
    try {
      await readProcStat(pid);
      return true;
    } catch (e) {
      if (e instanceof SockwatchError && e.code === 'no_such_process') return false;
      if (isGoneError(e)) return false;
      throw e;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else
    return isPermissionError(e);
  }
}

/**
 * Now, on the scale of ProcessInfo.startTime (boot time + CLOCK_BOOTTIME ticks, /proc/uptime), so
 * that "this process started after the watch began" compares two numbers computed alike: the
 * wall clock and btime's whole seconds would each be off by up to a second. Undefined without /proc.
 */
export function watchStartTime(): string | undefined {
  const boot = bootTime();
  if (boot === undefined) return undefined;
  try {
    const uptimeSec = Number(readFileSync(`${PROC}/uptime`, 'utf8').split(' ')[0]);
    if (!Number.isFinite(uptimeSec)) return undefined;
    return startTimeIso(Math.floor(uptimeSec * CLOCK_TICKS_PER_SECOND), boot);
  } catch {
    return undefined;
  }
}
