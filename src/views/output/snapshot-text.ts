// What `snapshot` prints, in every format: shared by the full CLI (snapshot-command.ts) and the
// fast path (fast-snapshot.ts), which loads only this, not the command's file handling.
import type { Snapshot, StateFilter } from '../../model';
import { snapshotJson, connectionJson } from './json-shapes';
import { snapshotCsv } from './snapshot-csv';
import { snapshotTable } from './snapshot-table';

export type SnapshotFormat = 'table' | 'json' | 'csv';

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

