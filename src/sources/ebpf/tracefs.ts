// Tracepoint formats live in tracefs; a container or minimal system may not have it mounted. As
// root we mount it where the kernel expects it, with mount(2) (no `mount` command, no shell).
import { existsSync, readFileSync } from 'node:fs';
import { errnoName } from './bpf-syscall';
import { parseTracepointFormat, type TracepointFormat } from './tracepoint-format';

const TRACEFS = '/sys/kernel/tracing';
const LEGACY = '/sys/kernel/debug/tracing';

/** The events directory, mounting tracefs first if needed; else why not, one line. */
export function tracefsEvents(mount: (source: string, target: string, fstype: string) => number): string | { reason: string } {
  for (const root of [TRACEFS, LEGACY]) if (existsSync(`${root}/events`)) return `${root}/events`;
  if (!existsSync(TRACEFS)) return { reason: `tracefs is not mounted and ${TRACEFS} does not exist` };
  const errno = mount('nodev', TRACEFS, 'tracefs');
  if (errno === 0 && existsSync(`${TRACEFS}/events`)) return `${TRACEFS}/events`;
  return { reason: `tracefs is not mounted and mounting it at ${TRACEFS} failed (${errno === 0 ? 'no events directory' : errnoName(errno)})` };
}

/** The format of tracepoint category/name (its absence or a bad file throws, one line). */
export function readTracepointFormat(events: string, category: string, name: string): TracepointFormat {
  let text: string;
  try {
    text = readFileSync(`${events}/${category}/${name}/format`, 'latin1');
  } catch (e) {
    throw new Error(`no tracepoint ${category}:${name} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  return parseTracepointFormat(text);
}
