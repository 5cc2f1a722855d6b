// A frame is built as styled text, not blessed tags, so the screen model stays free of blessed and
// tests can compare plain strings. draw.ts is the only place that turns a Line into tags.

import type { Color } from '../output/state-color';
import { headUnits, tailUnits } from '../../util/terminal-text';

export type { Color };

export interface Style {
  fg?: Color;
  bold?: boolean;
  inverse?: boolean;
}

export interface Segment {
  text: string;
  style?: Style;
}

export type Line = Segment[];

export function seg(text: string, style?: Style): Segment {
  return style ? { text, style } : { text };
}

export function plain(line: Line): string {
  return line.map((s) => s.text).join('');
}

export function lineWidth(line: Line): number {
  let n = 0;
  for (const s of line) n += s.text.length;
  return n;
}

/** Cuts a line to `width` columns (every glyph we emit is one column wide), ending in "…" when cut. */
export function clipLine(line: Line, width: number): Line {
  if (lineWidth(line) <= width) return line;
  const out: Line = [];
  let left = Math.max(0, width - 1);
  for (const s of line) {
    if (left <= 0) break;
    const text = s.text.length <= left ? s.text : headUnits(s.text, left);
    out.push({ ...s, text });
    left -= text.length;
  }
  if (width > 0) out.push(seg('…'));
  return out;
}

/** Pads (or clips) to exactly `width`; banners use it so an inverse bar spans the whole row. */
export function fillLine(line: Line, width: number, style?: Style): Line {
  const clipped = clipLine(line, width);
  const pad = width - lineWidth(clipped);
  return pad > 0 ? [...clipped, seg(' '.repeat(pad), style)] : clipped;
}

/** Clips plain text keeping the start. */
export function clipEnd(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 0 ? '' : headUnits(text, width - 1) + '…';
}

/** Clips plain text keeping the end: an endpoint's port and last octets tell connections apart. */
export function clipStart(text: string, width: number): string {
  if (text.length <= width) return text;
  return width <= 0 ? '' : '…' + tailUnits(text, text.length - width + 1);
}

/** Clips plain text keeping both ends, the end getting two thirds: a message's reason comes last. */
export function clipMiddle(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return clipStart(text, width);
  const head = Math.floor((width - 1) / 3);
  return headUnits(text, head) + '…' + tailUnits(text, text.length - (width - 1 - head));
}

/**
 * Text from the outside (a command line from `node -e`, an address from a recording, a demo banner)
 * may hold newlines, tabs or escape bytes; one of them inside a row would break the frame or drive
 * the terminal. Every such field goes through one of these once (util/terminal-text.ts).
 */
export { oneLine, terminalText } from '../../util/terminal-text';

export function padEnd(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

export function padStart(text: string, width: number): string {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}

/**
 * Greedy packing of short "label value" items into lines of `width`, separated by `gap` spaces.
 * Used for the header, whose item count is fixed but whose width is not.
 */
export function packItems(items: readonly Line[], width: number, gap = 2): Line[] {
  const lines: Line[] = [];
  let cur: Line = [];
  let curW = 0;
  for (const item of items) {
    const w = lineWidth(item);
    if (cur.length > 0 && curW + gap + w > width) {
      lines.push(cur);
      cur = [];
      curW = 0;
    }
    if (cur.length > 0) {
      cur.push(seg(' '.repeat(gap)));
      curW += gap;
    }
    cur.push(...item);
    curW += w;
  }
  if (cur.length > 0) lines.push(cur);
  return lines.map((l) => clipLine(l, width));
}
