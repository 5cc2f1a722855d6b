// A whole watch, from a plan (src/watch/watch-plan.ts) to an exit code: serve metrics if asked,
// wait for and open the target, take the first poll, then hand over to the watch loop. Every
// effect on the process goes through the injected WatchIo and TargetAccess, so the whole watch
// runs in-process on fakes (test/unit/watch-app.test.ts); the CLI gives the real process.
import { terminalText } from '../util/terminal-text';
import type { Snapshot } from '../model';
import type { WatchMetrics } from '../views/metrics/watch-metrics';
import { NdjsonRecorder } from '../views/output/ndjson-recorder';
import { checkWritableDir } from '../views/output/safe-file';
import type { WatchIo } from './watch-io';
import type { WatchPlan } from './watch-plan';
import { OS_TARGETS, type TargetAccess } from './target-access';
import { watchLoop, type FirstPoll } from './watch-loop';
import { outputMode } from './output-mode';

export async function runWatchApp(plan: WatchPlan, io: WatchIo, targets: TargetAccess = OS_TARGETS): Promise<number> {
  const { spec, args: a } = plan;
  io.heap?.longRun();
  // Checked now, not when `e` is pressed minutes later.
  if (a.exportDir !== undefined) checkWritableDir(a.exportDir, '--export-dir');
  if (a.metrics === undefined) return watchTarget(plan, io, targets, undefined);
  // Listen before anything else starts: a port in use is the first and only thing said.
  const label = spec.name ?? spec.pids.join(',');
  // Loaded only here: prom-client is about a hundred modules that a watch without --metrics never needs.
  const { startWatchMetrics } = await import('../views/metrics/watch-metrics');
  // On the full screen a line on stderr would tear it: the endpoint's notices go unsaid there.
  const notice = outputMode(a, io).tui ? undefined : (text: string): void => io.stderr(`sockwatch: ${text}\n`);
  const metrics = await startWatchMetrics({ target: label, address: a.metrics, peers: a.metricsPeers ?? 0, ...(notice ? { notice } : {}) });
  io.stderr(`sockwatch: serving metrics on ${metrics.url}\n`);
  try {
    return await watchTarget(plan, io, targets, metrics);
  } finally {
    await metrics.close();
  }
}

async function watchTarget(plan: WatchPlan, io: WatchIo, targets: TargetAccess, metrics: WatchMetrics | undefined): Promise<number> {
  const { spec, args: a, extras } = plan;
  if (a.wait === true) await targets.wait(spec, a.intervalMs, (t) => io.stderr(terminalText(t) + '\n'));
  // Before the first poll: a process started after this holds nothing preexisting.
  const watchStart = extras.watchStart ?? targets.watchStart();
  const opened = await targets.open({ spec, source: a.source, brief: a.brief, ...(extras.lifecycle ? { lifecycle: extras.lifecycle } : {}) });
  const source = metrics ? metrics.instrument(opened) : opened;
  const firstAt = io.now();
  let first: Snapshot | undefined;
  let recorder: NdjsonRecorder | undefined;
  try {
    // Every state: --state is a lens of the output, never a filter of what is tracked.
    first = await source.snapshot('all');
    // Opened once the target is known to be readable: a failed start leaves no empty recording.
    recorder = a.record ? new NdjsonRecorder(a.record) : undefined;
  } catch (e) {
    source.close();
    throw e;
  }
  const hint = spec.children ? undefined : await targets.childrenHint(first).catch(() => undefined);
  // Handed over in a box that the loop empties: the first snapshot (every connection of the
  // target, as the source built it) must not live as long as the watch.
  const start: FirstPoll = { snapshot: first, atMs: firstAt };
  first = undefined;
  try {
    return await watchLoop({ spec, watchStart, hint, args: a, extras, recorder, source, start, metrics }, io, targets);
  } finally {
    recorder?.close();
  }
}
