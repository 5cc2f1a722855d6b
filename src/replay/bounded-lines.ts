// Splits a byte stream into lines without ever holding more than one bounded line. A line longer
// than `maxBytes` is dropped as its bytes arrive (what came of it so far is let go, the rest is
// read past up to the next newline), so a 600 MB line costs one chunk of memory, not 600 MB (nor
// a RangeError from a string longer than V8 allows). A line that fits but holds more JSON values
// than `maxValues` is not handed over either: JSON.parse would build an object per `{}` of it.

export type BoundedLine =
  | { line: number; text: string }
  | { line: number; skipped: string };

export interface LineBounds {
  maxBytes: number;
  maxValues: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;
/** below this many bytes a line cannot hold maxValues values: not worth counting */
const COUNT_VALUES_FROM = 64 * 1024;

/** Lines of `input` (1-based numbers), a trailing line without a newline included. */
export async function* boundedLines(input: AsyncIterable<Buffer>, bounds: LineBounds): AsyncGenerator<BoundedLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let line = 0;
  for await (const chunk of input) {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, pos);
      const end = nl === -1 ? chunk.length : nl;
      if (!tooLong && end > pos) {
        if (size + (end - pos) > bounds.maxBytes) {
          tooLong = true;
          parts = [];
          size = 0;
        } else {
          parts.push(chunk.subarray(pos, end));
          size += end - pos;
        }
      }
      if (nl === -1) break;
      yield finish(++line);
      pos = nl + 1;
    }
  }
  if (size > 0 || tooLong) yield finish(++line);

  function finish(n: number): BoundedLine {
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    const wasTooLong = tooLong;
    parts = [];
    size = 0;
    tooLong = false;
    if (wasTooLong) return { line: n, skipped: `longer than ${bytesText(bounds.maxBytes)}` };
    if (bytes.length >= COUNT_VALUES_FROM && valuesIn(bytes) > bounds.maxValues) return { line: n, skipped: `more than ${bounds.maxValues} JSON values` };
    const text = bytes.toString('utf8', 0, bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length);
    return { line: n, text };
  }
}

/** An upper bound on the JSON values a line can hold: its `{`, `[` and `,` (inside strings too). */
function valuesIn(bytes: Buffer): number {
  let n = 1;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0x7b || b === 0x5b || b === 0x2c) n++;
  }
  return n;
}

function bytesText(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : `${n} bytes`;
}
