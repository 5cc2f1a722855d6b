import { Command, CommanderError, Option } from 'commander';
import { isSockwatchError } from '../errors';
import { installStdoutGone } from './stdout-gone';
import { choiceParser, durationParser, parsePid, parseSourceName, parseStates } from './arguments';
import { runSnapshot, SNAPSHOT_FORMATS, type SnapshotFormat } from './snapshot-command';
import type { SourceName, StateFilter } from '../model';
import { BRIEF_CHOICES, type BriefChoice } from '../sources/lifecycle/open-lifecycle';

// Read lazily so `--version` needs no JSON import at module load.
function version(): string {
  return (require('../../../package.json') as { version: string }).version;
}

const ESTABLISHED: StateFilter = new Set(['ESTABLISHED'] as const);
const DEMO_STATES: StateFilter = new Set(['ESTABLISHED', 'CLOSE_WAIT'] as const);
const MIN_INTERVAL_MS = 20;

const EXAMPLES = `
Examples:
  $ sockwatch demo                          see keep-alive reuse, churn and a leak live (no setup)
  $ sockwatch 1234                          watch PID 1234 (full-screen on a terminal, lines in a pipe)
  $ sockwatch watch 1234 --interval 250ms --duration 1m --record run.ndjson
  $ sockwatch watch 1234 --json | jq -c 'select(.type=="close")'
  $ sockwatch snapshot 1234                 lsof-like table of ESTABLISHED TCP connections
  $ sockwatch snapshot 1234 --state all --format json --output now.json

Watching a process you own needs no privileges; another user's process needs root.
Exit status: 0 ok, 1 failure, 2 usage error.`;

interface WatchFlags {
  interval: number;
  duration?: number;
  state: StateFilter;
  json?: boolean;
  record?: string;
  source?: SourceName;
  brief: BriefChoice;
  tui: boolean;
  exportDir?: string;
}

function sourceOption(): Option {
  return new Option('--source <name>', 'force a source: procfs, netlink or systeminformation (default: best available)').argParser(parseSourceName);
}
function stateOption(defaultStates = ESTABLISHED, label = 'established'): Option {
  return new Option('--state <list>', 'TCP states to show: established, all, or a comma list (e.g. established,close_wait)')
    .argParser(parseStates)
    .default(defaultStates, label);
}
function watchOptions(cmd: Command, defaultInterval: string, states = stateOption()): Command {
  return cmd
    .addOption(new Option('--interval <duration>', 'poll interval, e.g. 250ms, 1s, 1.5s, 2m (min 20ms)').argParser(durationParser(MIN_INTERVAL_MS)).default(durationParser(MIN_INTERVAL_MS)(defaultInterval), defaultInterval))
    .addOption(new Option('--duration <duration>', 'stop after this long (default: until q, Ctrl-C or the target exits)').argParser(durationParser(1)))
    .addOption(states)
    .option('--json', 'print NDJSON events (schema sockwatch.event/1) instead of lines')
    .option('--record <file>', 'also append the NDJSON events to <file>, flushed per event')
    .addOption(sourceOption())
    .addOption(
      new Option('--brief <facility>', 'how to see connections shorter than one poll: ebpf (root, bpftrace), destroy (sock_diag notifications), none; auto picks the best that works')
        .argParser(choiceParser(BRIEF_CHOICES))
        .default('auto'),
    )
    .option('--no-tui', 'print lines even on a terminal')
    .option('--export-dir <dir>', 'where the TUI keys e/c write exports (default: current directory)');
}

export function buildProgram(exit: (code: number) => void): Command {
  // exitOverride and showHelpAfterError first: subcommands copy these settings when created.
  const program = new Command('sockwatch')
    .exitOverride()
    .showHelpAfterError('(run sockwatch --help for usage)')
    .description("Watch a process's TCP connections live: how long each lives, how often it is reused, every open and close.")
    .version(version(), '-V, --version')
    .addHelpText('after', EXAMPLES);

  program
    .command('snapshot')
    .description("print the process's TCP connections once, like lsof")
    .argument('<pid>', 'process ID', parsePid)
    .addOption(stateOption())
    .addOption(new Option('--format <format>', 'table, json or csv').argParser(choiceParser(SNAPSHOT_FORMATS)).default('table'))
    .option('--output <file>', 'write to <file> (atomically) instead of stdout')
    .addOption(sourceOption())
    .action(async (pid: number, o: { state: StateFilter; format: SnapshotFormat; output?: string; source?: SourceName }) => {
      exit(await runSnapshot(pid, { states: o.state, format: o.format, output: o.output, source: o.source }));
    });

  watchOptions(
    program
      .command('watch', { isDefault: true })
      .description('follow the connections live (TUI on a terminal; `sockwatch <pid>` is short for this)')
      .argument('<pid>', 'process ID', parsePid),
    '1s',
  ).action(async (pid: number, o: WatchFlags) => {
    const { runWatch } = await import('./watch-command');
    exit(await runWatch(pid, watchArgs(o)));
  });

  watchOptions(
    program
      .command('demo')
      .description('run a local HTTP client/server that shows keep-alive reuse, churn and a leak, and watch it')
      .argument('[loop]', 'keepalive, churn, leak or all', choiceParser(['keepalive', 'churn', 'leak', 'all'] as const), 'all'),
    '250ms',
    // The leak loop's lesson ends in CLOSE_WAIT, so the demo follows connections there.
    stateOption(DEMO_STATES, 'established,close_wait'),
  ).action(async (loop: 'keepalive' | 'churn' | 'leak' | 'all', o: WatchFlags) => {
    const { runDemo } = await import('./demo-command');
    exit(await runDemo(loop, watchArgs(o)));
  });

  return program;
}

function watchArgs(o: WatchFlags): WatchArgs {
  return {
    intervalMs: o.interval,
    durationMs: o.duration,
    states: o.state,
    json: Boolean(o.json),
    record: o.record,
    source: o.source,
    brief: o.brief,
    tui: o.tui,
    exportDir: o.exportDir ?? process.cwd(),
  };
}
export interface WatchArgs {
  intervalMs: number;
  durationMs: number | undefined;
  states: StateFilter;
  json: boolean;
  record: string | undefined;
  source: SourceName | undefined;
  brief: BriefChoice;
  tui: boolean;
  exportDir: string;
}

/** A usage error caught before commander parses: show the whole help, or one line. */
export type Misuse = { help: true } | { error: string };

/**
 * What commander would get wrong for a bare `sockwatch` or a mistyped command, since `watch` is
 * the default command: with no arguments it would only say "missing required argument 'pid'",
 * and `sockwatch frob 1` would be "too many arguments for 'watch'". Undefined: let commander parse.
 */
export function misuse(program: Command, args: readonly string[]): Misuse | undefined {
  if (args.length === 0) return { help: true };
  const first = args[0]!;
  if (first.startsWith('-') || /^\d+$/.test(first)) return undefined;
  const known = new Set(['help', ...program.commands.flatMap((c) => [c.name(), ...c.aliases()])]);
  if (known.has(first)) return undefined;
  return { error: `error: unknown command '${first}' (commands: ${program.commands.map((c) => c.name()).join(', ')}; or a PID to watch)` };
}

export async function main(argv: string[]): Promise<void> {
  const exit = (code: number): never => process.exit(code);
  // A reader that goes away (`| head`) is a normal end, not a crash.
  installStdoutGone(exit);
  const program = buildProgram(exit);
  const wrong = misuse(program, argv.slice(2));
  if (wrong !== undefined) {
    if ('help' in wrong) program.outputHelp({ error: true });
    else process.stderr.write(`${wrong.error}\n(run sockwatch --help for usage)\n`);
    exit(2);
  }
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      exit(e.exitCode === 0 ? 0 : 2);
    }
    if (isSockwatchError(e)) {
      process.stderr.write(`sockwatch: ${e.message}\n`);
      exit(e.exitCode);
    }
    process.stderr.write(`sockwatch: unexpected error\n${e instanceof Error ? e.stack : String(e)}\n`);
    exit(1);
  }
}
