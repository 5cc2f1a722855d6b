// Reads a sockwatch.event/1 NDJSON file line by line (a stream: a long recording is never one
// string in memory, and a line longer than the limits is never one either). A line cut short by a
// crash, garbled on disk or too large is reported with its line number and skipped; the rest still
// replays. What is kept of a file is bounded by FILE_LIMITS (recording-limits.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SockwatchError } from '../errors';
import { errorReason } from '../views/output/safe-file';
import { boundedLines } from './bounded-lines';
import { RecordingBuilder, type Recording } from './recording';
import { FILE_LIMITS, type RecordingLimits } from './recording-limits';

export interface ReadOptions {
  /** called once per skipped line (the CLI prints it on stderr) */
  onWarning?: (message: string) => void;
  /** FILE_LIMITS unless a test wants them smaller */
  limits?: RecordingLimits;
}

/** bytes read at a time */
const CHUNK = 64 * 1024;

export async function readRecording(file: string, opts: ReadOptions = {}): Promise<Recording> {
  const name = path.basename(file);
  const limits = opts.limits ?? FILE_LIMITS;
  let stream: fs.ReadStream;
  try {
    // Open synchronously so a missing file is an error here, not an 'error' event later.
    const fd = fs.openSync(file, 'r');
    if (fs.fstatSync(fd).isDirectory()) {
      fs.closeSync(fd);
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    }
    stream = fs.createReadStream('', { fd, highWaterMark: CHUNK });
  } catch (e) {
    throw new SockwatchError('io_error', `cannot read ${file}: ${errorReason(e)}`);
  }
  const builder = new RecordingBuilder(name, limits);
  try {
    for await (const l of boundedLines(stream, { maxBytes: limits.maxLineBytes, maxValues: limits.maxLineValues })) {
      if ('skipped' in l) builder.skipLine(l.line, l.skipped);
      else builder.addLine(l.text, l.line);
      if (builder.full) break;
    }
  } catch (e) {
    if (e instanceof SockwatchError) throw e;
    throw new SockwatchError('io_error', `cannot read ${file}: ${errorReason(e)}`);
  } finally {
    stream.destroy();
  }
  const rec = builder.finish();
  for (const w of rec.warnings) opts.onWarning?.(w);
  return rec;
}
