import type { WatchArgs } from './watch-args';
import { isGroup, openWatchedTarget, waitForTarget } from '../sources/open-target';
import { childrenHint } from '../sources/children-hint';
import { describeSpec, type TargetSpec } from '../process/target-selection';
import { processExists, watchStartTime } from '../process/process-info';
import { createTracker } from '../core/tracker';
import { findingMessage } from '../views/output/finding-message';
import { startPollSession, type SessionEnd } from '../watch/poll-session';
import { RemoteCensus } from '../sources/remote-census';
import { NdjsonRecorder } from '../views/output/ndjson-recorder';
import type { JsonObject } from '../views/output/json-shapes';
import { EventStream } from '../watch/event-stream';
import { isSockwatchError, type SockwatchError } from '../errors';
import { checkWritableDir } from '../views/output/safe-file';
import { onStdoutGone, stdoutOpen } from './stdout-gone';
import { setLongTimeout } from '../util/long-timeout';
import type { Snapshot } from '../model';
import type { Source } from '../sources/source';
import type { LifecycleFeed } from '../sources/lifecycle/lifecycle-feed';
import type { WatchMetrics } from '../views/metrics/watch-metrics';
import { LiveReport } from '../report/live-report';
import { tuneHeapForLongRun, tuneYoungGenerationFor } from '../util/long-run-heap';
import { terminalText } from '../util/terminal-text';

export interface WatchExtras {
  /** printed under the start line (line mode) or as a banner (TUI) */
  banner?: string[];
  /** the banner in one line, shown in the TUI once its legend is folded */
  bannerFolded?: string;
  /** `run`: when the watch began (before CMD was spawned), on the process start-time scale */
  watchStart?: string;
  /** `run`: settles with CMD's exit status; the watch ends then, with that status */
  commandExit?: Promise<number>;
  /** `run`: signals are handled by the caller (forwarded to CMD), not by the watch */
  callerHandlesSignals?: boolean;
  /** `run`: shown on the status line / under the start line (where CMD's output goes) */
  info?: string;
  /** `run`: the between-poll feed, opened before CMD was spawned (already following it) */
  lifecycle?: LifecycleFeed;
}

export async function runWatch(target: number | TargetSpec, a: WatchArgs, extras: WatchExtras = {}): Promise<number> {
  const spec: TargetSpec = typeof target === 'number' ? { pids: [target], children: false } : target;
  tuneHeapForLongRun();
  // Checked now, not when `e` is pressed minutes later.
  if (a.exportDir !== undefined) checkWritableDir(a.exportDir, '--export-dir');
  if (a.metrics === undefined) return watchTarget(spec, a, extras, undefined);
  // Listen before anything else starts: a port in use is the first and only thing said.
  const label = spec.name ?? spec.pids.join(',');
  // Loaded only here: prom-client is about a hundred modules that a watch without --metrics never needs.
  const { startWatchMetrics } = await import('../views/metrics/watch-metrics');
  // On the full screen a line on stderr would tear it: the endpoint's notices go unsaid there.
  const onScreen = a.tui && Boolean(process.stdout.isTTY) && Boolean(process.stdin.isTTY) && !a.json;
  const notice = onScreen ? undefined : (text: string): void => void process.stderr.write(`sockwatch: ${text}\n`);
  const metrics = await startWatchMetrics({ target: label, address: a.metrics, peers: a.metricsPeers ?? 0, ...(notice ? { notice } : {}) });
  process.stderr.write(`sockwatch: serving metrics on ${metrics.url}\n`);
  try {
    return await watchTarget(spec, a, extras, metrics);
  } finally {
    await metrics.close();
  }
}

async function watchTarget(spec: TargetSpec, a: WatchArgs, extras: WatchExtras, metrics: WatchMetrics | undefined): Promise<number> {
  if (a.wait === true) await waitForTarget(spec, a.intervalMs, (t) => process.stderr.write(terminalText(t) + '\n'));
  // Before the first poll: a process started after this holds nothing preexisting.
  const watchStart = extras.watchStart ?? watchStartTime();
  const opened = await openWatchedTarget({ spec, source: a.source, brief: a.brief, ...(extras.lifecycle ? { lifecycle: extras.lifecycle } : {}) });
  const source = metrics ? metrics.instrument(opened) : opened;
  const firstAt = Date.now();
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
  const hint = spec.children ? undefined : await childrenHint(first).catch(() => undefined);
  const target = { spec, watchStart, hint };
  // Handed over in a box that watchWith empties: the first snapshot (every connection of the
  // target, as the source built it) must not live as long as the watch.
  const start: FirstPoll = { snapshot: first, atMs: firstAt };
  first = undefined;
  try {
    return await watchWith(target, a, extras, recorder, source, start, metrics);
  } finally {
    recorder?.close();
  }
}

/** The first poll, taken once by watchWith (which empties the box). */
interface FirstPoll {
  snapshot: Snapshot | undefined;
  atMs: number;
}

async function watchWith(
  target: { spec: TargetSpec; watchStart: string | undefined; hint: string | undefined },
  a: WatchArgs,
  extras: WatchExtras,
  recorder: NdjsonRecorder | undefined,
  source: Source,
  start: FirstPoll,
  metrics?: WatchMetrics,
): Promise<number> {
  let snapshot = start.snapshot;
  if (snapshot === undefined) throw new Error('watchWith: the first poll was already taken');
  start.snapshot = undefined;
  const firstProcess = snapshot.process;
  const firstProcesses = snapshot.processes;
  const firstAt = snapshot.observedAtMs ?? start.atMs;
  const pid = firstProcess.pid;
  // A PID's newcomer is another program: only a watch that follows a name takes it in.
  const adoptNewProcess = target.spec.name !== undefined;
  const tracker = createTracker({ describeFinding: findingMessage, adoptNewProcess, ...(target.watchStart === undefined ? {} : { watchStart: target.watchStart }) });
  // serve --name follows the name through restarts; everything else ends when its processes are gone
  const keepPolling = a.serve === true && target.spec.name !== undefined;
  const firstCount = snapshot.connections.length;
  const census = new RemoteCensus();
  // only a single process can be "exiting" for the session: a group's source answers for its members
  const exiting = isGroup(target.spec) ? undefined : async (): Promise<boolean> => !(await processExists(pid));
  const session = startPollSession({ pid, source, tracker, intervalMs: a.intervalMs, states: a.states, first: { snapshot, atMs: start.atMs }, keepPolling, census: (r, own) => census.foreign(r, own, pid), ...(exiting ? { exiting } : {}), keepEarlyEvidence: extras.lifecycle !== undefined });
  tuneYoungGenerationFor(firstCount);
  // the session has taken what it needs; the suspended function must not keep the rest
  snapshot = undefined;
  metrics?.attach(session);
  // serve: headless, stdout only for --json
  const quiet = a.serve === true && !a.json;
  const useTui = a.tui && Boolean(process.stdout.isTTY) && Boolean(process.stdin.isTTY) && !a.json;
  const out = (line: string): void => {
    if (!useTui && !quiet && stdoutOpen()) process.stdout.write(line + '\n');
  };
  // The events seen, for `--report` at the end and the TUI's `h` at any time.
  const live = a.report !== undefined || useTui ? new LiveReport(pid) : undefined;
  const emitJson = (o: JsonObject): void => {
    recorder?.write(o);
    live?.add(o);
    // a recording that failed at start ends the watch before anything is printed
    if (a.json && !(recorder?.failure && o.type === 'start')) out(JSON.stringify(o));
  };

  const stream = new EventStream(session, {
    json: emitJson,
    eventsJson: a.json || recorder !== undefined || live !== undefined,
    // serve without --json prints no lines: its notices (a failed poll) go to stderr too
    ...(a.json || quiet ? { notice: (text: string) => process.stderr.write(text + '\n') } : { line: out }),
  });
  const group = isGroup(target.spec) ? describeSpec(target.spec) : undefined;
  stream.start(firstProcess, firstAt, { ...(firstProcesses ? { processes: firstProcesses } : {}), ...(group !== undefined ? { group } : {}), ...(target.hint !== undefined ? { hint: target.hint } : {}) });
  if (recorder?.failure) {
    // e.g. a full disk at start: one line and exit 1, before anything else is printed
    stream.dispose();
    await session.stop();
    throw recorder.failure;
  }
  if (!a.json) {
    for (const b of extras.banner ?? []) out(b);
    if (extras.info !== undefined) out(extras.info);
    out(stream.header());
  } else {
    // stdout stays pure NDJSON; the banner is for the person watching.
    for (const b of extras.banner ?? []) process.stderr.write(b + '\n');
    if (target.hint !== undefined) process.stderr.write(`sockwatch: hint: ${target.hint}\n`);
  }

  // On a terminal an exited target stays on screen (banner, data, export) until the user quits;
  // in a pipe the exit ends the watch. A service (serve) keeps serving metrics.
  const ended = useTui || a.serve ? session.ended.then((e) => (e.kind === 'error' ? e : new Promise<never>(() => undefined))) : session.ended;
  const stops: Promise<SessionEnd | 'duration' | 'signal' | 'quit' | SockwatchError | { command: number }>[] = [ended];
  if (extras.commandExit) {
    // Let a poll see CMD gone (its closes and `exit`) before ending: a few intervals at most, as
    // descendants may outlive it.
    const settle = (): Promise<unknown> => Promise.race([session.ended, new Promise((r) => cleanups.push(setLongTimeout(() => r(undefined), 2 * a.intervalMs + 200)))]);
    stops.push(extras.commandExit.then(async (code) => (await settle(), { command: code })));
  }
  const cleanups: (() => void)[] = [];
  // A recording that cannot be written ends the watch (exit 1); the file keeps every complete line.
  if (recorder) stops.push(new Promise((r) => recorder.onFailure(r)));
  const durationMs = a.durationMs;
  if (durationMs !== undefined) {
    stops.push(new Promise((r) => {
      cleanups.push(setLongTimeout(() => r('duration'), durationMs));
    }));
  }
  let tui: { destroy(): void; done: Promise<number> } | undefined;
  if (useTui) {
    const { runTui } = await import('../views/tui/run-tui');
    const status = [extras.info, target.hint === undefined ? undefined : `hint: ${target.hint}`].filter((x): x is string => x !== undefined);
    const handle = runTui(session, { exportDir: a.exportDir ?? process.cwd(), command: group ?? firstProcess.cmdline, demoBanner: extras.banner?.join('\n'), ...(extras.bannerFolded !== undefined ? { demoBannerFolded: extras.bannerFolded } : {}), ...(status.length > 0 ? { status: status.join(' · ') } : {}), handleSignals: extras.callerHandlesSignals !== true, htmlReport: live && (async (dir, nowMs) => live.writeNow(dir, stream.summary(nowMs).json)) });
    stops.push(handle.done.then(() => 'quit' as const));
    tui = handle;
  } else {
    stops.push(new Promise((r) => {
      const onSignal = (): void => r('signal');
      if (extras.callerHandlesSignals !== true) for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, onSignal);
      // EPIPE and other stdout errors alike: stop, so the recording ends with its summary; the
      // exit reports a stdout error other than EPIPE (exit 1).
      onStdoutGone(onSignal);
      cleanups.push(() => {
        for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeListener(s, onSignal);
        onStdoutGone(undefined);
      });
    }));
  }

  const end = await Promise.race(stops);
  await session.stop();
  census.close();
  for (const c of cleanups) c();
  tui?.destroy();

  const nowMs = session.now();
  // its json is built only if something below reads it (see EventStream.summary)
  const summary = stream.summary(nowMs);
  stream.dispose();
  recorder?.write(summary.json);
  if (stdoutOpen() && !quiet) {
    if (a.json) process.stdout.write(JSON.stringify(summary.json) + '\n');
    else for (const l of summary.lines) process.stdout.write(l + '\n');
  }
  if (a.report !== undefined && live) {
    live.add(summary.json);
    process.stderr.write(`report written to ${await live.write(a.report)}\n`);
  }

  if (isSockwatchError(end)) {
    process.stderr.write(`sockwatch: ${terminalText(end.message)}\n`);
    return end.exitCode;
  }
  if (typeof end === 'object' && 'command' in end) return end.command;
  if (typeof end === 'object' && end.kind === 'error') {
    if (isSockwatchError(end.error)) {
      process.stderr.write(`sockwatch: ${terminalText(end.error.message)}\n`);
      return end.error.exitCode;
    }
    throw end.error;
  }
  return 0;
}
