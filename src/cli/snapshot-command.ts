import type { SourceName, StateFilter } from '../model';
import { openSource } from '../sources/open-source';
import { snapshotText, type SnapshotFormat } from '../views/output/snapshot-text';
import { useColor } from '../views/output/state-color';
import { writeOutputFile } from '../views/output/safe-file';

export type { SnapshotFormat };
export const SNAPSHOT_FORMATS: readonly SnapshotFormat[] = ['table', 'json', 'csv'];

export interface SnapshotOptions {
  states: StateFilter;
  format: SnapshotFormat;
  output?: string;
  source?: SourceName;
}

export async function runSnapshot(pid: number, o: SnapshotOptions): Promise<number> {
  const source = await openSource(pid, o.source);
  const timeMs = Date.now();
  let snap;
  try {
    snap = await source.snapshot(o.states);
  } finally {
    source.close();
  }
  const text = snapshotText(snap, timeMs, o.states, o.format, !o.output && useColor(process.stdout));
  // stdout is drained (and its errors reported) by the exit in main.ts.
  if (o.output) await writeOutputFile(o.output, text, { passThrough: true });
  else process.stdout.write(text);
  return 0;
}
