// `sockwatch replay <recording>`: the full-screen view over a recording, or (--no-tui, a pipe) the
// event lines as the tracker recomputes them and a check of the recorded summary against them.
import { readRecording } from '../replay/recording-reader';
import { Replayer, sourceNameOf } from '../replay/replayer';
import { analyzeRecording } from '../replay/replay-analysis';
import { compareSummaries } from '../replay/summary-check';
import { ReplaySession } from '../replay/replay-session';
import type { Recording } from '../replay/recording';
import { endpointWidthFor, eventHeader, eventLine, hasLine, startLine, summaryLines } from '../views/output/event-lines';
import { formatEndpoint } from '../core/endpoint';
import { formatDuration } from '../util/duration';
import type { TrackerEvent } from '../core/tracker-types';
import type { Endpoint } from '../model';
import { stdoutOpen } from './stdout-gone';
import type { StateFilter, TcpState } from '../model';
import { writeReport } from '../report/write-report';
import * as path from 'node:path';
import { eventJson, isoTime, startEventJson, summaryJson } from '../views/output/json-shapes';
import { terminalText } from '../util/terminal-text';
import { tuneHeapForLongRun } from '../util/long-run-heap';
import { oneLineErrors } from './recording-errors';

export interface ReplayArgs {
  tui: boolean;
  exportDir: string;
  /** NDJSON like `watch --json`: the start line, the replayed events, the replayed summary */
  json?: boolean;
}

/** A warning quotes the recording (its name, an event type): escaped whole. */
function warn(message: string): void {
  process.stderr.write(`sockwatch: ${terminalText(message)}\n`);
}

export async function runReplay(file: string, a: ReplayArgs): Promise<number> {
  return oneLineErrors(`cannot replay ${file}`, async () => {
    tuneHeapForLongRun();
    const rec = await readRecording(file, { onWarning: warn });
    if (a.json === true) return replayJson(rec);
    const useTui = a.tui && Boolean(process.stdout.isTTY) && Boolean(process.stdin.isTTY);
    return useTui ? replayTui(rec, a) : replayLines(rec);
  });
}

function statesOf(rec: Recording): StateFilter {
  return rec.start.states.length === 0 ? 'all' : new Set<TcpState>(rec.start.states);
}

function* endpointsOf(events: readonly TrackerEvent[]): Generator<Endpoint> {
  for (const e of events) {
    if (e.type === 'open' || e.type === 'close' || e.type === 'state') yield* [e.conn.connection.local, e.conn.connection.remote];
  }
}

function replayLines(rec: Recording): number {
  const out = (line: string): void => {
    if (stdoutOpen()) process.stdout.write(line + '\n');
  };
  const r = new Replayer(rec);
  out(`replaying ${terminalText(rec.name)}: ${startLine(rec.start.process, sourceNameOf(rec), rec.start.intervalMs, statesOf(rec)).replace(/^watching/, 'watched')}`);
  // The whole recording is at hand: the endpoint columns fit every endpoint in it.
  const events: TrackerEvent[] = [];
  while (!r.done) events.push(...r.next());
  let width = endpointWidthFor(endpointsOf(events));
  for (const e of endpointsOf(events)) width = Math.max(width, terminalText(formatEndpoint(e)).length);
  out(eventHeader(false, width));
  for (const e of events) if (hasLine(e)) out(eventLine(e, false, width));
  for (const l of summaryLines(r.tracker, r.plan.endMs)) out(l);
  if (!rec.summary) {
    out('check: the recording has no summary (cut short?); the one above is computed from its events');
    return 0;
  }
  const diffs = compareSummaries(rec.summary, analyzeRecording(rec).summary);
  if (diffs.length === 0) out('check: the recorded summary agrees with the replay');
  else {
    out(`check: the recorded summary differs from the replay in ${diffs.length} field${diffs.length === 1 ? '' : 's'}:`);
    // a difference quotes recorded ids and kinds
    for (const d of diffs) out(`  ${terminalText(d)}`);
  }
  return 0;
}

/**
 * The replay as `watch --json` writes a watch: the recording's start, then the events as the
 * replay feeds them with the findings drawn afresh, then the summary the replay arrives at.
 */
function replayJson(rec: Recording): number {
  const out = (o: object): void => {
    if (stdoutOpen()) process.stdout.write(JSON.stringify(o) + '\n');
  };
  const r = new Replayer(rec);
  const s = rec.start;
  out(startEventJson({ timeMs: s.atMs, process: s.process, intervalMs: s.intervalMs, source: sourceNameOf(rec), states: statesOf(rec), briefConnections: { facility: 'none', reason: 'replay of a recording' }, ...(s.processes !== undefined ? { processes: s.processes } : {}) }));
  while (!r.done) for (const e of r.next()) out(eventJson(s.pid, e));
  out(summaryJson({ pid: s.pid, tracker: r.tracker, nowMs: r.plan.endMs }));
  return 0;
}

async function replayTui(rec: Recording, a: ReplayArgs): Promise<number> {
  const analysis = analyzeRecording(rec);
  const replayer = new Replayer(rec);
  const session = new ReplaySession(replayer, analysis.marks, rec.name, { sourceName: sourceNameOf(rec) });
  const { runTui } = await import('../views/tui/run-tui');
  const handle = runTui(session, {
    exportDir: a.exportDir,
    command: rec.start.process.cmdline,
    replay: session,
    // The report covers the whole recording, wherever playback is.
    htmlReport: async (dir) => {
      const stamp = isoTime(Date.now()).replace(/[:.]/g, '-');
      return writeReport(path.join(dir, `sockwatch-${rec.start.pid}-replay-${stamp}.html`), rec);
    },
  });
  session.begin();
  const code = await handle.done;
  await session.stop();
  // The full screen is gone: what was replayed stays on the normal screen, as a watch's summary does.
  if (stdoutOpen()) {
    const nowMs = session.now();
    const lines = [
      `replayed ${terminalText(rec.name)}: ${formatDuration(nowMs - session.startedMs)} of ${formatDuration(replayer.plan.endMs - session.startedMs)}`,
      ...summaryLines(session.tracker, nowMs),
    ];
    process.stdout.write(lines.map((l) => l + '\n').join(''));
  }
  return code;
}
