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

/**
 * Parses /proc/PID/stat. Field 2 (comm) is in parentheses and may itself contain spaces and
 * parentheses, e.g. `1234 (a) (b c) S 1 ...`; the kernel caps it at 15 bytes but never escapes
 * it, so the only reliable delimiter is the LAST ')'.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ')': " S ppid pgrp ..." — field 3 is the first token, so field N is token N-3.
  const fields = text.slice(close + 1).trim().split(/\s+/);
  const state = fields[0];
  const startField = fields[22 - 3];
  if (!state || startField === undefined || !/^\d+$/.test(startField)) return undefined;
  const ppidField = fields[4 - 3];
  const out: ProcStat = { state, startTicks: Number(startField) };
  if (ppidField !== undefined && /^\d+$/.test(ppidField)) out.ppid = Number(ppidField);
  return out;
}

/** `btime` from /proc/stat: boot time in seconds since the epoch. */
export function parseBootTime(procStatText: string): number | undefined {
  const m = /^btime\s+(\d+)\s*$/m.exec(procStatText);
  return m ? Number(m[1]) : undefined;
}

export interface StatusUids {
  real: number;
  effective: number;
}

/** The `Uid:` line of /proc/PID/status: real, effective, saved, filesystem. */
export function parseStatusUids(statusText: string): StatusUids | undefined {
  const m = /^Uid:\s+(\d+)\s+(\d+)/m.exec(statusText);
  return m ? { real: Number(m[1]), effective: Number(m[2]) } : undefined;
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

export function startTimeIso(startTicks: number, bootTimeSec: number): string {
  return new Date(bootTimeSec * 1000 + (startTicks * 1000) / CLOCK_TICKS_PER_SECOND).toISOString();
}
