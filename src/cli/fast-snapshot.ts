// The entry point's first stop. `sockwatch snapshot PID [--state LIST] [--format FORMAT]` — the
// one-shot that is compared with lsof — is parsed here by hand and run without loading commander
// or the rest of the CLI, and without the availability probe of the auto source: netlink is tried
// and procfs taken when netlink cannot see the target. Anything else, including every malformed
// or unusual spelling of those arguments, goes to the full CLI (main.ts), which also answers for
// every error: when the fast path fails before printing, the full CLI runs the command again and
// reports in its own words.
import type { StateFilter } from '../model';
import { parseStateList } from './state-list';

import type { SnapshotFormat } from '../views/output/snapshot-text';

export type PlainFormat = SnapshotFormat;

export interface PlainSnapshot {
  pid: number;
  states: StateFilter;
  format: PlainFormat;
}

const DEFAULT_STATES: StateFilter = new Set(['ESTABLISHED'] as const);
const FORMATS: readonly PlainFormat[] = ['table', 'json', 'csv'];

/**
 * The plain snapshot's arguments (argv without node and the script), or undefined when they are
 * anything else: then commander parses them. Accepts exactly `snapshot`, one PID of digits, and at
 * most one each of `--state`/`--format`, as `--opt value` or `--opt=value`, with values the full
 * CLI would accept.
 */
export function plainSnapshotArgs(args: readonly string[]): PlainSnapshot | undefined {
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
  let states = DEFAULT_STATES;
  if (stateText !== undefined) {
    try {
      states = parseStateList(stateText);
    } catch {
      return undefined;
    }
  }
  const format = formatText === undefined ? 'table' : FORMATS.find((f) => f === formatText.toLowerCase());
  if (format === undefined) return undefined;
  return { pid, states, format };
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

/** The wanted states and LISTEN: a connection's direction is decided by its target's listeners. */
function withListeners(states: StateFilter): StateFilter {
  return states === 'all' ? states : new Set([...states, 'LISTEN' as const]);
}

/** Resolves false (nothing printed) when the full CLI should take over. */
async function runPlain(p: PlainSnapshot): Promise<boolean> {
  const { isSockwatchError } = await import('../errors');
  const { netlinkOneShot } = await import('../sources/netlink/one-shot');
  const { snapshotText } = await import('../views/output/snapshot-text');
  let timeMs = Date.now();
  let snap;
  try {
    snap = await netlinkOneShot(p.pid, withListeners(p.states), { tcpInfo: p.format === 'json' });
  } catch (e) {
    // The auto source's choice: procfs where netlink cannot see the target (another network
    // namespace, koffi cannot load). Errors about the target itself are the full CLI's to report.
    if (!isSockwatchError(e) || e.code !== 'not_supported') return false;
    // says why, once, when the reason is koffi
    (await import('../sources/netlink/netlink-unavailable')).netlinkNeedsProcfs();
    const { createProcfsSource } = await import('../sources/procfs/procfs-source');
    const source = await createProcfsSource(p.pid);
    timeMs = Date.now();
    try {
      snap = await source.snapshot(withListeners(p.states));
    } finally {
      source.close();
    }
  }
  // The same connection objects as the full path's (a group of one): the holder's PID, and the
  // direction decided by the listeners beside it (asked for above, filtered out by snapshotText).
  const { assignDirections, ephemeralPorts } = await import('../sources/direction');
  for (const c of snap.connections) c.pid = p.pid;
  assignDirections(snap.connections, new Map(), ephemeralPorts());
  const { useColor } = await import('../views/output/state-color');
  const text = snapshotText(snap, timeMs, p.states, p.format, useColor(process.stdout));
  const { installStdoutGone } = await import('./stdout-gone');
  const { exitAfterDrain } = await import('./exit-after-drain');
  installStdoutGone((code) => void exitAfterDrain(code));
  process.stdout.write(text);
  void exitAfterDrain(0);
  return true;
}
