// Key bindings as data: the controller maps a keypress to an action, the help overlay lists them.

export type Action =
  | { type: 'quit' }
  | { type: 'pause' }
  | { type: 'export'; format: 'json' | 'csv' | 'html' }
  | { type: 'sort' }
  | { type: 'reverse' }
  | { type: 'states' }
  | { type: 'prompt' }
  | { type: 'reset' }
  | { type: 'help' }
  | { type: 'group' }
  | { type: 'scroll'; by: number | 'page-up' | 'page-down' | 'top' | 'bottom' }
  | { type: 'dismiss' };

/** What blessed reports for a keypress (ch for printable keys, key.name for the rest). */
export interface KeyPress {
  ch?: string;
  name?: string;
  ctrl?: boolean;
}

export function isQuitKey(k: KeyPress): boolean {
  return Boolean(k.ctrl && k.name === 'c');
}

export function actionFor(k: KeyPress): Action | undefined {
  if (isQuitKey(k)) return { type: 'quit' };
  if (k.ctrl) return undefined;
  switch (k.name) {
    case 'up':
      return { type: 'scroll', by: -1 };
    case 'down':
      return { type: 'scroll', by: 1 };
    case 'pageup':
      return { type: 'scroll', by: 'page-up' };
    case 'pagedown':
      return { type: 'scroll', by: 'page-down' };
    case 'home':
      return { type: 'scroll', by: 'top' };
    case 'end':
      return { type: 'scroll', by: 'bottom' };
    case 'escape':
      return { type: 'dismiss' };
  }
  switch (k.ch) {
    case 'q':
      return { type: 'quit' };
    case ' ':
      return { type: 'pause' };
    case 'e':
      return { type: 'export', format: 'json' };
    case 'c':
      return { type: 'export', format: 'csv' };
    case 'h':
      return { type: 'export', format: 'html' };
    case 's':
      return { type: 'sort' };
    case 'S':
      return { type: 'reverse' };
    case 'f':
      return { type: 'states' };
    case '/':
      return { type: 'prompt' };
    case 'r':
      return { type: 'reset' };
    case '?':
      return { type: 'help' };
    case 'j':
      return { type: 'scroll', by: 1 };
    case 'k':
      return { type: 'scroll', by: -1 };
    case 'g':
      return { type: 'group' };
    case 'G':
      return { type: 'scroll', by: 'bottom' };
  }
  return undefined;
}

export const HELP_LINES: readonly (readonly [string, string])[] = [
  ['q  Ctrl-C', 'quit'],
  ['space', 'freeze / unfreeze the screen (polling and recording go on)'],
  ['e', 'export live connections as JSON'],
  ['c', 'export live connections as CSV'],
  ['h', 'export an HTML report of everything seen so far'],
  ['s', 'sort by the next column'],
  ['S', 'reverse the sort order'],
  ['f', 'show: the --state filter / all states (all are tracked)'],
  ['/', 'filter rows by text (Enter applies, Esc clears)'],
  ['r', 'count on screen from now (the summary is unchanged)'],
  ['↑ ↓  j k', 'scroll one row'],
  ['PgUp PgDn', 'scroll one page'],
  ['Home  End G', 'jump to top / bottom (End or G then follows new rows)'],
  ['g', 'group by peer: one row per remote endpoint (out) or local endpoint (in), or back'],
  ['Esc', 'clear the status line'],
  ['?', 'this help (any key closes it)'],
];
