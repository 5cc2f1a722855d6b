// Where a watch's output goes, decided once from the plan and the terminal: the full-screen view,
// lines, NDJSON, or nothing (serve without --json).
import type { WatchArgs } from './watch-plan';
import type { WatchIo } from './watch-io';

export interface OutputMode {
  /** the full-screen view owns the terminal */
  tui: boolean;
  /** serve: headless, stdout only for --json */
  quiet: boolean;
  json: boolean;
}

export function outputMode(a: WatchArgs, io: Pick<WatchIo, 'stdout' | 'terminal'>): OutputMode {
  const quiet = a.serve === true && !a.json;
  const tui = a.tui && io.stdout.isTTY && io.terminal.input.isTTY === true && !a.json;
  return { tui, quiet, json: a.json };
}

/** A line to stdout when lines go there (not on the full screen, not in serve, not after stdout failed). */
export function lineWriter(mode: OutputMode, io: Pick<WatchIo, 'stdout'>): (line: string) => void {
  return (line) => {
    if (!mode.tui && !mode.quiet && io.stdout.isOpen()) io.stdout.write(line + '\n');
  };
}
