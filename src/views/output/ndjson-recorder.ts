import * as fs from 'node:fs';
import { SockwatchError } from '../../errors';
import { appendRecord, errorReason, openAppendFile, type AppendFile } from './safe-file';
import type { JsonObject } from './json-shapes';

/**
 * Appends NDJSON events to a file. Each event is one complete line; a write that fails (disk
 * full, I/O error) is cut back off, so every line in the file is always complete JSON. After a
 * failure the recorder stops writing and `failure` says why; the watch decides what to do.
 */
export class NdjsonRecorder {
  private file: AppendFile | undefined;
  private lines = 0;
  private failed: SockwatchError | undefined;
  private readonly failListeners: ((e: SockwatchError) => void)[] = [];

  constructor(readonly path: string) {
    this.file = openAppendFile(path);
  }

  /** Why recording stopped, once a write has failed. */
  get failure(): SockwatchError | undefined {
    return this.failed;
  }

  onFailure(listener: (e: SockwatchError) => void): void {
    this.failListeners.push(listener);
  }

  write(event: JsonObject): void {
    if (this.file === undefined) return;
    try {
      appendRecord(this.file, JSON.stringify(event) + '\n');
      this.lines++;
    } catch (e) {
      const reason = `cannot write ${this.path}: ${errorReason(e)}`;
      this.failed = new SockwatchError(
        'io_error',
        this.lines === 0 ? reason : `recording stopped: ${reason} (the ${this.lines} events recorded before are intact, each line complete)`,
      );
      this.close();
      for (const l of this.failListeners) l(this.failed);
    }
  }

  close(): void {
    if (this.file === undefined) return;
    const { fd } = this.file;
    this.file = undefined;
    try {
      fs.closeSync(fd);
    } catch {
      // close(2) reporting a deferred write error: every line was already written or cut back
    }
  }
}
