import type { SourceName, StateFilter } from '../model';
import { openTarget, waitForTarget } from '../sources/open-target';
import type { TargetSpec } from '../process/target-selection';
import { snapshotText, type SnapshotFormat } from '../views/output/snapshot-text';
import { useColor } from '../views/output/state-color';
import { writeOutputFile } from '../views/output/safe-file';
import { terminalText } from '../util/terminal-text';

export type { SnapshotFormat };
export const SNAPSHOT_FORMATS: readonly SnapshotFormat[] = ['table', 'json', 'csv'];

export interface SnapshotOptions {
  states: StateFilter;
  format: SnapshotFormat;
  output?: string;
  source?: SourceName;
  /** --wait: wait for a process matching the spec's name */
  wait?: boolean;
}

export async function runSnapshot(target: number | TargetSpec, o: SnapshotOptions): Promise<number> {
  const spec: TargetSpec = typeof target === 'number' ? { pids: [target], children: false } : target;
  if (o.wait === true) await waitForTarget(spec, 250, (t) => process.stderr.write(terminalText(t) + '\n'));
  const source = openTarget({ spec, source: o.source });
  const timeMs = Date.now();
  let snap;
  try {
    // Every state, filtered after: a connection's direction is decided by the listeners beside it.
    snap = await source.snapshot('all');
  } finally {
    source.close();
  }
  const text = snapshotText(snap, timeMs, o.states, o.format, !o.output && useColor(process.stdout));
  // stdout is drained (and its errors reported) by the exit in main.ts.
  if (o.output) await writeOutputFile(o.output, text, { passThrough: true });
  else process.stdout.write(text);
  return 0;
}
