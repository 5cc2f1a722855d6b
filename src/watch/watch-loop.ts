// The watch once its first poll is in: the tracker and the poll session, the output (full screen,
// lines or NDJSON), the race of the ways it ends, then the summary, the report and the exit code.
import type { Snapshot } from '../model';
import type { Source } from '../sources/source';
import { isGroup } from '../sources/open-target';
import { describeSpec, type TargetSpec } from '../process/target-selection';
import { createTracker } from '../core/tracker';
import { findingMessage } from '../views/output/finding-message';
import type { NdjsonRecorder } from '../views/output/ndjson-recorder';
import type { JsonObject } from '../views/output/json-shapes';
import type { WatchMetrics } from '../views/metrics/watch-metrics';
import { LiveReport } from '../report/live-report';
import type { SockwatchError } from '../errors';
import { startPollSession } from './poll-session';
import { EventStream } from './event-stream';
import type { WatchIo } from './watch-io';
import type { WatchArgs, WatchExtras } from './watch-plan';
import type { TargetAccess } from './target-access';
import { lineWriter, outputMode } from './output-mode';
import { exitCodeOf, raceStops } from './watch-stops';

/** The first poll, taken once by watchLoop (which empties the box). */
export interface FirstPoll {
  snapshot: Snapshot | undefined;
  atMs: number;
}

export interface OpenedWatch {
  spec: TargetSpec;
  watchStart: string | undefined;
  /** advice shown once (add --children) */
  hint: string | undefined;
  args: WatchArgs;
  extras: WatchExtras;
  recorder: NdjsonRecorder | undefined;
  source: Source;
  start: FirstPoll;
  metrics: WatchMetrics | undefined;
}

export async function watchLoop(w: OpenedWatch, io: WatchIo, targets: Pick<TargetAccess, 'exists' | 'census'>): Promise<number> {
  const { args: a, extras, recorder, spec } = w;
  let snapshot = w.start.snapshot;
  if (snapshot === undefined) throw new Error('watchLoop: the first poll was already taken');
  w.start.snapshot = undefined;
  const firstProcess = snapshot.process;
  const firstProcesses = snapshot.processes;
  const firstAt = snapshot.observedAtMs ?? w.start.atMs;
  const pid = firstProcess.pid;
  // A PID's newcomer is another program: only a watch that follows a name takes it in.
  const adoptNewProcess = spec.name !== undefined;
  const tracker = createTracker({ describeFinding: findingMessage, adoptNewProcess, ...(w.watchStart === undefined ? {} : { watchStart: w.watchStart }) });
  // serve --name follows the name through restarts; everything else ends when its processes are gone
  const keepPolling = a.serve === true && spec.name !== undefined;
  const firstCount = snapshot.connections.length;
  const census = targets.census();
  // only a single process can be "exiting" for the session: a group's source answers for its members
  const exiting = isGroup(spec) ? undefined : (): Promise<boolean> => targets.exists(pid).then((alive) => !alive);
  const session = startPollSession({
    pid,
    source: w.source,
    tracker,
    intervalMs: a.intervalMs,
    states: a.states,
    first: { snapshot, atMs: w.start.atMs },
    keepPolling,
    census: (r, own) => census.foreign(r, own, pid),
    clock: io.now,
    timers: io.timers,
    ...(exiting ? { exiting } : {}),
    keepEarlyEvidence: extras.lifecycle !== undefined,
  });
  io.heap?.firstPoll(firstCount);
  // the session has taken what it needs; the suspended function must not keep the rest
  snapshot = undefined;
  w.metrics?.attach(session);
  const mode = outputMode(a, io);
  const out = lineWriter(mode, io);
  // The events seen, for `--report` at the end and the TUI's `h` at any time.
  const live = a.report !== undefined || mode.tui ? new LiveReport(pid) : undefined;
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
    ...(a.json || mode.quiet ? { notice: (text: string) => io.stderr(text + '\n') } : { line: out }),
  });
  const group = isGroup(spec) ? describeSpec(spec) : undefined;
  stream.start(firstProcess, firstAt, { ...(firstProcesses ? { processes: firstProcesses } : {}), ...(group !== undefined ? { group } : {}), ...(w.hint !== undefined ? { hint: w.hint } : {}) });
  if (recorder?.failure) {
    // e.g. a full disk at start: one line and exit 1, before anything else is printed
    stream.dispose();
    await session.stop();
    census.close();
    throw recorder.failure;
  }
  if (!a.json) {
    for (const b of extras.banner ?? []) out(b);
    if (extras.info !== undefined) out(extras.info);
    out(stream.header());
  } else {
    // stdout stays pure NDJSON; the banner is for the person watching.
    for (const b of extras.banner ?? []) io.stderr(b + '\n');
    if (w.hint !== undefined) io.stderr(`sockwatch: hint: ${w.hint}\n`);
  }

  let tui: { destroy(): void; done: Promise<number> } | undefined;
  if (mode.tui) {
    const { runTui } = await import('../views/tui/run-tui');
    const status = [extras.info, w.hint === undefined ? undefined : `hint: ${w.hint}`].filter((x): x is string => x !== undefined);
    tui = runTui(session, {
      input: io.terminal.input,
      output: io.terminal.output,
      exportDir: a.exportDir ?? io.cwd(),
      command: group ?? firstProcess.cmdline,
      demoBanner: extras.banner?.join('\n'),
      ...(extras.bannerFolded !== undefined ? { demoBannerFolded: extras.bannerFolded } : {}),
      ...(status.length > 0 ? { status: status.join(' · ') } : {}),
      // the watch listens for signals itself (io.onSignal), so tests can send them
      handleSignals: false,
      htmlReport: live && (async (dir, nowMs) => live.writeNow(dir, stream.summary(nowMs).json)),
    });
  }
  const stops = raceStops(
    {
      session,
      intervalMs: a.intervalMs,
      outliveTarget: mode.tui || a.serve === true,
      ...(a.durationMs !== undefined ? { durationMs: a.durationMs } : {}),
      ...(extras.commandExit ? { commandExit: extras.commandExit } : {}),
      // A recording that cannot be written ends the watch (exit 1); the file keeps every complete line.
      ...(recorder ? { recordingFailed: new Promise<SockwatchError>((r) => recorder.onFailure(r)) } : {}),
      ...(tui ? { quit: tui.done } : {}),
      signals: extras.callerHandlesSignals !== true,
      stdoutGone: !mode.tui,
    },
    io,
  );

  const end = await stops.end;
  await session.stop();
  census.close();
  stops.dispose();
  tui?.destroy();

  const nowMs = session.now();
  // its json is built only if something below reads it (see EventStream.summary)
  const summary = stream.summary(nowMs);
  stream.dispose();
  recorder?.write(summary.json);
  if (io.stdout.isOpen() && !mode.quiet) {
    if (a.json) io.stdout.write(JSON.stringify(summary.json) + '\n');
    else for (const l of summary.lines) io.stdout.write(l + '\n');
  }
  if (a.report !== undefined && live) {
    live.add(summary.json);
    io.stderr(`report written to ${await live.write(a.report)}\n`);
  }
  return exitCodeOf(end, io);
}
