import * as path from 'node:path';
import type { SourceName, StateFilter } from '../../model';
import type { Tracker } from '../../core/tracker-types';
import { SockwatchError } from '../../errors';
import { writeOutputFile } from './safe-file';
import { isoTime, snapshotJson, trackedJson } from './json-shapes';
import { snapshotCsv } from './snapshot-csv';

export interface LiveExportArgs {
  tracker: Tracker;
  sourceName: SourceName;
  states: StateFilter;
  format: 'json' | 'csv';
  dir: string;
  nowMs: number;
}

/** The tracker's live connections as a sockwatch.snapshot/1 file (plus firstSeen, lifetimeMs). */
export function renderLiveExport(a: Omit<LiveExportArgs, 'dir'>): string {
  const proc = a.tracker.process;
  if (!proc) throw new SockwatchError('invalid_argument', 'nothing to export yet: no poll has completed');
  const live = a.tracker.live();
  if (a.format === 'csv') {
    return snapshotCsv(live, ['first_seen', 'lifetime_ms', 'preexisting'], (t) => [
      isoTime(t.firstSeenMs),
      a.nowMs - t.firstSeenMs,
      String(t.preexisting),
    ]);
  }
  const doc = snapshotJson({
    timeMs: a.nowMs,
    process: proc,
    source: a.sourceName,
    states: a.states,
    connections: live.map((t) => trackedJson(t, { lifetimeMs: a.nowMs - t.firstSeenMs })),
    findings: a.tracker.findings(a.nowMs),
  });
  return JSON.stringify(doc, null, 2) + '\n';
}

/** Writes sockwatch-<pid>-<timestamp>.<ext> into `dir` atomically; returns the path. */
export async function exportLiveSnapshot(a: LiveExportArgs): Promise<string> {
  const text = renderLiveExport(a);
  const pid = a.tracker.process?.pid ?? 0;
  const stamp = isoTime(a.nowMs).replace(/[:.]/g, '-');
  const file = path.resolve(a.dir, `sockwatch-${pid}-${stamp}.${a.format}`);
  // A fresh name in `dir`: never written through a FIFO or device, never via a link.
  await writeOutputFile(file, text, { passThrough: false });
  return file;
}
