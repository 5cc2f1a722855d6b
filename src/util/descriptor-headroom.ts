// How many more file descriptors this process may open: its soft RLIMIT_NOFILE less those open.
// Node reads no rlimit itself; Linux says it in /proc/self/limits.
import { readdirSync, readFileSync } from 'node:fs';

/** The soft "Max open files" line of limits(5) text; undefined when absent or unlimited. */
export function parseOpenFilesLimit(text: string): number | undefined {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!m || m[1] === 'unlimited') return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Descriptors left under the soft limit now; undefined when /proc cannot tell (not Linux). */
export function descriptorHeadroom(): number | undefined {
  try {
    const limit = parseOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8'));
    if (limit === undefined) return undefined;
    // the readdir's own descriptor is listed too: one more than are open afterwards
    return limit - (readdirSync('/proc/self/fd').length - 1);
  } catch {
    return undefined;
  }
}
