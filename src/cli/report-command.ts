// `sockwatch report <recording> -o report.html`
import { readRecording } from '../replay/recording-reader';
import { writeReport } from '../report/write-report';
import { terminalText } from '../util/terminal-text';
import { tuneHeapForLongRun } from '../util/long-run-heap';
import { oneLineErrors } from './recording-errors';

export async function runReport(file: string, output: string): Promise<number> {
  return oneLineErrors(`cannot report on ${file}`, async () => {
    tuneHeapForLongRun();
    const rec = await readRecording(file, { onWarning: (m) => process.stderr.write(`sockwatch: ${terminalText(m)}\n`) });
    const written = await writeReport(output, rec, { passThrough: true });
    process.stderr.write(`report written to ${written}\n`);
    return 0;
  });
}
