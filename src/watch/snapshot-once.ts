// `sockwatch snapshot`: one snapshot of the target, printed or written. The one pipeline of both
// ways in: the full CLI (src/cli/snapshot-command.ts, any target, --output, --wait) and the fast
// entry for a plain `snapshot PID` (src/cli/fast-snapshot.ts), which only opens the target its own
// lighter way. Kept free of the sources it does not use, so the fast entry loads little.
import { terminalText } from '../util/terminal-text';
import type { StateFilter } from '../model';
import type { TargetSpec } from '../process/target-selection';
import type { Source } from '../sources/source';
import { snapshotOutput } from '../views/output/snapshot-text';
import { writeOutputFile } from '../views/output/safe-file';
import type { SnapshotPlan } from './snapshot-plan';

export interface SnapshotIo {
  /** the text (or its UTF-8 bytes), when it goes to stdout */
  stdout(text: string | Uint8Array): void;
  /** stdout takes colors (a terminal, NO_COLOR unset) */
  color: boolean;
  stderr(text: string): void;
  now(): number;
}

export interface SnapshotAccess {
  open(plan: SnapshotPlan): Pick<Source, 'snapshot' | 'close'> | Promise<Pick<Source, 'snapshot' | 'close'>>;
  /** --wait (the fast entry never takes a plan with it) */
  wait?(spec: TargetSpec, intervalMs: number, say: (text: string) => void): Promise<void>;
}

/** The wanted states and LISTEN: a connection's direction is decided by its target's listeners. */
export function withListeners(states: StateFilter): StateFilter {
  return states === 'all' ? states : new Set([...states, 'LISTEN' as const]);
}

export async function snapshotOnce(plan: SnapshotPlan, io: SnapshotIo, access: SnapshotAccess): Promise<number> {
  if (plan.wait === true) {
    if (access.wait === undefined) throw new Error('snapshotOnce: --wait without a way to wait');
    await access.wait(plan.spec, 250, (t) => io.stderr(terminalText(t) + '\n'));
  }
  const source = await access.open(plan);
  const timeMs = io.now();
  let snap;
  try {
    // the listeners too, filtered out by snapshotOutput
    snap = await source.snapshot(withListeners(plan.states));
  } finally {
    source.close();
  }
  const text = snapshotOutput(snap, timeMs, plan.states, plan.format, !plan.output && io.color);
  // stdout is drained (and its errors reported) by the exit in the CLI.
  if (plan.output) await writeOutputFile(plan.output, text, { passThrough: true });
  else io.stdout(text);
  return 0;
}
