// bpftrace reads tracepoint formats from tracefs; a container or minimal system may not have it
// mounted. As root we mount it where the kernel expects it (the same as `mount -t tracefs`).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const TRACEFS = '/sys/kernel/tracing';
const LEGACY = '/sys/kernel/debug/tracing';

/** undefined when tracefs is (now) mounted, else why not, one line. */
export function ensureTracefs(): string | undefined {
  if (existsSync(`${TRACEFS}/events`) || existsSync(`${LEGACY}/events`)) return undefined;
  if (!existsSync(TRACEFS)) return `tracefs is not mounted and ${TRACEFS} does not exist`;
  const r = spawnSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS], { encoding: 'utf8', timeout: 5000 });
  if (r.status === 0 && existsSync(`${TRACEFS}/events`)) return undefined;
  const why = (r.stderr ?? '').trim().split('\n')[0] || (r.error ? r.error.message : `mount exited with ${r.status}`);
  return `tracefs is not mounted and mounting it at ${TRACEFS} failed (${why})`;
}
