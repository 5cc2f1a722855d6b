// Does watching slow the target down? A target that holds idle connections plays ping-pong over
// one more (64 bytes each way, as fast as round trips go) for a few seconds at a time: alone,
// under `sockwatch watch` at two intervals, and under lsof run back to back (the way one watches a
// process with lsof). Many short runs, interleaved, so drift on this shared machine hits every
// mode alike; the spread of the runs is reported next to the medians.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { spawnNode, waitForLine } from './children-registry';
import { CHILD_DIR, startSink } from './scene';

export interface ImpactRow {
  mode: string;
  /** median round trips per second over the repeats */
  roundTripsPerS: number;
  /** every repeat's rate, in run order */
  rates: number[];
  /** 25th and 75th percentile of the rates: the run-to-run noise */
  p25: number;
  p75: number;
}

interface Observer {
  stop(): Promise<void>;
}

/** An observer's start-up (Node, first poll, a full dump) is not part of what is measured. */
const SETTLE_MS = 1200;

const isReady = (v: unknown): v is { ready: number } => typeof v === 'object' && v !== null && typeof (v as { ready?: unknown }).ready === 'number';
const isResult = (v: unknown): v is { roundTrips: number; ms: number } =>
  typeof v === 'object' && v !== null && typeof (v as { roundTrips?: unknown }).roundTrips === 'number';

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function watchObserver(entry: string, pid: number, interval: string): Observer {
  const child = spawn(entry, ['watch', String(pid), '--no-tui', '--interval', interval], { stdio: 'ignore' });
  return { stop: () => stopChild(child) };
}

/** lsof again as soon as the last one ends. */
function lsofLoop(pid: number): Observer {
  let stopped = false;
  let current: ChildProcess | undefined;
  const next = (): void => {
    if (stopped) return;
    current = spawn('lsof', ['-nP', '-p', String(pid), '-a', '-iTCP', '-sTCP:ESTABLISHED'], { stdio: 'ignore' });
    current.once('exit', next);
  };
  next();
  return {
    stop: async () => {
      stopped = true;
      if (current) await stopChild(current);
    },
  };
}

/** Linear-interpolated quantile, q in [0, 1]. */
function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export async function benchTargetImpact(o: { idle: number; runMs: number; repeats: number; entry: string; withLsof: boolean }): Promise<{ rows: ImpactRow[]; pid: number }> {
  const endpoints = await startSink(['127.0.0.200'], o.idle + 1000);
  const target = spawnNode(path.join(CHILD_DIR, 'ping-pong.js'), [JSON.stringify(endpoints), String(o.idle)], o.idle + 1000);
  await waitForLine(target, isReady, 120_000);
  const pid = target.pid!;
  const run = async (): Promise<number> => {
    target.stdin!.write(`run ${o.runMs}\n`);
    const r = await waitForLine(target, isResult, o.runMs + 30_000);
    return (r.roundTrips / r.ms) * 1000;
  };
  const modes: { mode: string; start: () => Observer | undefined }[] = [
    { mode: 'alone', start: () => undefined },
    { mode: 'under sockwatch watch (--interval 1s, the default)', start: () => watchObserver(o.entry, pid, '1s') },
    { mode: 'under sockwatch watch --interval 100ms', start: () => watchObserver(o.entry, pid, '100ms') },
  ];
  if (o.withLsof) modes.push({ mode: 'under lsof -p PID run back to back', start: () => lsofLoop(pid) });

  await run(); // warm-up: JIT and TCP state, not counted
  const rates = new Map<string, number[]>(modes.map((m) => [m.mode, []]));
  for (let i = 0; i < o.repeats; i++) {
    for (const m of modes) {
      const observer = m.start();
      // past the observer's start-up and first poll: the steady state is what is measured
      if (observer) await new Promise((r) => setTimeout(r, SETTLE_MS));
      rates.get(m.mode)!.push(await run());
      await observer?.stop();
    }
  }
  target.stdin!.end();
  return {
    pid,
    rows: modes.map((m) => {
      const r = rates.get(m.mode)!;
      return { mode: m.mode, rates: r, roundTripsPerS: quantile(r, 0.5), p25: quantile(r, 0.25), p75: quantile(r, 0.75) };
    }),
  };
}
