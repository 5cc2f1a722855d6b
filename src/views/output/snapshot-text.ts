// What `snapshot` prints, in every format: shared by the full CLI (snapshot-command.ts) and the
// fast path (fast-snapshot.ts), which loads only this, not the command's file handling.
import { stateMatches, type Snapshot, type StateFilter } from '../../model';
import { snapshotJson, connectionJson } from './json-shapes';
import { snapshotCsv } from './snapshot-csv';
import { snapshotTableOutput } from './snapshot-table';

export type SnapshotFormat = 'table' | 'json' | 'csv';

/** `snap` may hold more states than `states` (sources are asked for listeners too, for directions). */
export function snapshotText(snap: Snapshot, timeMs: number, states: StateFilter, format: SnapshotFormat, color: boolean): string {
  const out = snapshotOutput(snap, timeMs, states, format, color);
  return typeof out === 'string' ? out : out.toString('utf8');
}

/** snapshotText, or its UTF-8 bytes where they were made directly (a plain table): what is written. */
export function snapshotOutput(snap: Snapshot, timeMs: number, states: StateFilter, format: SnapshotFormat, color: boolean): string | Buffer {
  const conns = snap.connections.filter((c) => stateMatches(states, c.state)); // in PID, then fd order
  const processes = snap.processes !== undefined && snap.processes.length > 1 ? snap.processes : undefined;
  switch (format) {
    case 'json':
      return JSON.stringify(
        snapshotJson({ timeMs, process: snap.process, ...(processes ? { processes } : {}), source: snap.source, states, connections: conns.map(connectionJson) }),
        null,
        2,
      ) + '\n';
    case 'csv':
      return snapshotCsv(conns.map((connection) => ({ connection })));
    case 'table':
      return snapshotTableOutput(processes ?? snap.process, states, conns, color);
  }
}

