// The real process as a watch's I/O (src/watch/watch-io.ts): stdout and stderr, the terminal,
// signals, the clock and timers, the heap settings of a long run.
import type { WatchIo } from '../watch/watch-io';
import { onStdoutGone, stdoutOpen } from './stdout-gone';
import { setLongTimeout } from '../util/long-timeout';
import { tuneHeapForLongRun, tuneYoungGenerationFor } from '../util/long-run-heap';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export function processWatchIo(): WatchIo {
  return {
    stdout: {
      write: (text) => void process.stdout.write(text),
      isOpen: stdoutOpen,
      get isTTY() {
        return Boolean(process.stdout.isTTY);
      },
    },
    stderr: (text) => void process.stderr.write(text),
    terminal: { input: process.stdin, output: process.stdout },
    onSignal: (handler) => {
      // once per signal: a second Ctrl-C while the watch winds down is the default one (it kills)
      for (const s of SIGNALS) process.once(s, handler);
      return () => {
        for (const s of SIGNALS) process.removeListener(s, handler);
      };
    },
    onStdoutGone: (handler) => {
      onStdoutGone(handler);
      return () => onStdoutGone(undefined);
    },
    now: Date.now,
    // a long --duration outlasts one Node timer (util/long-timeout.ts)
    timers: { set: (fn, ms) => setLongTimeout(fn, ms), clear: (cancel) => (cancel as () => void)() },
    cwd: () => process.cwd(),
    heap: { longRun: tuneHeapForLongRun, firstPoll: tuneYoungGenerationFor },
  };
}
