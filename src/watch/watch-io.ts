// Everything a watch does to the process it runs in, handed over at its start (as bandwhich hands
// its OS inputs to start()): the CLI gives the real process (src/cli/process-io.ts), tests give
// fakes (test/helpers/fake-watch-io.ts) and run the whole watch in-process.
import type { Timers } from './poll-session';

/** stdout as the watch sees it */
export interface WatchOutput {
  write(text: string): void;
  /** false once the stream failed (EPIPE, a full disk): nothing more is written to it */
  isOpen(): boolean;
  readonly isTTY: boolean;
}

export interface WatchIo {
  stdout: WatchOutput;
  /** a line (or lines) for the person watching, newline included */
  stderr(text: string): void;
  /** the terminal the full-screen view reads keys from and draws to; only used when both are TTYs */
  terminal: { input: NodeJS.ReadableStream & { isTTY?: boolean }; output: NodeJS.WritableStream };
  /** SIGINT, SIGTERM, SIGHUP: calls `handler` on each; returns the function that stops listening */
  onSignal(handler: () => void): () => void;
  /** stdout failed (EPIPE and any other error): calls `handler`; returns the function that stops listening */
  onStdoutGone(handler: () => void): () => void;
  /** wall-clock ms: the watch's and its poll session's one clock */
  now(): number;
  /** the poll timer and the watch's own (--duration, run's settling); any finite delay */
  timers: Timers;
  /** where the TUI's exports go without --export-dir */
  cwd(): string;
  /** V8 settings of a long-running process (util/long-run-heap.ts); absent in tests */
  heap?: { longRun(): void; firstPoll(connections: number): void };
}

/** One timer of `timers`, as a cancel function. */
export function after(timers: Timers, ms: number, fn: () => void): () => void {
  const h = timers.set(fn, ms);
  return () => timers.clear(h);
}
