import { closeSync, openSync, readSync } from 'node:fs';
import { errnoCode } from '../../process/proc-errors';

const INITIAL_BYTES = 256 * 1024;

/**
 * Reads /proc net tables into one preallocated buffer that is reused across polls and doubled
 * when a read fills it: cheaper than readFileSync, which stats, then grows and copies its buffer on
 * every call (the kernel's formatting is the same either way).
 */
export class NetTableReader {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);

  /** The buffer holding the last read; valid bytes are [0, the length read() returned). */
  get buffer(): Buffer {
    return this.buf;
  }

  /** Reads the whole file; returns its length, or -1 when it does not exist (e.g. no IPv6). */
  read(path: string): number {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return -1;
      throw e;
    }
    try {
      let total = 0;
      for (;;) {
        if (total === this.buf.length) {
          // seq_file keeps its position, so reading on after growing continues where it stopped
          const bigger = Buffer.allocUnsafe(this.buf.length * 2);
          this.buf.copy(bigger, 0, 0, total);
          this.buf = bigger;
        }
        const n = readSync(fd, this.buf, total, this.buf.length - total, null);
        if (n === 0) return total;
        total += n;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Drops a grown buffer. */
  release(): void {
    this.buf = Buffer.allocUnsafe(0);
  }
}
