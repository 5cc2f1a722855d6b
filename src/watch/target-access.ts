// What a watch asks the OS about its target before and beside the polls: wait for it, open it,
// take the first poll's hints, whether it still exists, the namespace census. Injected with the
// watch's I/O, so tests open a scripted source instead (test/helpers/fake-watch-io.ts).
import type { Endpoint, Snapshot } from '../model';
import type { Source } from '../sources/source';
import type { TargetSpec } from '../process/target-selection';
import { openWatchedTarget, waitForTarget, type TargetOptions } from '../sources/open-target';
import { childrenHint } from '../sources/children-hint';
import { RemoteCensus } from '../sources/remote-census';
import { processExists, watchStartTime } from '../process/process-info';

export interface Census {
  /** see RemoteCensus.foreign */
  foreign(remotes: readonly Endpoint[], own: ReadonlySet<number>, pid: number): ReadonlySet<string>;
  close(): void;
}

export interface TargetAccess {
  /** --wait: resolves once a process matches `spec` */
  wait(spec: TargetSpec, intervalMs: number, say: (text: string) => void): Promise<void>;
  open(o: TargetOptions): Promise<Source>;
  /** advice when a target without --children has children holding connections */
  childrenHint(first: Snapshot): Promise<string | undefined>;
  exists(pid: number): Promise<boolean>;
  census(): Census;
  /** now, on the process start-time scale (see process-info.ts) */
  watchStart(): string | undefined;
}

export const OS_TARGETS: TargetAccess = {
  wait: (spec, intervalMs, say) => waitForTarget(spec, intervalMs, say),
  open: (o) => openWatchedTarget(o),
  childrenHint: (first) => childrenHint(first),
  exists: (pid) => processExists(pid),
  census: () => new RemoteCensus(),
  watchStart: () => watchStartTime(),
};
