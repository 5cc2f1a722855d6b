// Reads a sockwatch.event/1 NDJSON file line by line (a stream: a long recording is never one
// string in memory). A line cut short by a crash or garbled on disk is reported with its line
// number and skipped; the rest still replays.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { SockwatchError } from '../errors';
import { errorReason } from '../views/output/safe-file';
import { RecordingBuilder, type Recording } from './recording';

export interface ReadOptions {
  /** called once per skipped line (the CLI prints it on stderr) */
  onWarning?: (message: string) => void;
}

export async function readRecording(file: string, opts: ReadOptions = {}): Promise<Recording> {
  const name = path.basename(file);
  let stream: fs.ReadStream;
  try {
    // Open synchronously so a missing file is an error here, not an 'error' event later.
    const fd = fs.openSync(file, 'r');
    if (fs.fstatSync(fd).isDirectory()) {
      fs.closeSync(fd);
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
    stream = fs.createReadStream('', { fd, encoding: 'utf8' });
  } catch (e) {
    throw new SockwatchError('io_error', `cannot read ${file}: ${errorReason(e)}`);
  }
  const builder = new RecordingBuilder(name);
  let reported = 0;
  const rl = readline.createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      builder.addLine(text, line);
    }
  } finally {
    rl.close();
    stream.destroy();
  }
  const rec = builder.finish();
  for (; reported < rec.warnings.length; reported++) opts.onWarning?.(rec.warnings[reported]!);
  return rec;
}
