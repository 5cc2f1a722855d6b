// The live-count chart. Block elements (▁▂▃▄▅▆▇█) rather than braille: one poll per column reads
// as a time axis at a glance, every glyph is in the fonts terminals ship (braille often falls back
// to a font with another width, which breaks column alignment), it survives tmux and NO_COLOR
// unchanged, and stacking rows gives 8 levels per row, enough resolution at 80 columns.

const BLOCKS = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/**
 * Renders the last `width` values as a `height`-row bar chart scaled to [0, max], top row first.
 * Values right-align so the newest sample is always at the right edge.
 */
export function sparkline(values: readonly number[], width: number, height: number, max?: number): string[] {
  if (width <= 0 || height <= 0) return [];
  const shown = values.slice(Math.max(0, values.length - width));
  const top = Math.max(1, max ?? Math.max(0, ...shown));
  const levels = height * 8;
  const rows: string[][] = Array.from({ length: height }, () => new Array<string>(width).fill(' '));
  const offset = width - shown.length;
  shown.forEach((v, i) => {
    let level = Math.round((Math.max(0, v) / top) * levels);
    // A non-zero count must never look like zero.
    if (v > 0 && level === 0) level = 1;
    for (let r = 0; r < height; r++) {
      const inRow = Math.max(0, Math.min(8, level - r * 8));
      (rows[height - 1 - r] as string[])[offset + i] = BLOCKS[inRow] as string;
    }
  });
  return rows.map((r) => r.join(''));
}
