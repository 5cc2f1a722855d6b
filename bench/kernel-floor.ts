// The kernel's floor for a steady poll (bench/kernel-floor.c): built with the machine's gcc into
// a temporary directory on first use; without gcc (or if it fails) the bench says so and goes on.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Floor {
  /** per-poll medians, ms */
  cpuMs: number;
  wallMs: number;
  readdirCpuMs: number;
  lookupsCpuMs: number;
  /** one port-filtered dump with tcp_info; -1 when the target's ports do not fit one filter */
  dumpCpuMs: number;
  sockets: number;
}

const SOURCE = path.resolve(__dirname, '..', '..', 'bench', 'kernel-floor.c');
let built: { binary: string } | { skipped: string } | undefined;

function build(): { binary: string } | { skipped: string } {
  if (built) return built;
  const gcc = ['/usr/bin/gcc', '/usr/bin/cc', '/usr/local/bin/gcc'].find((p) => existsSync(p));
  if (!gcc) return (built = { skipped: 'no gcc on this machine: kernel floor not measured' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sockwatch-floor-'));
  const binary = path.join(dir, 'kernel-floor');
  try {
    execFileSync(gcc, ['-O2', '-o', binary, SOURCE], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return (built = { skipped: `gcc failed on bench/kernel-floor.c (${e instanceof Error ? e.message.split('\n')[0] : String(e)})` });
  }
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return (built = { binary });
}

const isFloor = (v: unknown): v is Floor =>
  typeof v === 'object' && v !== null && typeof (v as { cpuMs?: unknown }).cpuMs === 'number';

/** The floor for PID's sockets, median of `polls`; a string saying why not when it cannot run. */
export function kernelFloor(pid: number, polls: number): Floor | string {
  const b = build();
  if ('skipped' in b) return b.skipped;
  const r = spawnSync(b.binary, [String(pid), String(polls)], { encoding: 'utf8', timeout: 300_000 });
  try {
    const v: unknown = JSON.parse(r.stdout);
    if (isFloor(v)) return v;
  } catch {
    // reported below
  }
  return `kernel-floor failed (exit ${r.status}): ${r.stderr.trim().split('\n')[0] ?? ''}`;
}
