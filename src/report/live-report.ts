// The report of a live watch: collects the same sockwatch.event/1 objects the watch records, so a
// report of a live watch and one of its recording are the same page.
import * as path from 'node:path';
import { RecordingBuilder } from '../replay/recording';
import { isoTime, type JsonObject } from '../views/output/json-shapes';
import { writeReport } from './write-report';

export class LiveReport {
  private readonly builder = new RecordingBuilder('live watch');

  constructor(private readonly pid: number) {}

  add(event: JsonObject): void {
    this.builder.add(event);
  }

  /** the report of the whole watch (its summary added last); returns the path written */
  write(file: string): Promise<string> {
    return writeReport(file, this.builder.finish(), { passThrough: true });
  }

  /** a report of what was seen so far, closed by `summary` (summaryJson now), into `dir` */
  writeNow(dir: string, summary: JsonObject): Promise<string> {
    const rec = this.builder.snapshot();
    rec.summary = summary;
    rec.summaryAtMs = Date.parse(String(summary.time));
    const stamp = isoTime(rec.summaryAtMs).replace(/[:.]/g, '-');
    return writeReport(path.join(dir, `sockwatch-${this.pid}-${stamp}.html`), rec);
  }
}
