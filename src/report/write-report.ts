// Recording → analysis (the tracker replayed) → report data → HTML, and the file written whole.
import * as path from 'node:path';
import { analyzeRecording } from '../replay/replay-analysis';
import type { Recording } from '../replay/recording';
import { compareSummaries } from '../replay/summary-check';
import { writeFileAtomic } from '../views/output/atomic-write';
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

/** Writes the report atomically; returns the absolute path written. */
export function writeReport(file: string, rec: Recording): string {
  const out = path.resolve(file);
  writeFileAtomic(out, renderReport(rec));
  return out;
}
