// What `sockwatch snapshot` runs with once its arguments are parsed, by the full CLI or by the fast
// entry's own reading of a plain `snapshot PID` (src/cli/fast-snapshot.ts). No imports but types:
// the fast entry loads this for every command.
import type { SourceName, StateFilter } from '../model';
import type { TargetSpec } from '../process/target-selection';
import type { SnapshotFormat } from '../views/output/snapshot-text';

export type { SnapshotFormat };
export const SNAPSHOT_FORMATS: readonly SnapshotFormat[] = ['table', 'json', 'csv'];
export const DEFAULT_SNAPSHOT_STATES: StateFilter = new Set(['ESTABLISHED'] as const);

export interface SnapshotPlan {
  spec: TargetSpec;
  states: StateFilter;
  format: SnapshotFormat;
  output?: string;
  source?: SourceName;
  /** --wait: wait for a process matching the spec's name */
  wait?: boolean;
}
