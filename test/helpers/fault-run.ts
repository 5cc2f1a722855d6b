// Runs the CLI with its stdio wired to what a fault test needs: a reader that starts late, a file
// such as /dev/full, or a private mount namespace with a small tmpfs (for ENOSPC).
import { spawn, spawnSync, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, type CliResult } from './cli';

export interface FaultRunOptions {
  /** stdout: 'pipe' (read at once, or from `readAfterMs`) or an fd opened by the test */
  stdout?: 'pipe' | number;
  /** stdout is a pipe(2) whose reader starts only after this long: a slow reader */
  readAfterMs?: number;
  /** the command to run instead of `node CLI` (its argv comes first, then `node CLI args…`) */
  wrapper?: string[];
  timeoutMs?: number;
}

export interface FaultResult extends CliResult {
  /** milliseconds from spawn to exit */
  elapsedMs: number;
}

export function runFault(args: string[], o: FaultRunOptions = {}): Promise<FaultResult> {
  const stdio: StdioOptions = ['ignore', o.stdout ?? 'pipe', 'pipe'];
  let argv = [...(o.wrapper ?? []), process.execPath, CLI, ...args];
  if (o.readAfterMs !== undefined) {
    // A real pipe(2) of 64 KiB, as in `sockwatch … | (sleep 2; wc -l)`: a child's 'pipe' stdio
    // is a socketpair, whose larger buffer would hide the loss. The CLI's own exit status is
    // passed through; the text is fixed, the values arrive as argv.
    argv = ['bash', '-c', '"${@:2}" | { sleep "$1"; cat; }; exit "${PIPESTATUS[0]}"', 'bash', String(o.readAfterMs / 1000), ...argv];
  }
  const started = Date.now();
  const child = spawn(argv[0]!, argv.slice(1), { stdio });
  const out: Buffer[] = [];
  let err = '';
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 20_000);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: err, elapsedMs: Date.now() - started });
    });
  });
}

/** One line on stderr, no stack trace, no native abort. */
export function oneErrorLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  if (lines.length !== 1 || /\n\s+at |terminate called|Napi::Error|unexpected error/.test(r.stderr)) {
    throw new Error(`expected one line on stderr, got:\n${r.stderr}`);
  }
  return lines[0]!;
}

/**
 * sh script run inside `unshare -m`: mounts a tmpfs of $2 on $1 (private to this namespace),
 * optionally fills it ($3 = full), runs the rest of argv, then copies $1's files (temp files
 * included, the filler not) to $4 so the
 * test can read them after the namespace is gone. Fixed text: all values arrive as argv.
 */
const TMPFS_SCRIPT = `set -u
dir=$1 size=$2 fill=$3 out=$4
shift 4
mount -t tmpfs -o "size=$size" sockwatch-test "$dir" || exit 97
if [ "$fill" = full ]; then dd if=/dev/zero of="$dir/.fill" bs=4096 2>/dev/null; fi
"$@"
rc=$?
for f in "$dir"/* "$dir"/.[!.]*; do
  if [ -f "$f" ] && [ "$f" != "$dir/.fill" ]; then cp -p "$f" "$out/"; fi
done
exit $rc
`;

export interface SmallDisk {
  /** where the CLI sees the small tmpfs (inside the namespace only) */
  dir: string;
  /** where its files are copied when the run ends */
  out: string;
  wrapper(fill: 'full' | 'empty'): string[];
  cleanup(): void;
}

/** A private mount namespace with a 64 KiB tmpfs. Fails (never skips) if `unshare` is missing. */
export function smallDisk(size = '64k'): SmallDisk {
  const probe = spawnSync('unshare', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error('these tests need util-linux `unshare` (and root) for a private tmpfs; it is missing');
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-disk-'));
  const dir = path.join(base, 'mnt');
  const out = path.join(base, 'out');
  fs.mkdirSync(dir);
  fs.mkdirSync(out);
  const script = path.join(base, 'tmpfs.sh');
  fs.writeFileSync(script, TMPFS_SCRIPT);
  return {
    dir,
    out,
    wrapper: (fill) => ['unshare', '-m', '--propagation', 'private', 'sh', script, dir, size, fill, out],
    cleanup: () => fs.rmSync(base, { recursive: true, force: true }),
  };
}
