// Key bindings as data: one table the controller maps keypresses with, the help overlay lists, and
// docs/cli.md's "Keys:" paragraph is tested against (test/unit/tui-keys-docs.test.ts).
import type { ReplayAction } from '../session-types';

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
  | { type: 'findings' }
  | { type: 'scroll'; by: number | 'page-up' | 'page-down' | 'top' | 'bottom' }
  | { type: 'dismiss' };

/** The keys only a replay has (the replay session acts on them: ReplayControl). */
export type { ReplayAction };

/** What blessed reports for a keypress (ch for printable keys, key.name for the rest). */
export interface KeyPress {
  ch?: string;
  name?: string;
  ctrl?: boolean;
}

/** One key: `label` is how the help and the docs name it. */
interface Key<A> {
  label: string;
  /** blessed's key.name (special keys) */
  name?: string;
  /** the character typed */
  ch?: string;
  ctrl?: boolean;
  action: A;
  /** matched but not listed (a second spelling: `=` for `+`) */
  hiddenAlias?: boolean;
}

export interface KeyRow<A> {
  keys: readonly Key<A>[];
  help: string;
}

const k = <A>(label: string, match: { name?: string; ch?: string; ctrl?: boolean }, action: A): Key<A> => ({ label, ...match, action });

/** Every key of the live view (and of a replay, which adds REPLAY_KEYS), in the help's order. */
export const KEY_TABLE: readonly KeyRow<Action>[] = [
  { keys: [k('q', { ch: 'q' }, { type: 'quit' }), k('Ctrl-C', { name: 'c', ctrl: true }, { type: 'quit' })], help: 'quit (the summary is printed on the normal screen)' },
  { keys: [k('space', { ch: ' ' }, { type: 'pause' })], help: 'freeze / unfreeze the screen (polling and recording go on)' },
  { keys: [k('e', { ch: 'e' }, { type: 'export', format: 'json' })], help: 'export live connections as JSON' },
  { keys: [k('c', { ch: 'c' }, { type: 'export', format: 'csv' })], help: 'export live connections as CSV' },
  { keys: [k('h', { ch: 'h' }, { type: 'export', format: 'html' })], help: 'export an HTML report of everything seen so far' },
  { keys: [k('s', { ch: 's' }, { type: 'sort' })], help: 'sort by the next column' },
  { keys: [k('S', { ch: 'S' }, { type: 'reverse' })], help: 'reverse the sort order' },
  { keys: [k('f', { ch: 'f' }, { type: 'states' })], help: 'show: the --state filter / all states (all are tracked)' },
  { keys: [k('/', { ch: '/' }, { type: 'prompt' })], help: 'filter rows by text (Enter applies, Esc clears)' },
  { keys: [k('Esc', { name: 'escape' }, { type: 'dismiss' })], help: 'clear the text filter and the status line' },
  { keys: [k('r', { ch: 'r' }, { type: 'reset' })], help: 'count on screen from now (the summary is unchanged)' },
  { keys: [k('g', { ch: 'g' }, { type: 'group' })], help: 'one row per peer (remote endpoint out, local in), or back' },
  { keys: [k('F', { ch: 'F' }, { type: 'findings' })], help: 'show the next findings when more hold than fit' },
  {
    keys: [k('↑', { name: 'up' }, { type: 'scroll', by: -1 }), k('↓', { name: 'down' }, { type: 'scroll', by: 1 }), k('j', { ch: 'j' }, { type: 'scroll', by: 1 }), k('k', { ch: 'k' }, { type: 'scroll', by: -1 })],
    help: 'scroll one row',
  },
  { keys: [k('PgUp', { name: 'pageup' }, { type: 'scroll', by: 'page-up' }), k('PgDn', { name: 'pagedown' }, { type: 'scroll', by: 'page-down' })], help: 'scroll one page' },
  {
    keys: [k('Home', { name: 'home' }, { type: 'scroll', by: 'top' }), k('End', { name: 'end' }, { type: 'scroll', by: 'bottom' }), k('G', { ch: 'G' }, { type: 'scroll', by: 'bottom' })],
    help: 'jump to top / bottom (End or G then follows new rows)',
  },
  { keys: [k('?', { ch: '?' }, { type: 'help' })], help: 'this help (any key closes it)' },
];

/** The replay's own keys; they take precedence over KEY_TABLE (space pauses playback there). */
export const REPLAY_KEYS: readonly KeyRow<ReplayAction>[] = [
  { keys: [k('space', { ch: ' ' }, { type: 'playback' })], help: 'pause / resume playback' },
  { keys: [k('←', { name: 'left' }, { type: 'step', by: -1 }), k('→', { name: 'right' }, { type: 'step', by: 1 })], help: 'step one poll back / forward' },
  { keys: [k('+', { ch: '+' }, { type: 'speed', by: 1 }), { ...k('=', { ch: '=' }, { type: 'speed', by: 1 } as ReplayAction), hiddenAlias: true }, k('-', { ch: '-' }, { type: 'speed', by: -1 })], help: 'faster / slower playback' },
  { keys: [k('[', { ch: '[' }, { type: 'jump', by: -1 }), k(']', { ch: ']' }, { type: 'jump', by: 1 })], help: 'previous / next open, close or finding' },
];

function lookup<A>(table: readonly KeyRow<A>[], p: KeyPress): A | undefined {
  for (const row of table) {
    for (const key of row.keys) {
      if (Boolean(key.ctrl) !== Boolean(p.ctrl)) continue;
      if (key.name !== undefined ? p.name === key.name : key.ch !== undefined && p.ch === key.ch) return key.action;
    }
  }
  return undefined;
}

export function isQuitKey(p: KeyPress): boolean {
  return Boolean(p.ctrl && p.name === 'c');
}

export function actionFor(p: KeyPress): Action | undefined {
  return lookup(KEY_TABLE, p);
}

export function replayActionFor(p: KeyPress): ReplayAction | undefined {
  return lookup(REPLAY_KEYS, p);
}

/** The labels of a row as the help writes them ("q  Ctrl-C"). */
export function rowLabels<A>(row: KeyRow<A>): string[] {
  return row.keys.filter((key) => key.hiddenAlias !== true).map((key) => key.label);
}

/** The help overlay's [keys, what] pairs: the replay's rows first, replacing live rows on the same key. */
export function helpEntries(replay: boolean): (readonly [string, string])[] {
  const rows: KeyRow<unknown>[] = replay ? [...REPLAY_KEYS] : [];
  const taken = new Set(rows.flatMap(rowLabels));
  for (const row of KEY_TABLE) if (!rowLabels(row).some((l) => taken.has(l))) rows.push(row);
  return rows.map((row) => [rowLabels(row).join(' '), row.help] as const);
}
