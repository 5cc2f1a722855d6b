// The entry point's first stop. `sockwatch snapshot PID [--state LIST] [--format FORMAT]` — the
// one-shot that is compared with lsof — is parsed here by hand and run without loading commander
// or the rest of the CLI, and without the availability probe of the auto source: netlink is tried
// and procfs taken when netlink cannot see the target. Anything else, including every malformed
// or unusual spelling of those arguments, goes to the full CLI (main.ts), which also answers for
// every error: when the fast path fails before printing, the full CLI runs the command again and
// reports in its own words.
import { parseStateList } from './state-list';
import { DEFAULT_SNAPSHOT_STATES, SNAPSHOT_FORMATS, type SnapshotPlan } from '../watch/snapshot-plan';

/**
 * The plain snapshot's arguments (argv without node and the script), or undefined when they are
 * anything else: then commander parses them. Accepts exactly `snapshot`, one PID of digits, and at
 * most one each of `--state`/`--format`, as `--opt value` or `--opt=value`, with values the full
 * CLI would accept.
 */
export function plainSnapshotArgs(args: readonly string[]): SnapshotPlan | undefined {
  if (args[0] !== 'snapshot') return undefined;
  let pid: number | undefined;
  let stateText: string | undefined;
  let formatText: string | undefined;
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    let name: string;
    let value: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq < 0 ? a : a.slice(0, eq);
      value = eq < 0 ? args[++i] : a.slice(eq + 1);
      // a value that looks like an option, or none: commander's business
      if (value === undefined || value.startsWith('-')) return undefined;
    } else if (/^[1-9]\d*$/.test(a) && pid === undefined) {
      pid = Number(a);
      if (!Number.isSafeInteger(pid)) return undefined;
      continue;
    } else {
      return undefined;
    }
    if (name === '--state' && stateText === undefined) stateText = value;
    else if (name === '--format' && formatText === undefined) formatText = value;
    else return undefined;
  }
  if (pid === undefined) return undefined;
  let states = DEFAULT_SNAPSHOT_STATES;
  if (stateText !== undefined) {
    try {
      states = parseStateList(stateText);
    } catch {
      return undefined;
    }
  }
  const format = formatText === undefined ? 'table' : SNAPSHOT_FORMATS.find((f) => f === formatText.toLowerCase());
  if (format === undefined) return undefined;
  return { spec: { pids: [pid], children: false }, states, format };
}

/** The entry point: the fast path for a plain snapshot, the full CLI for everything else. */
export function mainFast(argv: string[]): void {
  const plain = process.platform === 'linux' ? plainSnapshotArgs(argv.slice(2)) : undefined;
  if (plain === undefined) {
    void fullCli(argv);
    return;
  }
  runPlain(plain).then(
    (printed) => {
      if (!printed) void fullCli(argv);
    },
    () => void fullCli(argv),
  );
}

function fullCli(argv: string[]): Promise<void> {
  return (require('./main') as typeof import('./main')).main(argv);
}

/** Resolves false (nothing printed) when the full CLI should take over. */
async function runPlain(plan: SnapshotPlan): Promise<boolean> {
  const { snapshotOnce } = await import('../watch/snapshot-once');
  const { oneShotSource } = await import('../sources/one-shot-source');
  const { useColor } = await import('../views/output/state-color');
  const { installStdoutGone } = await import('./stdout-gone');
  const { exitAfterDrain } = await import('./exit-after-drain');
  const pid = plan.spec.pids[0]!;
  let printed = false;
  await snapshotOnce(
    plan,
    {
      stdout: (text) => {
        installStdoutGone((code) => void exitAfterDrain(code));
        process.stdout.write(text);
        printed = true;
      },
      color: useColor(process.stdout),
      stderr: (text) => void process.stderr.write(text),
      now: Date.now,
    },
    // Errors about the target itself are the full CLI's to report, in its own words.
    { open: () => oneShotSource(pid, { tcpInfo: plan.format === 'json', directions: plan.format === 'json' }) },
  );
  if (printed) void exitAfterDrain(0);
  return printed;
}
