// The snapshot table's columns written straight into one byte buffer: what alignColumns makes of
// the cells, without making the cells. A snapshot of 18,000 connections built 144,000 cell strings,
// 18,000 row arrays and line strings, then joined them; that and the garbage collections it caused
// were a third of the one-shot's time. Here numbers are written digit by digit and addresses
// copied, so a row allocates nothing. Plain ASCII only: with colors, or a cell holding anything
// else (after the sanitizer), the caller builds the table the general way (alignColumns), which
// this matches byte for byte (test/unit/snapshot-table-bytes.test.ts).
import type { Connection } from '../../model';
import { timerText } from './endpoint-text';
import { terminalText } from '../../util/terminal-text';

const SPACE = 0x20;
const NEWLINE = 0x0a;

/**
 * The header line and one line per connection, each ending in a newline, as alignColumns would
 * lay out `header` over these rows (right-aligned: PID, FD, SEND-Q, RECV-Q), as ASCII bytes (never
 * made a string: an 18,000-row table is 1.9 MB, and a string of it is copied again to be written);
 * undefined when a cell is not printable ASCII. `prefix` (any text, UTF-8) comes first: the
 * snapshot's own header line, without copying the table to put it there.
 */
export function tableLinesAscii(header: readonly string[], conns: readonly Connection[], group: boolean, prefix = ''): Buffer | undefined {
  const n = conns.length;
  const locals = new Array<string>(n);
  const remotes = new Array<string>(n);
  const timers = new Array<string>(n);
  const cols = header.length;
  const widths = header.map((h) => h.length);
  const first = group ? 1 : 0; // the FD column's index
  // A table's addresses are a few strings shared by many rows: each is sanitized and checked once.
  const checked = new Map<string, string | null>();
  const plain = (text: string): string | undefined => {
    let out = checked.get(text);
    if (out === undefined) {
      const safe = terminalText(text);
      out = printableAscii(safe) ? safe : null;
      checked.set(text, out);
    }
    return out ?? undefined;
  };
  for (let i = 0; i < n; i++) {
    const c = conns[i]!;
    const local = plain(c.local.address);
    const remote = plain(c.remote.address);
    const timer = c.timer === undefined || c.timer.kind === 'none' ? '-' : plain(timerText(c.timer));
    if (local === undefined || remote === undefined || timer === undefined || plain(c.protocol) === undefined || plain(c.state) === undefined) return undefined;
    locals[i] = local;
    remotes[i] = remote;
    timers[i] = timer;
    if (group) widths[0] = Math.max(widths[0]!, optionalWidth(c.pid));
    widths[first] = Math.max(widths[first]!, optionalWidth(c.fd));
    widths[first + 1] = Math.max(widths[first + 1]!, c.protocol.length);
    widths[first + 2] = Math.max(widths[first + 2]!, endpointWidth(local, c.local.port));
    widths[first + 3] = Math.max(widths[first + 3]!, endpointWidth(remote, c.remote.port));
    widths[first + 4] = Math.max(widths[first + 4]!, c.state.length);
    widths[first + 5] = Math.max(widths[first + 5]!, optionalWidth(c.sendQueue));
    widths[first + 6] = Math.max(widths[first + 6]!, optionalWidth(c.recvQueue));
    widths[first + 7] = Math.max(widths[first + 7]!, timer.length);
  }
  for (const h of header) if (!printableAscii(h)) return undefined;
  // every cell but the last fills its column and two spaces; the last is as long as it is
  let fixed = 0;
  for (let k = 0; k < cols - 1; k++) fixed += widths[k]! + 2;
  let total = fixed + header[cols - 1]!.length + 1;
  for (let i = 0; i < n; i++) total += fixed + timers[i]!.length + 1;
  const prefixBytes = Buffer.byteLength(prefix, 'utf8');
  const out = Buffer.allocUnsafe(prefixBytes + total);
  let p = out.write(prefix, 0, 'utf8');
  // the header: right-aligned columns as the rows' are
  for (let k = 0; k < cols; k++) {
    const h = header[k]!;
    const right = k < first + 1 || k === first + 5 || k === first + 6;
    const pad = widths[k]! - h.length;
    if (right) p = spaces(out, p, pad);
    p = put(out, p, h);
    if (k < cols - 1) p = spaces(out, p, (right ? 0 : pad) + 2);
  }
  out[p++] = NEWLINE;
  for (let i = 0; i < n; i++) {
    const c = conns[i]!;
    if (group) p = spaces(out, rightNumber(out, p, c.pid, widths[0]!), 2);
    p = rightNumber(out, p, c.fd, widths[first]!);
    p = spaces(out, p, 2);
    p = put(out, p, c.protocol);
    p = spaces(out, p, widths[first + 1]! - c.protocol.length + 2);
    p = endpoint(out, p, locals[i]!, c.local.port, widths[first + 2]!);
    p = spaces(out, p, 2);
    p = endpoint(out, p, remotes[i]!, c.remote.port, widths[first + 3]!);
    p = spaces(out, p, 2);
    p = put(out, p, c.state);
    p = spaces(out, p, widths[first + 4]! - c.state.length + 2);
    p = rightNumber(out, p, c.sendQueue, widths[first + 5]!);
    p = spaces(out, p, 2);
    p = rightNumber(out, p, c.recvQueue, widths[first + 6]!);
    p = spaces(out, p, 2);
    p = put(out, p, timers[i]!);
    out[p++] = NEWLINE;
  }
  return p === out.length ? out : out.subarray(0, p);
}

/** printable ASCII without a backslash (whose escaping depends on what follows it) */
function printableAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x5c) return false;
  }
  return true;
}

/** decimal digits of a whole number ≥ 0 (comparisons: this runs for four cells of every row) */
function digits(v: number): number {
  if (v < 10) return 1;
  if (v < 100) return 2;
  if (v < 1000) return 3;
  if (v < 10000) return 4;
  if (v < 100000) return 5;
  let d = 6;
  for (let x = v / 1e6; x >= 1; x /= 10) d++;
  return d;
}

/** a whole number's width, or "-"'s for none (the cells String() would make) */
function optionalWidth(v: number | undefined): number {
  if (v === undefined) return 1;
  return Number.isSafeInteger(v) && v >= 0 ? digits(v) : String(v).length;
}

function endpointWidth(address: string, port: number): number {
  return address.length + (address.includes(':') ? 2 : 0) + 1 + optionalWidth(port);
}

// Byte loops, not Buffer's fill/write: those validate their arguments on every call, which for
// cells of a few bytes cost more than the copying (36,000 addresses, 144,000 pads at 18,000 rows).
function spaces(out: Buffer, p: number, count: number): number {
  for (let i = 0; i < count; i++) out[p + i] = SPACE;
  return count > 0 ? p + count : p;
}

/** `s` (printable ASCII) at `p` */
function put(out: Buffer, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) out[p + i] = s.charCodeAt(i);
  return p + s.length;
}

/**
 * `v` right-aligned in `width` columns (String(v) for anything but a whole number, "-" for none);
 * `width` 0: as wide as it is. Whole numbers are written from their last digit back.
 */
function rightNumber(out: Buffer, p: number, v: number | undefined, width: number): number {
  if (v === undefined || !Number.isSafeInteger(v) || v < 0) {
    const text = v === undefined ? '-' : String(v);
    return put(out, spaces(out, p, width - text.length), text);
  }
  const end = p + Math.max(width, digits(v));
  let i = end - 1;
  let x = v;
  do {
    out[i--] = 0x30 + (x % 10);
    x = Math.floor(x / 10);
  } while (x > 0);
  for (; i >= p; i--) out[i] = SPACE;
  return end;
}

/** formatEndpoint's text (`a.b.c.d:port`, `[v6]:port`), left-aligned in `width` */
function endpoint(out: Buffer, p: number, address: string, port: number, width: number): number {
  const start = p;
  const v6 = address.includes(':');
  if (v6) out[p++] = 0x5b;
  p = put(out, p, address);
  if (v6) out[p++] = 0x5d;
  out[p++] = 0x3a;
  p = rightNumber(out, p, port, 0);
  return spaces(out, p, width - (p - start));
}
