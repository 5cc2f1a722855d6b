// Pure parsers for the small per-process files under /proc. Kept apart from the readers so they
// can be tested on fixture text.

export interface ProcStat {
  /** single-letter state (R, S, D, Z, X, ...) */
  state: string;
  /** field 4: the parent's PID (absent when the field is not a number) */
  ppid?: number;
  /** field 22: start time in clock ticks since boot */
  startTicks: number;
}

/** Task states the kernel prints in field 3 (fs/proc/array.c task_state_array, old and new). */
const TASK_STATES: ReadonlySet<string> = new Set(['R', 'S', 'D', 'T', 't', 'X', 'x', 'Z', 'P', 'I', 'K', 'W']);

/**
 * Parses /proc/PID/stat. Field 2 (comm) is in parentheses and may itself contain spaces and
 * parentheses, e.g. `1234 (a) (b c) S 1 ...`; the kernel caps it at 15 bytes but never escapes
 * it, so the only reliable delimiter is the LAST ')'. What follows must then look like the
 * kernel's: a known state letter and decimal fields up to field 22, or the text is malformed
 * (a stray ')' after comm would otherwise shift every field by one).
 */
export function parseProcStat(text: string): ProcStat | undefined {
  if (!/^\d+ \(/.test(text)) return undefined;
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ')': " S ppid pgrp ..." — field 3 is the first token, so field N is token N-3.
  const fields = text.slice(close + 1).trim().split(/\s+/);
  const state = fields[0];
  if (state === undefined || !TASK_STATES.has(state) || fields.length < 22 - 2) return undefined;
  for (let i = 1; i <= 22 - 3; i++) if (!/^-?\d+$/.test(fields[i]!)) return undefined;
  const startTicks = Number(fields[22 - 3]);
  if (!Number.isSafeInteger(startTicks) || startTicks < 0) return undefined;
  const ppid = Number(fields[4 - 3]);
  return ppid >= 0 ? { state, ppid, startTicks } : { state, startTicks };
}

/** `btime` from /proc/stat: boot time in seconds since the epoch. */
export function parseBootTime(procStatText: string): number | undefined {
  const m = /^btime\s+(\d{1,15})\s*$/m.exec(procStatText);
  return m ? Number(m[1]) : undefined;
}

export interface StatusUids {
  real: number;
  effective: number;
}

/** The `Uid:` line of /proc/PID/status: real, effective, saved, filesystem. */
export function parseStatusUids(statusText: string): StatusUids | undefined {
  const m = /^Uid:\s+(\d{1,10})\s+(\d{1,10})(?:\s|$)/m.exec(statusText);
  if (!m) return undefined;
  const real = Number(m[1]);
  const effective = Number(m[2]);
  // uid_t is 32 bits
  return real <= 0xffffffff && effective <= 0xffffffff ? { real, effective } : undefined;
}

/** /proc/PID/cmdline is NUL-separated (and usually NUL-terminated). */
export function cmdlineFromProc(raw: string): string {
  return raw.replace(/\0+$/, '').replace(/\0/g, ' ');
}

/**
 * USER_HZ, the unit of /proc clock-tick fields. The kernel fixes it at 100 for the user ABI on
 * every architecture Node runs on (sysconf(_SC_CLK_TCK)), whatever the internal HZ is.
 */
export const CLOCK_TICKS_PER_SECOND = 100;

/** The ISO start time; undefined when the numbers are not a date (garbage in /proc text). */
export function startTimeIso(startTicks: number, bootTimeSec: number): string | undefined {
  const ms = bootTimeSec * 1000 + (startTicks * 1000) / CLOCK_TICKS_PER_SECOND;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
