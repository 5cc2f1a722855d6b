import * as fs from 'node:fs';
import { SockwatchError } from '../../errors';
import { errorReason } from './atomic-write';
import type { JsonObject } from './json-shapes';

/**
 * Appends NDJSON events to a file. Each event is one write(2) of one complete line, so the file is
 * valid NDJSON after every event, whatever stops us afterwards.
 */
export class NdjsonRecorder {
  private fd: number | undefined;
  constructor(readonly file: string) {
    try {
      this.fd = fs.openSync(file, 'a', 0o644);
    } catch (e) {
      throw new SockwatchError('io_error', `cannot write ${file}: ${errorReason(e)}`);
    }
  }
  write(event: JsonObject): void {
    if (this.fd === undefined) return;
    fs.writeSync(this.fd, JSON.stringify(event) + '\n');
  }
  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
