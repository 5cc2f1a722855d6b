// Runs the real CLI under GNU time and reads its peak resident memory. `time -f %M` reports the
// ru_maxrss the kernel kept for the child (wait4): the high-water mark of the whole process —
// V8's heap, buffers, native memory — taken from outside, after the fact, whatever way the child
// ended. `-o FILE` keeps time's own output off the child's stderr, which the tests read.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, type CliResult } from './cli';

export const GNU_TIME = '/usr/bin/time';

export interface MeasuredResult extends CliResult {
  /** peak resident set, MiB */
  peakMiB: number;
  wallMs: number;
}

export async function runCliMeasured(args: string[], timeoutMs: number): Promise<MeasuredResult> {
  if (!fs.existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} (GNU time) is needed to measure peak memory: apt-get install time`);
  const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-time-')), 'time.txt');
  const started = Date.now();
  const child = spawn(GNU_TIME, ['-o', report, '-f', '%M', process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  // time forwards the signal to the child
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  const wallMs = Date.now() - started;
  // The last line is %M in KiB (earlier ones: "Command exited with non-zero status 1").
  const lines = fs.existsSync(report) ? fs.readFileSync(report, 'utf8').trim().split('\n') : [];
  fs.rmSync(path.dirname(report), { recursive: true, force: true });
  const kib = Number(lines[lines.length - 1]);
  if (!Number.isFinite(kib) || kib <= 0) throw new Error(`no peak memory from ${GNU_TIME} (code ${code}, signal ${signal}): ${lines.join(' | ')}\n${stderr}`);
  return { code, signal, stdout, stderr, peakMiB: kib / 1024, wallMs };
}
