// What `watch`, `serve` and `demo` run with, once the flags are parsed. Its own file so that the
// commands take it without importing main.ts, which imports them.
import type { SourceName, StateFilter } from '../model';
import type { MetricsAddress } from '../views/metrics/metrics-address';
import type { BriefChoice } from '../sources/lifecycle/open-lifecycle';

export interface WatchArgs {
  intervalMs: number;
  durationMs: number | undefined;
  states: StateFilter;
  json: boolean;
  record: string | undefined;
  /** write an HTML report here when the watch ends */
  report?: string;
  source: SourceName | undefined;
  brief: BriefChoice;
  tui: boolean;
  /** `--export-dir`, checked at start; undefined: the current directory, looked at only on export */
  exportDir: string | undefined;
  /** serve Prometheus metrics there (src/views/metrics) */
  metrics?: MetricsAddress;
  metricsPeers?: number;
  /** `serve`: no stdout unless --json, and the target's exit does not end the watch */
  serve?: boolean;
  /** --wait: wait for a process matching --name */
  wait?: boolean;
}
