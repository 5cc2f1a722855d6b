// What `watch`, `serve`, `run` and `demo` hand to the watch once the CLI has parsed the flags: the
// whole plan of a watch. Nothing here is read from the process (see watch-io.ts for that).
import type { SourceName, StateFilter } from '../model';
import type { MetricsAddress } from '../views/metrics/metrics-address';
import type { BriefChoice } from '../sources/lifecycle/open-lifecycle';
import type { LifecycleFeed } from '../sources/lifecycle/lifecycle-feed';
import type { TargetSpec } from '../process/target-selection';

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

export interface WatchExtras {
  /** printed under the start line (line mode) or as a banner (TUI) */
  banner?: string[];
  /** the banner in one line, shown in the TUI once its legend is folded */
  bannerFolded?: string;
  /** `run`: when the watch began (before CMD was spawned), on the process start-time scale */
  watchStart?: string;
  /** `run`: settles with CMD's exit status; the watch ends then, with that status */
  commandExit?: Promise<number>;
  /** `run`: signals are handled by the caller (forwarded to CMD), not by the watch */
  callerHandlesSignals?: boolean;
  /** `run`: shown on the status line / under the start line (where CMD's output goes) */
  info?: string;
  /** `run`: the between-poll feed, opened before CMD was spawned (already following it) */
  lifecycle?: LifecycleFeed;
}

export interface WatchPlan {
  spec: TargetSpec;
  args: WatchArgs;
  extras: WatchExtras;
}
