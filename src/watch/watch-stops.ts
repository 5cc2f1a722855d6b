// The ways a watch ends, raced: the target's exit (or a failed poll), --duration, a signal, stdout
// gone, `q` on the full screen, `run`'s command exiting, a recording that cannot be written.
import { terminalText } from '../util/terminal-text';
import { isSockwatchError, type SockwatchError } from '../errors';
import type { PollSession, SessionEnd } from './poll-session';
import { after, type WatchIo } from './watch-io';

export type WatchEnd = SessionEnd | 'duration' | 'signal' | 'quit' | SockwatchError | { command: number };

export interface StopConditions {
  session: PollSession;
  intervalMs: number;
  /** the full screen or serve: an exited target stays on screen / keeps serving until told to stop */
  outliveTarget: boolean;
  durationMs?: number;
  /** `run`: CMD's exit status */
  commandExit?: Promise<number>;
  /** a recording's first failed write */
  recordingFailed?: Promise<SockwatchError>;
  /** the full screen was quit (q, Ctrl-C) */
  quit?: Promise<unknown>;
  /** SIGINT/SIGTERM/SIGHUP end the watch (false: `run` forwards them to CMD) */
  signals: boolean;
  /** stdout failing ends the watch gracefully, so a recording still ends with `summary` (line modes) */
  stdoutGone: boolean;
}

/** The first end to come; `dispose` removes what the race set up (timers, listeners). */
export function raceStops(c: StopConditions, io: WatchIo): { end: Promise<WatchEnd>; dispose(): void } {
  const cleanups: (() => void)[] = [];
  const { session } = c;
  // On a terminal an exited target stays on screen (banner, data, export) until the user quits;
  // in a pipe the exit ends the watch. A service (serve) keeps serving metrics.
  const ended = c.outliveTarget ? session.ended.then((e) => (e.kind === 'error' ? e : new Promise<never>(() => undefined))) : session.ended;
  const stops: Promise<WatchEnd>[] = [ended];
  if (c.commandExit) {
    // Let a poll see CMD gone (its closes and `exit`) before ending: a few intervals at most, as
    // descendants may outlive it.
    const settle = (): Promise<unknown> => Promise.race([session.ended, new Promise((r) => cleanups.push(after(io.timers, 2 * c.intervalMs + 200, () => r(undefined))))]);
    stops.push(c.commandExit.then(async (code) => (await settle(), { command: code })));
  }
  if (c.recordingFailed) stops.push(c.recordingFailed);
  const durationMs = c.durationMs;
  if (durationMs !== undefined) stops.push(new Promise((r) => cleanups.push(after(io.timers, durationMs, () => r('duration')))));
  if (c.quit) stops.push(c.quit.then(() => 'quit' as const));
  if (c.signals || c.stdoutGone) {
    stops.push(
      new Promise((r) => {
        const stop = (): void => r('signal');
        if (c.signals) cleanups.push(io.onSignal(stop));
        // EPIPE and other stdout errors alike: stop, so the recording ends with its summary; the
        // exit reports a stdout error other than EPIPE (exit 1).
        if (c.stdoutGone) cleanups.push(io.onStdoutGone(stop));
      }),
    );
  }
  return {
    end: Promise.race(stops),
    dispose: () => {
      for (const f of cleanups) f();
    },
  };
}

/** The exit code of a watch that ended so; an unexpected poll error is thrown (the CLI prints its stack). */
export function exitCodeOf(end: WatchEnd, io: Pick<WatchIo, 'stderr'>): number {
  if (isSockwatchError(end)) {
    io.stderr(`sockwatch: ${terminalText(end.message)}\n`);
    return end.exitCode;
  }
  if (typeof end === 'object' && 'command' in end) return end.command;
  if (typeof end === 'object' && end.kind === 'error') {
    if (isSockwatchError(end.error)) {
      io.stderr(`sockwatch: ${terminalText(end.error.message)}\n`);
      return end.error.exitCode;
    }
    throw end.error;
  }
  return 0;
}
