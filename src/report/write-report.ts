// Recording → analysis (the tracker replayed) → report data → HTML, and the file written whole.
import * as path from 'node:path';
import { analyzeRecording } from '../replay/replay-analysis';
import type { Recording } from '../replay/recording';
import { compareSummaries } from '../replay/summary-check';
import { writeOutputFile } from '../views/output/safe-file';
import { buildReportData } from './report-data';
import { renderReportHtml } from './report-html';

export function sockwatchVersion(): string {
  return (require(path.join(__dirname, '..', '..', '..', 'package.json')) as { version: string }).version;
}

export function renderReport(rec: Recording): string {
  const analysis = analyzeRecording(rec);
  const summaryDifferences = rec.summary ? compareSummaries(rec.summary, analysis.summary) : [];
  return renderReportHtml(buildReportData(rec, analysis, { version: sockwatchVersion(), summaryDifferences }));
}

/**
 * Writes the report whole or not at all; returns the absolute path written. `passThrough`: the
 * user named the file (`-o`, `--report`), so a FIFO or /dev/stdout is written into as `tee` would.
 */
export async function writeReport(file: string, rec: Recording, opts = { passThrough: false }): Promise<string> {
  const out = path.resolve(file);
  await writeOutputFile(out, renderReport(rec), opts);
  return out;
}
