// Real programs the integration tests drive (nginx, ab, go, ss…): find them, or fail saying what
// is missing and which Debian package brings it (.ci/run installs them). A missing tool is a
// failure, never a skip: a suite that silently skips proves nothing.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** tool → the Debian package that ships it */
export const DEBIAN_PACKAGE: Record<string, string> = {
  nginx: 'nginx-light',
  ab: 'apache2-utils',
  curl: 'curl',
  go: 'golang-go',
  python3: 'python3',
  ss: 'iproute2',
  lsof: 'lsof',
  tmux: 'tmux',
};

const SEARCH_EXTRA = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** The absolute path of `tool` on PATH (plus the sbin directories nginx lives in), or undefined. */
export function findTool(tool: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter((d) => d !== ''), ...SEARCH_EXTRA];
  for (const dir of dirs) {
    const p = path.join(dir, tool);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Paths of every tool, or an Error naming each missing one and its package. */
export function requireTools<T extends string>(...tools: T[]): Record<T, string> {
  const found = {} as Record<T, string>;
  const missing: string[] = [];
  for (const t of tools) {
    const p = findTool(t);
    if (p === undefined) missing.push(`${t} (Debian package ${DEBIAN_PACKAGE[t] ?? t})`);
    else found[t] = p;
  }
  if (missing.length > 0) {
    throw new Error(`missing tool${missing.length > 1 ? 's' : ''}: ${missing.join(', ')} — run .ci/run or apt-get install it`);
  }
  return found;
}

/** Debian's python3 rather than a version-manager shim (whose PID is a shell for a while). */
export function pythonPath(): string {
  return fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : requireTools('python3').python3;
}

/** Whether we are root (the eBPF cases need it). */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The unprivileged user the non-root cases run as (Debian's `nobody`). */
export const NOBODY = { uid: 65534, gid: 65534 } as const;
