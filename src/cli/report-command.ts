// `sockwatch report <recording> -o report.html`
import { readRecording } from '../replay/recording-reader';
import { writeReport } from '../report/write-report';
import { terminalText } from '../util/terminal-text';

export async function runReport(file: string, output: string): Promise<number> {
  const rec = await readRecording(file, { onWarning: (m) => process.stderr.write(`sockwatch: ${terminalText(m)}\n`) });
  const written = await writeReport(output, rec, { passThrough: true });
  process.stderr.write(`report written to ${written}\n`);
  return 0;
}
