// Runs the PID-reuse harness (pid-reuse-harness.ts) in a new PID namespace and reads its report.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { CLI } from './cli';

const HARNESS = path.join(__dirname, 'pid-reuse-harness.js');

export interface HarnessResult {
  error?: string;
  a: { pid: number; localPort: number };
  b: { pid: number; localPort: number };
  swapMs: number;
  sockwatch: { code: number | null; stdout: string; stderr: string };
}

export function runHarness(source: string, intervalMs: number): Promise<HarnessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-p', '-f', '--mount-proc', process.execPath, HARNESS, CLI, source, String(intervalMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.once('close', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out) as HarnessResult);
      } catch {
        reject(new Error(`harness printed ${JSON.stringify(out)}; stderr: ${err}`));
      }
    });
  });
}
