import type { Snapshot, SourceName, StateFilter } from '../model';
import { openSource } from '../sources/open-source';
import { snapshotJson, connectionJson } from '../views/output/json-shapes';
import { snapshotCsv } from '../views/output/snapshot-csv';
import { snapshotTable } from '../views/output/snapshot-table';
import { useColor } from '../views/output/state-color';
import { writeOutputFile } from '../views/output/safe-file';

export type SnapshotFormat = 'table' | 'json' | 'csv';
export const SNAPSHOT_FORMATS: readonly SnapshotFormat[] = ['table', 'json', 'csv'];

export interface SnapshotOptions {
  states: StateFilter;
  format: SnapshotFormat;
  output?: string;
  source?: SourceName;
}

/** What `snapshot` prints, in every format (the fast path in fast-snapshot.ts prints the same). */
export function snapshotText(snap: Snapshot, timeMs: number, states: StateFilter, format: SnapshotFormat, color: boolean): string {
  const conns = snap.connections; // sources return them in fd order
  switch (format) {
    case 'json':
      return JSON.stringify(
        snapshotJson({ timeMs, process: snap.process, source: snap.source, states, connections: conns.map(connectionJson) }),
        null,
        2,
      ) + '\n';
    case 'csv':
      return snapshotCsv(conns.map((connection) => ({ connection })));
    case 'table':
      return snapshotTable(snap.process, states, conns, color);
  }
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
