import { Command, CommanderError, Option } from 'commander';
import { isSockwatchError } from '../errors';
import { installStdoutGone } from './stdout-gone';
import { exitAfterDrain } from './exit-after-drain';
import { choiceParser, durationParser, parsePid, parsePidList, parseSourceName, parseStates } from './arguments';
import type { TargetSpec } from '../process/target-selection';
import { runSnapshot, SNAPSHOT_FORMATS, type SnapshotFormat } from './snapshot-command';
import type { SourceName, StateFilter } from '../model';
import { hideOptions, metricsOptions, type MetricsFlags } from './metrics-options';
import { SockwatchError } from '../errors';
import { BRIEF_CHOICES, type BriefChoice } from '../sources/lifecycle/open-lifecycle';
import type { WatchArgs } from './watch-args';
import { terminalText } from '../util/terminal-text';
import { MAX_INTERVAL_MS, MIN_INTERVAL_MS } from '../util/duration';

// Read lazily so `--version` needs no JSON import at module load.
function version(): string {
  return (require('../../../package.json') as { version: string }).version;
}

const ESTABLISHED: StateFilter = new Set(['ESTABLISHED'] as const);
const DEMO_STATES: StateFilter = new Set(['ESTABLISHED', 'CLOSE_WAIT'] as const);

const EXAMPLES = `
Examples:
  $ sockwatch demo                          see keep-alive reuse, churn and a leak live (no setup)
  $ sockwatch 1234                          watch PID 1234 (full-screen on a terminal, lines in a pipe)
  $ sockwatch nginx                         every process named nginx (short for watch --name nginx)
  $ sockwatch watch 4242 --children         PID 4242 and its descendants, workers born later included
  $ sockwatch watch -p 12,34 --json         two processes in one view
  $ sockwatch run -- node client.js         start a command and watch it from its first connection
  $ sockwatch watch 1234 --interval 250ms --duration 1m --record run.ndjson
  $ sockwatch watch 1234 --json | jq -c 'select(.type=="close")'
  $ sockwatch snapshot 1234                 lsof-like table of ESTABLISHED TCP connections
  $ sockwatch snapshot 1234 --state all --format json --output now.json
  $ sockwatch serve 1234 --metrics :9464     Prometheus metrics at http://127.0.0.1:9464/metrics
  $ sockwatch serve --name gunicorn         metrics that follow gunicorn through its restarts
  $ sockwatch replay run.ndjson             replay a recording full-screen (findings recomputed)
  $ sockwatch report run.ndjson -o run.html one self-contained HTML timeline of a recording

Watching a process you own needs no privileges; another user's process needs root.
Exit status: 0 ok, 1 failure, 2 usage error.`;

interface WatchFlags {
  interval: number;
  duration?: number;
  state: StateFilter;
  json?: boolean;
  record?: string;
  report?: string;
  source?: SourceName;
  brief: BriefChoice;
  tui: boolean;
  exportDir?: string;
}
type WatchAndMetricsFlags = WatchFlags & MetricsFlags & TargetFlags;

interface TargetFlags {
  pid?: number[];
  name?: string;
  children?: boolean;
  wait?: boolean;
}

/** The target options of watch, snapshot and serve: a PID, -p 12,34, --name, --children, --wait. */
function targetOptions(cmd: Command, what = 'watch'): Command {
  return cmd
    .argument('[pid]', 'process ID', parsePid)
    .addOption(new Option('-p, --pid <list>', `${what} these PIDs together: a comma list, e.g. 12,34`).argParser(parsePidList))
    .option('--name <name>', `${what} every process of this name (its comm or argv[0]'s basename, like pgrep -x)`)
    .option('--children', `also ${what} every descendant of the selected processes (with watch: those born later too)`)
    .option('--wait', 'when no process matches --name yet, wait for one instead of failing');
}

/** What the target options select; a usage error (exit 2) when they select nothing. */
export function targetSpec(pid: number | undefined, o: TargetFlags): TargetSpec {
  const pids = [...new Set([...(pid === undefined ? [] : [pid]), ...(o.pid ?? [])])];
  if (pids.length === 0 && o.name === undefined) {
    throw new SockwatchError('invalid_argument', 'no target: give a PID, -p/--pid 12,34 or --name <name>');
  }
  if (o.name !== undefined && o.name.trim() === '') throw new SockwatchError('invalid_argument', '--name needs a process name');
  if (o.wait === true && o.name === undefined) throw new SockwatchError('invalid_argument', '--wait needs --name (a PID that does not exist will not appear)');
  const spec: TargetSpec = { pids, children: o.children === true };
  return o.name === undefined ? spec : { ...spec, name: o.name };
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
    .addOption(new Option('--interval <duration>', 'poll interval, e.g. 250ms, 1s, 1.5s, 2m (20ms to 1h)').argParser(durationParser(MIN_INTERVAL_MS, MAX_INTERVAL_MS)).default(durationParser(MIN_INTERVAL_MS, MAX_INTERVAL_MS)(defaultInterval), defaultInterval))
    .addOption(new Option('--duration <duration>', 'stop after this long (default: until q, Ctrl-C or the target exits)').argParser(durationParser(1)))
    .addOption(states)
    .option('--json', 'print NDJSON events (schema sockwatch.event/1) instead of lines')
    .option('--record <file>', 'also append the NDJSON events to <file> (a regular file), flushed per event')
    .option('--report <file>', 'write an HTML report of the whole watch to <file> when it ends')
    .addOption(sourceOption())
    .addOption(
      new Option('--brief <facility>', 'how to see connections shorter than one poll: ebpf (root, in-kernel, with owner PIDs), destroy (sock_diag notifications), none; auto picks the best that works')
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
    .addOption(stateOption())
    .addOption(new Option('--format <format>', 'table, json or csv').argParser(choiceParser(SNAPSHOT_FORMATS)).default('table'))
    .option('--output <file>', 'write to <file> instead of stdout (a file is replaced atomically, keeping its mode; a FIFO or device is written through)')
    .addOption(sourceOption());
  targetOptions(program.commands[program.commands.length - 1]!, 'show').action(
    async (pid: number | undefined, o: TargetFlags & { state: StateFilter; format: SnapshotFormat; output?: string; source?: SourceName }) => {
      const spec = targetSpec(pid, o);
      exit(await runSnapshot({ spec, states: o.state, format: o.format, output: o.output, source: o.source, wait: o.wait === true }));
    },
  );

  metricsOptions(watchOptions(
    targetOptions(program
      .command('watch', { isDefault: true })
      .description('follow the connections live (TUI on a terminal; `sockwatch <pid>` and `sockwatch <name>` are short for this)')),
    '1s',
  )).action(async (pid: number | undefined, o: WatchAndMetricsFlags) => {
    const spec = targetSpec(pid, o);
    const { runWatch } = await import('./watch-command');
    exit(await runWatch(spec, { ...watchArgs(o), ...metricsArgs(o), wait: o.wait === true }));
  });

  hideOptions(metricsOptions(watchOptions(
    targetOptions(program
      .command('serve')
      .description('serve Prometheus metrics about the connections, headless (no output unless --json), until SIGTERM; outlives the target (with --name: follows it through restarts)')),
    '1s',
  ), true), ['--no-tui', '--export-dir']).action(async (pid: number | undefined, o: WatchAndMetricsFlags) => {
    const spec = targetSpec(pid, o);
    const { runWatch } = await import('./watch-command');
    exit(await runWatch(spec, { ...watchArgs(o), ...metricsArgs(o), tui: false, serve: true, wait: o.wait === true }));
  });

  metricsOptions(watchOptions(
    program
      .command('run')
      .description('start CMD (no shell) and watch it and its descendants from before its first connection; ends when CMD exits, with its exit status')
      .argument('<cmd...>', 'the command and its arguments, after --')
      .usage('[options] -- CMD [ARGS...]'),
    '1s',
  )).action(async (cmd: string[], o: WatchAndMetricsFlags) => {
    const { runCommand } = await import('./run-command');
    exit(await runCommand(cmd, { ...watchArgs(o), ...metricsArgs(o) }));
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

  program
    .command('replay')
    .description('replay a recording (--record) in the full-screen view, findings recomputed; lines and a summary check in a pipe')
    .argument('<recording>', 'an NDJSON recording made with --record')
    .option('--no-tui', 'print the event lines and the recomputed summary even on a terminal')
    .option('--json', 'print the replay as NDJSON (schema sockwatch.event/1), as watch --json does')
    .option('--export-dir <dir>', 'where the TUI keys e/c/h write exports (default: current directory)')
    .action(async (file: string, o: { tui: boolean; json?: boolean; exportDir?: string }) => {
      const { runReplay } = await import('./replay-command');
      exit(await runReplay(file, { tui: o.tui, json: o.json === true, exportDir: o.exportDir ?? process.cwd() }));
    });

  program
    .command('report')
    .description('write a self-contained HTML report (timeline, charts, findings) of a recording')
    .argument('<recording>', 'an NDJSON recording made with --record')
    .requiredOption('-o, --output <file>', 'the HTML file to write (atomically)')
    .action(async (file: string, o: { output: string }) => {
      const { runReport } = await import('./report-command');
      exit(await runReport(file, o.output));
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
    report: o.report,
    source: o.source,
    brief: o.brief,
    tui: o.tui,
    exportDir: o.exportDir,
  };
}
function metricsArgs(o: MetricsFlags): Pick<WatchArgs, 'metrics' | 'metricsPeers'> {
  if (o.metricsPeers !== undefined && o.metrics === undefined) throw new SockwatchError('invalid_argument', '--metrics-peers needs --metrics <addr>');
  return { metrics: o.metrics, metricsPeers: o.metricsPeers };
}
/** A usage error caught before commander parses: show the whole help, or one line; or the shorthand to expand. */
export type Misuse = { help: true } | { error: string } | { rewrite: string[] };

/** What `sockwatch <word>` may take as a process name: a plain word, not an option nor a path. */
const NAME_WORD = /^[A-Za-z_][\w.@:+-]*$/;

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
  // `sockwatch nginx [options]`: short for `watch --name nginx`; a second word is a mistyped command
  const second = args[1];
  if (NAME_WORD.test(first) && (second === undefined || second.startsWith('-'))) return { rewrite: ['watch', '--name', first, ...args.slice(1)] };
  return { error: `error: unknown command '${first}' (commands: ${program.commands.map((c) => c.name()).join(', ')}; or a PID or a process name to watch)` };
}

export async function main(argv: string[]): Promise<void> {
  // Every exit waits for stdout and stderr to be written out (see exit-after-drain.ts).
  const exit = (code: number): void => void exitAfterDrain(code);
  // A reader that goes away (`| head`) is a normal end, not a crash.
  installStdoutGone(exit);
  const program = buildProgram(exit);
  const wrong = misuse(program, argv.slice(2));
  let shorthand: string | undefined;
  if (wrong !== undefined && 'rewrite' in wrong) {
    shorthand = argv[2];
    argv = [...argv.slice(0, 2), ...wrong.rewrite];
  } else if (wrong !== undefined) {
    if ('help' in wrong) program.outputHelp({ error: true });
    else process.stderr.write(`${terminalText(wrong.error)}\n(run sockwatch --help for usage)\n`);
    return exitAfterDrain(2);
  }
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) return exitAfterDrain(e.exitCode === 0 ? 0 : 2);
    if (isSockwatchError(e)) {
      // `sockwatch snapshots` matched no process: it may be a mistyped command
      const also = shorthand !== undefined && e.code === 'no_such_process' ? ` ('${shorthand}' is not a command either: ${program.commands.map((c) => c.name()).join(', ')})` : '';
      // a message may quote a recording, a file name or a process name
      process.stderr.write(`sockwatch: ${terminalText(e.message)}${also}\n`);
      return exitAfterDrain(e.exitCode);
    }
    // a bug's report, but its message may quote what a target or a file said: escaped line by line
    const report = (e instanceof Error ? (e.stack ?? e.message) : String(e)).split('\n').map(terminalText).join('\n');
    process.stderr.write(`sockwatch: unexpected error\n${report}\n`);
    return exitAfterDrain(1);
  }
}
