import type { WatchArgs } from './main';
import { openSource } from '../sources/open-source';
import { createTracker } from '../core/tracker';
import { startPollSession, type SessionEnd } from '../watch/poll-session';
import { NdjsonRecorder } from '../views/output/ndjson-recorder';
import { eventJson, startEventJson, summaryJson, type JsonObject } from '../views/output/json-shapes';
import { EVENT_HEADER, eventLine, startLine, summaryLines } from '../views/output/event-lines';
import { isSockwatchError } from '../errors';
import { onStdoutGone, stdoutOpen } from './stdout-gone';
import type { Snapshot } from '../model';
import type { Source } from '../sources/source';

export interface WatchExtras {
  /** printed under the start line (line mode) or as a banner (TUI) */
  banner?: string[];
}

export async function runWatch(pid: number, a: WatchArgs, extras: WatchExtras = {}): Promise<number> {
  const source = await openSource(pid, a.source, a.brief);
  const firstAt = Date.now();
  let first: Snapshot;
  let recorder: NdjsonRecorder | undefined;
  try {
    first = await source.snapshot(a.states);
    // Opened once the target is known to be readable: a failed start leaves no empty recording.
    recorder = a.record ? new NdjsonRecorder(a.record) : undefined;
  } catch (e) {
    source.close();
    throw e;
  }
  try {
    return await watchWith(pid, a, extras, recorder, source, { snapshot: first, atMs: firstAt });
  } finally {
    recorder?.close();
  }
}

async function watchWith(
  pid: number,
  a: WatchArgs,
  extras: WatchExtras,
  recorder: NdjsonRecorder | undefined,
  source: Source,
  start: { snapshot: Snapshot; atMs: number },
): Promise<number> {
  const first = start.snapshot;
  const firstAt = start.atMs;
  const tracker = createTracker();
  const session = startPollSession({ pid, source, tracker, intervalMs: a.intervalMs, states: a.states, first: start });
  const useTui = a.tui && Boolean(process.stdout.isTTY) && Boolean(process.stdin.isTTY) && !a.json;
  const out = (line: string): void => {
    if (!useTui && stdoutOpen()) process.stdout.write(line + '\n');
  };
  const emitJson = (o: JsonObject): void => {
    recorder?.write(o);
    if (a.json) out(JSON.stringify(o));
  };

  emitJson(startEventJson({ timeMs: firstAt, process: first.process, intervalMs: a.intervalMs, source: source.name, states: a.states }));
  if (!a.json) {
    out(startLine(first.process, source.name, a.intervalMs, a.states));
    for (const b of extras.banner ?? []) out(b);
    out(EVENT_HEADER);
  } else {
    // stdout stays pure NDJSON; the banner is for the person watching.
    for (const b of extras.banner ?? []) process.stderr.write(b + '\n');
  }
  session.onUpdate((events) => {
    for (const e of events) {
      emitJson(eventJson(pid, e));
      if (!a.json) out(eventLine(e));
    }
  });

  // On a terminal an exited target stays on screen (banner, data, export) until the user quits;
  // in a pipe the exit ends the watch.
  const ended = useTui ? session.ended.then((e) => (e.kind === 'error' ? e : new Promise<never>(() => undefined))) : session.ended;
  const stops: Promise<SessionEnd | 'duration' | 'signal' | 'quit'>[] = [ended];
  const cleanups: (() => void)[] = [];
  if (a.durationMs !== undefined) {
    stops.push(new Promise((r) => {
      const t = setTimeout(() => r('duration'), a.durationMs);
      cleanups.push(() => clearTimeout(t));
    }));
  }
  let tui: { destroy(): void; done: Promise<number> } | undefined;
  if (useTui) {
    const { runTui } = await import('../views/tui/run-tui');
    const handle = runTui(session, { exportDir: a.exportDir, command: first.process.cmdline, noColor: 'NO_COLOR' in process.env, demoBanner: extras.banner?.join('\n') });
    stops.push(handle.done.then(() => 'quit' as const));
    tui = handle;
  } else {
    stops.push(new Promise((r) => {
      const onSignal = (): void => r('signal');
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(s, onSignal);
      onStdoutGone(onSignal);
      cleanups.push(() => {
        for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeListener(s, onSignal);
        onStdoutGone(undefined);
      });
    }));
  }

  const end = await Promise.race(stops);
  await session.stop();
  for (const c of cleanups) c();
  tui?.destroy();

  const nowMs = Date.now();
  const summary = summaryJson({ pid, tracker, nowMs });
  recorder?.write(summary);
  if (stdoutOpen()) {
    if (a.json) process.stdout.write(JSON.stringify(summary) + '\n');
    else for (const l of summaryLines(tracker, nowMs)) process.stdout.write(l + '\n');
  }

  if (typeof end === 'object' && end.kind === 'error') {
    if (isSockwatchError(end.error)) {
      process.stderr.write(`sockwatch: ${end.error.message}\n`);
      return end.error.exitCode;
    }
    throw end.error;
  }
  return 0;
}
