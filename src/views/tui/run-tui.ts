// Entry point of the full-screen view. blessed is required lazily here so the CLI's line modes
// (not a TTY, --json) never load it.
import type * as Blessed from 'blessed';
import type { WatchSession } from '../session-types';
import { TuiController, type ControllerDeps, type Exporter } from './controller';
import { createFrame } from './draw';
import { noColorRequested } from '../output/state-color';

export interface TuiOptions {
  /** where `e` / `c` write export files */
  exportDir: string;
  /** the watched command line, shown until the first poll names the process */
  command?: string;
  /** no color whatever NO_COLOR says (NO_COLOR itself is read here) */
  noColor?: boolean;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  onExit?: (code: number) => void;
  /** one explanatory line from the demo, shown under the header */
  demoBanner?: string;
  /** the demo banner in one line, shown once the legend is folded */
  demoBannerFolded?: string;
  /** how long the demo's legend stays unfolded without a key press (controller.ts LEGEND_FOLD_MS) */
  legendFoldMs?: number;
  /** tests inject a fake; the default is views/output/export-file */
  exporter?: Exporter;
  /** `h` key: see ControllerDeps.htmlReport */
  htmlReport?: (dir: string, nowMs: number) => Promise<string>;
  /** replay keys and banner: see ControllerDeps.replay */
  replay?: ControllerDeps['replay'];
  /** the first status line (e.g. where `run` writes CMD's output, a hint) */
  status?: string;
  /** SIGINT/SIGTERM/SIGHUP quit the view (default); false when the caller handles them (`run` forwards them) */
  handleSignals?: boolean;
}

export interface TuiHandle {
  /** Restores the terminal (leaves the alternate screen, shows the cursor). Safe to call twice. */
  destroy(): void;
  /**
   * Resolves with the exit code when the user quits (q, Ctrl-C, or SIGINT/SIGTERM/SIGHUP: 0) or
   * destroy() is called; rejects with the error when an uncaught exception tore the screen down.
   */
  readonly done: Promise<number>;
  /** the blessed screen, for tests that read the rendered frame */
  readonly screen: Blessed.Widgets.Screen;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function colorEnabled(opts: TuiOptions): boolean {
  return !opts.noColor && !noColorRequested();
}

export function runTui(session: WatchSession, opts: TuiOptions): TuiHandle {
  // Required here, not imported at the top: see the file comment. require() is untyped, hence the cast.
  const blessed = require('blessed') as typeof Blessed;
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const screen = blessed.screen({
    // @types/blessed declares input as Writable and output as Readable (swapped); blessed itself
    // reads keys from `input` and draws to `output`, so the casts only undo the typing mistake.
    input: input as unknown as Blessed.Widgets.IScreenOptions['input'],
    output: output as unknown as Blessed.Widgets.IScreenOptions['output'],
    smartCSR: true,
    warnings: false,
    title: 'sockwatch',
    autoPadding: false,
  });
  // blessed swaps box-drawing glyphs and ≥ for the terminal's alternate character set whenever
  // terminfo offers one; under tmux (TERM=tmux-256color) that shows up as literal "q", "x", "z".
  // Every glyph we draw is plain UTF-8, so skip ACS. `tput` is missing from the typings, hence the cast.
  (screen.program as unknown as { tput: { brokenACS: boolean } }).tput.brokenACS = true;
  screen.program.hideCursor();

  let resolveDone!: (code: number) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<number>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  // The CLI may not be awaiting `done` when a crash rejects it; the error is reported by Node anyway.
  done.catch(() => undefined);

  let torn = false;
  const teardown = (): void => {
    if (torn) return;
    torn = true;
    controller.dispose();
    for (const sig of SIGNALS) process.removeListener(sig, onSignal);
    process.removeListener('uncaughtExceptionMonitor', onCrash);
    // screen.destroy() leaves the alternate screen, shows the cursor and restores cooked mode.
    screen.destroy();
  };
  const finish = (code: number): void => {
    if (torn) return;
    teardown();
    opts.onExit?.(code);
    resolveDone(code);
  };
  // A signal is an ordinary way to quit a monitor.
  const onSignal = (): void => finish(0);
  // The monitor runs before Node (or the CLI's handler) prints the stack, so the stack lands on a
  // restored terminal instead of the alternate screen.
  const onCrash = (err: Error): void => {
    if (torn) return;
    teardown();
    rejectDone(err);
  };

  const controller = new TuiController({
    session,
    screen,
    frame: createFrame(blessed, screen),
    color: colorEnabled(opts),
    exportDir: opts.exportDir,
    exporter: async () => opts.exporter ?? (await import('../output/export-file')).exportLiveSnapshot,
    command: opts.command,
    demoBanner: opts.demoBanner,
    demoBannerFolded: opts.demoBannerFolded,
    ...(opts.legendFoldMs !== undefined ? { legendFoldMs: opts.legendFoldMs } : {}),
    onQuit: finish,
    htmlReport: opts.htmlReport,
    replay: opts.replay,
    ...(opts.status !== undefined ? { status: opts.status } : {}),
  });

  if (opts.handleSignals !== false) for (const sig of SIGNALS) process.on(sig, onSignal);
  process.on('uncaughtExceptionMonitor', onCrash);
  screen.on('keypress', (ch: string | undefined, key: Blessed.Widgets.Events.IKeyEventArg | undefined) => controller.handleKey(ch, key));
  screen.on('resize', () => controller.requestRedraw());
  controller.requestRedraw();

  return {
    destroy: () => {
      teardown();
      resolveDone(0);
    },
    done,
    screen,
  };
}
