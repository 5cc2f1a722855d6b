// What the user has chosen on screen. None of it reaches the poll loop: the watch polls, tracks and
// records the same whatever is shown.
// Transitions are pure so the key handling can be tested without a terminal.
import type { ExitReason } from '../../core/tracker-types';
import type { StateFilter } from '../../model';
import type { ColumnId } from './columns';
import type { SortSpec } from './rows';

export interface StatusMessage {
  text: string;
  kind: 'info' | 'error';
}

export interface UiState {
  sort: SortSpec;
  /** the applied row filter ('' = none) */
  filterText: string;
  /** the text being typed after `/`; null when no prompt is open */
  prompt: string | null;
  /** index of the first visible row; the screen model clamps it */
  scroll: number;
  /** at the bottom by G (or by scrolling down to it): stay there as rows are added */
  follow: boolean;
  status: StatusMessage | null;
  help: boolean;
  exitReason: ExitReason | null;
  /** the state lens of the table and the event log (`f`); starts as the watch's --state */
  states: StateFilter;
  /** the screen is frozen (space); polling and recording go on */
  paused: boolean;
  /** `g`: the table shows one row per peer instead of one per connection */
  grouped: boolean;
  /** `F`: the first finding the banner shows when more hold than it has lines for */
  findingsFrom: number;
  /** the demo's legend is folded to one line (after the first key press, or a while: controller.ts) */
  legendFolded: boolean;
}

export function initialUiState(states: StateFilter = 'all'): UiState {
  return {
    sort: { key: 'fd', descending: false },
    filterText: '',
    prompt: null,
    scroll: 0,
    follow: false,
    status: null,
    help: false,
    exitReason: null,
    states,
    paused: false,
    grouped: false,
    findingsFrom: 0,
    legendFolded: false,
  };
}

/** The next column among those on screen; wraps around, ascending again on a new column. */
export function nextSort(ui: UiState, columns: readonly ColumnId[]): UiState {
  const i = columns.indexOf(ui.sort.key);
  const key = columns[(i + 1) % columns.length] ?? 'fd';
  return { ...ui, sort: { key, descending: false }, scroll: 0, follow: false };
}

export function reverseSort(ui: UiState): UiState {
  return { ...ui, sort: { ...ui.sort, descending: !ui.sort.descending }, scroll: 0, follow: false };
}

export function scrollBy(ui: UiState, by: number | 'page-up' | 'page-down' | 'top' | 'bottom', viewport: number, rowCount: number): UiState {
  const maxScroll = Math.max(0, rowCount - viewport);
  const page = Math.max(1, viewport - 1);
  const target =
    by === 'top' ? 0 : by === 'bottom' ? maxScroll : by === 'page-up' ? ui.scroll - page : by === 'page-down' ? ui.scroll + page : ui.scroll + by;
  const scroll = Math.max(0, Math.min(maxScroll, target));
  const up = by === 'top' || by === 'page-up' || (typeof by === 'number' && by < 0);
  // Like `tail -f`: reaching the end by moving down keeps the view there; any move up leaves it.
  const follow = !up && (by === 'bottom' || ui.follow || (maxScroll > 0 && scroll === maxScroll));
  return { ...ui, scroll, follow };
}

/** Edits the `/` prompt; returns undefined when the key is not a prompt edit. */
export function editPrompt(ui: UiState, key: { ch?: string; name?: string }): UiState | undefined {
  if (ui.prompt === null) return undefined;
  if (key.name === 'enter') return { ...ui, filterText: ui.prompt.trim(), prompt: null, scroll: 0, follow: false };
  if (key.name === 'escape') return { ...ui, filterText: '', prompt: null, scroll: 0, follow: false };
  if (key.name === 'backspace') return { ...ui, prompt: ui.prompt.slice(0, -1) };
  const ch = key.ch;
  if (ch !== undefined && ch.length === 1 && ch >= ' ' && ch !== '\x7f') return { ...ui, prompt: ui.prompt + ch };
  return ui;
}
