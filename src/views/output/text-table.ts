/**
 * Columns padded to the widest cell; columns in `rightAligned` are right-aligned (numbers).
 * Loops and one string built per line, not a map/padEnd/join per row: a snapshot of 18,000
 * connections formats 144,000 cells here, and the array-per-row version was most of its output
 * time (docs/performance.md, run H).
 */
export function alignColumns(header: readonly string[], rows: readonly string[][], rightAligned: ReadonlySet<number> = new Set()): string[] {
  const cols = header.length;
  const widths = header.map((h) => h.length);
  for (const r of rows) {
    for (let i = 0; i < cols; i++) {
      const n = (r[i] ?? '').length;
      if (n > widths[i]!) widths[i] = n;
    }
  }
  const right = header.map((_h, i) => rightAligned.has(i));
  // padding strings sliced from one run of spaces instead of padStart/padEnd's per-cell work
  const spaces = ' '.repeat(Math.max(0, ...widths) + 2);
  const line = (cells: readonly string[]): string => {
    let s = '';
    let pending = 0; // trailing padding of the cell before, written only if a cell follows
    for (let i = 0; i < cols; i++) {
      const c = cells[i] ?? '';
      const pad = widths[i]! - c.length;
      if (i > 0) s += spaces.slice(0, pending + 2);
      if (right[i]) {
        s += spaces.slice(0, pad) + c;
        pending = 0;
      } else {
        s += c;
        pending = pad;
      }
    }
    return s.trimEnd();
  };
  const out = new Array<string>(rows.length + 1);
  out[0] = line(header);
  for (let i = 0; i < rows.length; i++) out[i + 1] = line(rows[i]!);
  return out;
}
