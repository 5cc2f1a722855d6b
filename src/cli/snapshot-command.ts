import { stateMatches, type SourceName, type StateFilter } from '../model';
import { openTarget, waitForTarget } from '../sources/open-target';
import type { TargetSpec } from '../process/target-selection';
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
  /** --wait: wait for a process matching the spec's name */
  wait?: boolean;
}

export async function runSnapshot(target: number | TargetSpec, o: SnapshotOptions): Promise<number> {
  const spec: TargetSpec = typeof target === 'number' ? { pids: [target], children: false } : target;
  if (o.wait === true) await waitForTarget(spec, 250, (t) => process.stderr.write(t + '\n'));
  const source = openTarget({ spec, source: o.source });
  const timeMs = Date.now();
  let snap;
  try {
    // Every state, filtered after: a connection's direction is decided by the listeners beside it.
    snap = await source.snapshot('all');
  } finally {
    source.close();
  }
  const conns = snap.connections.filter((c) => stateMatches(o.states, c.state)); // in PID, then fd order
  const processes = snap.processes !== undefined && snap.processes.length > 1 ? snap.processes : undefined;
  let text: string;
  switch (o.format) {
    case 'json':
      text = JSON.stringify(
        snapshotJson({ timeMs, process: snap.process, ...(processes ? { processes } : {}), source: snap.source, states: o.states, connections: conns.map(connectionJson) }),
        null,
        2,
      ) + '\n';
      break;
    case 'csv':
      text = snapshotCsv(conns.map((connection) => ({ connection })));
      break;
    case 'table':
      text = snapshotTable(processes ?? snap.process, o.states, conns, !o.output && useColor(process.stdout));
      break;
  }
  // stdout is drained (and its errors reported) by the exit in main.ts.
  if (o.output) await writeOutputFile(o.output, text, { passThrough: true });
  else process.stdout.write(text);
  return 0;
}
