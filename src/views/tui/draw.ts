// How to draw: paints a ScreenModel with blessed. The frame is one full-screen box whose content is
// the model's lines; the help overlay is a bordered box on top. Nothing here decides what to show.
import type { Widgets } from 'blessed';
import type { Line, Style } from './line';
import type { ScreenModel } from './screen-model';

/** The part of the blessed module we use; blessed itself is loaded lazily by run-tui.ts. */
export interface BlessedApi {
  box(options: Widgets.BoxOptions): Widgets.BoxElement;
}

export interface Frame {
  root: Widgets.BoxElement;
  help: Widgets.BoxElement;
}

function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (ch) => (ch === '{' ? '{open}' : '{close}'));
}

function openTags(style: Style | undefined, color: boolean): string {
  if (!style) return '';
  let tags = '';
  if (style.bold) tags += '{bold}';
  if (style.inverse) tags += '{inverse}';
  if (color && style.fg) tags += `{${style.fg}-fg}`;
  return tags;
}

/** Without color (NO_COLOR) bold and inverse stay: they are emphasis, not color. */
export function lineToTags(line: Line, color: boolean): string {
  let out = '';
  for (const s of line) {
    const open = openTags(s.style, color);
    out += open ? `${open}${escapeTags(s.text)}{/}` : escapeTags(s.text);
  }
  return out;
}

export function createFrame(blessed: BlessedApi, screen: Widgets.Screen): Frame {
  const root = blessed.box({ parent: screen, top: 0, left: 0, width: '100%', height: '100%', tags: true, wrap: false });
  const help = blessed.box({
    parent: screen,
    top: 'center',
    left: 'center',
    width: 40,
    height: 10,
    tags: true,
    wrap: false,
    hidden: true,
    border: { type: 'line' },
    padding: { left: 1, right: 1 },
  });
  return { root, help };
}

export function paintFrame(frame: Frame, model: ScreenModel, color: boolean): void {
  frame.root.setContent(model.lines.map((l) => lineToTags(l, color)).join('\n'));
  if (model.help) {
    const inner = Math.max(...model.help.map((l) => l.reduce((n, s) => n + s.text.length, 0)));
    // border (2) + padding (2); never larger than the terminal
    frame.help.width = Math.min(model.width, inner + 4);
    frame.help.height = Math.min(model.height, model.help.length + 2);
    frame.help.setContent(model.help.map((l) => lineToTags(l, color)).join('\n'));
    frame.help.show();
    frame.help.setFront();
  } else {
    frame.help.hide();
  }
}
