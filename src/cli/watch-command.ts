// `watch`, `serve`, and the watch of `run` and `demo`: the plan from the parsed flags, handed to the
// watch (src/watch/watch-app.ts) with the real process's I/O.
import type { WatchArgs, WatchExtras } from '../watch/watch-plan';
import type { TargetSpec } from '../process/target-selection';
import { runWatchApp } from '../watch/watch-app';
import { processWatchIo } from './process-io';

export type { WatchExtras };

export function runWatch(target: number | TargetSpec, a: WatchArgs, extras: WatchExtras = {}): Promise<number> {
  const spec: TargetSpec = typeof target === 'number' ? { pids: [target], children: false } : target;
  return runWatchApp({ spec, args: a, extras }, processWatchIo());
}
