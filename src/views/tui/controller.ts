// Wires a WatchSession, the UI state and the keyboard to the screen model and the painter.
// Redraws happen on session updates and keypresses only, at most ~10 per second.
// Nothing here reaches the poll loop: `f` changes the lens of the table and the log, space freezes
// the screen, `r` moves the display baseline of the counters; the watch polls, tracks, records and
// summarizes the same whatever keys are pressed.
import type { Widgets } from 'blessed';
import type { TrackedConnection, TrackerEvent } from '../../core/tracker-types';
import { formatDuration } from '../../util/duration';
import type { ReplayControl, WatchSession } from '../session-types';
import { isPollTrouble, pollTroubleText } from '../output/poll-trouble-text';
import { briefLossText } from '../output/event-lines';
import type { LifecycleStatus } from '../../core/lifecycle-types';
import type { StateFilter, TcpState } from '../../model';
import type { LiveExportArgs } from '../output/export-file';
import { wantedColumns, type ColumnId } from './columns';
import { paintFrame, type Frame } from './draw';
import { EventLog } from './event-log';
import { actionFor, isQuitKey, replayActionFor, type Action, type KeyPress } from './keys';
import { selectRows } from './rows';
import { buildScreenModel, deriveView, statesText, type DerivedView } from './screen-model';
import { editPrompt, initialUiState, nextSort, reverseSort, scrollBy, type UiState } from './ui-state';

export type Exporter = (args: LiveExportArgs) => Promise<string>;

export const REDRAW_INTERVAL_MS = 100;

/** The demo's legend folds to one line at the first key press, or after this long unread. */
export const LEGEND_FOLD_MS = 20_000;

/** Events held while the screen is frozen, at most (the log shows far fewer anyway). */
const HELD_EVENTS_MAX = 1_000;

/** `f`: the filter the watch started with and 'all' in turn ('all' and established when it started with 'all'). */
export function nextStates(current: StateFilter, initial: StateFilter): StateFilter {
  if (current !== 'all') return 'all';
  return initial === 'all' ? new Set<TcpState>(['ESTABLISHED']) : initial;
}

export interface ControllerDeps {
  session: WatchSession;
  screen: Widgets.Screen;
  frame: Frame;
  color: boolean;
  exportDir: string;
  exporter: () => Promise<Exporter>;
  command?: string;
  demoBanner?: string;
  /** the demo banner in one line, once the legend is folded */
  demoBannerFolded?: string;
  /** default LEGEND_FOLD_MS (tests shorten it) */
  legendFoldMs?: number;
  /** the user asked to quit */
  onQuit: (code: number) => void;
  /** `h`: writes an HTML report of what was seen so far into the directory; returns the path */
  htmlReport?: (dir: string, nowMs: number) => Promise<string>;
  /** replay: a banner line kept current, and keys it handles before the usual ones (a status line when handled) */
  replay?: ReplayControl;
  /** the first status line instead of the between-poll facility's (where `run` logs CMD, a hint) */
  status?: string;
}

export class TuiController {
  private ui: UiState;
  private readonly log = new EventLog(200);
  private dataVersion = 0;
  private rowsCache: { key: string; rows: TrackedConnection[] } | undefined;
  /** deriveView() of the current dataVersion: one walk of the connections per poll, not per redraw */
  private derivedCache: { version: number; view: DerivedView } | undefined;
  private viewport = 0;
  private shownColumns: ColumnId[] = ['fd'];
  /** ScreenModel.findingsPage of the last frame */
  private findingsPage = 0;
  private cooldown: NodeJS.Timeout | undefined;
  private pending = false;
  private disposed = false;
  private readonly unsubscribe: () => void;
  private readonly unsubscribeNotice: () => void;
  /** what the CLI asked for (e.g. established,close_wait for the demo): `f` toggles it with 'all' */
  private readonly initialStates: StateFilter;
  /** while paused: what the screen shows, and the events that arrived since */
  private frozen: { view: DerivedView; nowMs: number } | undefined;
  private held: TrackerEvent[] = [];
  /** the losses last put on the status line */
  private lossesSaid: string | undefined;
  private legendTimer: NodeJS.Timeout | undefined;

  constructor(private readonly d: ControllerDeps) {
    const s = d.session;
    this.initialStates = s.states;
    this.ui = initialUiState(s.states);
    const procs = s.tracker.processes.length;
    this.log.info(s.now(), `watching ${procs > 1 ? `${procs} processes` : `PID ${s.pid}`}: ${s.tracker.stats(s.now()).live} live connections`);
    const brief = s.briefConnections;
    this.setStatus(
      d.status !== undefined ? d.status : brief.facility === 'none'
        ? `connections shorter than one poll are not counted${brief.reason ? `: ${brief.reason}` : ''}`
        : `connections shorter than one poll counted from ${brief.facility === 'ebpf' ? 'eBPF' : 'destroy notifications'}${brief.reason ? ` (${brief.reason})` : ''}`,
    );
    this.unsubscribe = s.onUpdate((events) => {
      if (this.frozen !== undefined) {
        // a poll event is data for the watch state, not news to hold
        for (const e of events) if (e.type !== 'poll') this.held.push(e);
        if (this.held.length > HELD_EVENTS_MAX) this.held.splice(0, this.held.length - HELD_EVENTS_MAX);
        return;
      }
      this.absorb(events);
      this.sayLosses(s.briefConnections);
      this.requestRedraw();
    });
    if (d.demoBanner !== undefined && d.replay === undefined) {
      this.legendTimer = setTimeout(() => this.foldLegend(), d.legendFoldMs ?? LEGEND_FOLD_MS);
      this.legendTimer.unref();
    }
    this.unsubscribeNotice = s.onNotice((n) => {
      if (isPollTrouble(n)) {
        this.setStatus(pollTroubleText(n), n.kind === 'poll_failed' ? 'error' : 'info');
        this.requestRedraw();
        return;
      }
      if (n.kind !== 'lagging') return;
      const gap = n.lag.medianGapMs === null ? '' : ` (median gap ${formatDuration(n.lag.medianGapMs)})`;
      this.setStatus(`polls are late for the ${formatDuration(n.lag.intervalMs)} interval${gap}: events keep their observed times`, 'error');
      this.requestRedraw();
    });
  }

  /** the between-poll facility's losses, on the status line once they grow: the counts are then lower bounds */
  private sayLosses(facility: LifecycleStatus): void {
    const text = briefLossText(facility);
    if (text === undefined || text === this.lossesSaid) return;
    this.lossesSaid = text;
    this.setStatus(text, 'error');
  }

  private absorb(events: readonly TrackerEvent[]): void {
    this.log.add(events);
    for (const e of events) if (e.type === 'exit') this.ui = { ...this.ui, exitReason: e.reason };
    this.dataVersion++;
  }

  dispose(): void {
    this.disposed = true;
    this.unsubscribe();
    this.unsubscribeNotice();
    if (this.cooldown) clearTimeout(this.cooldown);
    this.cooldown = undefined;
    if (this.legendTimer) clearTimeout(this.legendTimer);
  }

  private foldLegend(): void {
    if (this.legendTimer) clearTimeout(this.legendTimer);
    this.legendTimer = undefined;
    if (this.ui.legendFolded) return;
    this.ui = { ...this.ui, legendFolded: true };
    this.requestRedraw();
  }

  /** Redraws now unless one happened within the last REDRAW_INTERVAL_MS; then once when it ends. */
  requestRedraw(): void {
    if (this.disposed) return;
    if (this.cooldown) {
      this.pending = true;
      return;
    }
    this.redraw();
    this.cooldown = setTimeout(() => {
      this.cooldown = undefined;
      if (this.pending) {
        this.pending = false;
        this.requestRedraw();
      }
    }, REDRAW_INTERVAL_MS);
  }

  private derived(): DerivedView {
    if (this.frozen !== undefined) return this.frozen.view;
    if (this.derivedCache?.version !== this.dataVersion) {
      const { session } = this.d;
      this.derivedCache = { version: this.dataVersion, view: deriveView(session.tracker, session.now(), session.lag()) };
    }
    return this.derivedCache.view;
  }

  private nowMs(): number {
    return this.frozen?.nowMs ?? this.d.session.now();
  }

  private rows(): TrackedConnection[] {
    const { sort, filterText, states } = this.ui;
    const key = `${this.dataVersion}|${this.frozen === undefined ? '' : 'frozen'}|${sort.key}|${sort.descending}|${statesText(states)}|${filterText}`;
    if (this.rowsCache?.key !== key) {
      this.rowsCache = { key, rows: selectRows(this.derived().live, { states, filterText, sort }) };
    }
    return this.rowsCache.rows;
  }

  private redraw(): void {
    const { session, screen } = this.d;
    const model = buildScreenModel({
      tracker: session.tracker,
      session,
      ui: this.ui,
      nowMs: this.nowMs(),
      width: Number(screen.width),
      height: Number(screen.height),
      log: this.log,
      command: this.d.command,
      demoBanner: this.d.replay ? this.d.replay.banner() : this.d.demoBanner,
      demoBannerFolded: this.d.demoBannerFolded,
      rows: this.rows(),
      derived: this.derived(),
      plain: !this.d.color,
      replay: this.d.replay !== undefined,
    });
    this.ui = { ...this.ui, scroll: model.table.offset };
    this.viewport = model.table.viewport;
    this.shownColumns = model.table.columns.map((c) => c.id);
    this.findingsPage = model.findingsPage;
    paintFrame(this.d.frame, model, this.d.color);
    screen.render();
  }

  handleKey(ch: string | undefined, key: KeyPress | undefined): void {
    if (this.disposed) return;
    const k: KeyPress = { ch, name: key?.name, ctrl: key?.ctrl };
    if (isQuitKey(k)) return this.d.onQuit(0);
    // The first key press says the legend was read; the key still does what it does.
    if (!this.ui.legendFolded && this.d.demoBanner !== undefined) this.foldLegend();
    if (this.ui.help) {
      this.ui = { ...this.ui, help: false };
      return this.requestRedraw();
    }
    const edited = editPrompt(this.ui, k);
    if (edited) {
      this.ui = edited;
      return this.requestRedraw();
    }
    const replayAction = this.d.replay && replayActionFor(k);
    const replayed = replayAction ? this.d.replay?.act(replayAction) : undefined;
    if (replayed !== undefined) {
      this.setStatus(replayed);
      return this.requestRedraw();
    }
    const action = actionFor(k);
    if (action) this.apply(action);
  }

  private setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
    this.ui = { ...this.ui, status: { text, kind } };
  }

  private apply(a: Action): void {
    const { session } = this.d;
    switch (a.type) {
      case 'quit':
        return this.d.onQuit(0);
      case 'pause':
        if (this.frozen === undefined) {
          this.frozen = { view: this.derived(), nowMs: session.now() };
          this.ui = { ...this.ui, paused: true };
          this.setStatus('paused: the screen is frozen; polling and recording go on');
        } else {
          this.frozen = undefined;
          const held = this.held;
          this.held = [];
          this.absorb(held);
          this.ui = { ...this.ui, paused: false };
          this.setStatus(`resumed (${held.length} events while paused)`);
        }
        break;
      case 'export':
        void this.export(a.format);
        break;
      case 'sort': {
        const live = this.derived().live;
        const hasTcp = live.some((t) => t.connection.tcp !== undefined);
        const hasTimer = live.some((t) => t.connection.timer !== undefined);
        // Cycle through the columns on screen; fall back to all wanted ones before the first draw.
        const cols = this.shownColumns.length > 1 ? this.shownColumns : wantedColumns(hasTcp, hasTimer);
        this.ui = nextSort(this.ui, cols);
        break;
      }
      case 'reverse':
        this.ui = reverseSort(this.ui);
        break;
      case 'states': {
        const next = nextStates(this.ui.states, this.initialStates);
        this.ui = { ...this.ui, states: next, scroll: 0, follow: false };
        this.setStatus(`showing states: ${statesText(next)} (every state is still tracked and counted)`);
        break;
      }
      case 'prompt':
        this.ui = { ...this.ui, prompt: this.ui.filterText };
        break;
      case 'reset':
        session.tracker.resetBaseline(session.now());
        this.log.info(session.now(), 'counters reset on screen (the summary still counts the whole watch)');
        this.dataVersion++;
        this.setStatus('counters shown from now; the summary still counts the whole watch');
        break;
      case 'help':
        this.ui = { ...this.ui, help: true };
        break;
      case 'group':
        this.ui = { ...this.ui, grouped: !this.ui.grouped, scroll: 0, follow: false };
        this.setStatus(this.ui.grouped ? 'grouped by peer: remote endpoint (out) or local endpoint (in); g shows connections' : 'one row per connection');
        break;
      case 'findings': {
        const total = this.derived().findings.length;
        if (total === 0) this.setStatus('no findings');
        else if (this.findingsPage >= total) this.setStatus(`all ${total} finding${total === 1 ? ' is' : 's are'} shown`);
        else {
          const next = this.ui.findingsFrom + this.findingsPage;
          const from = next >= total ? 0 : next;
          this.ui = { ...this.ui, findingsFrom: from };
          this.setStatus(`findings from ${from + 1} of ${total} (holding first, newest first)`);
        }
        break;
      }
      case 'scroll':
        this.ui = scrollBy(this.ui, a.by, this.viewport, this.ui.grouped ? this.derived().peers.length : this.rows().length);
        break;
      case 'dismiss':
        // Esc undoes what `/` applied, as well as closing the prompt while typing.
        this.ui = this.ui.filterText !== '' ? { ...this.ui, filterText: '', scroll: 0, follow: false, status: null } : { ...this.ui, status: null };
        break;
    }
    this.requestRedraw();
  }

  private async export(format: 'json' | 'csv' | 'html'): Promise<void> {
    const { session } = this.d;
    const label = format === 'html' ? 'HTML report' : format.toUpperCase();
    this.setStatus(`exporting ${label}…`);
    this.requestRedraw();
    try {
      if (format === 'html') {
        if (!this.d.htmlReport) throw new Error('no HTML report in this view');
        this.setStatus(`exported ${label}: ${await this.d.htmlReport(this.d.exportDir, session.now())}`);
        this.requestRedraw();
        return;
      }
      const exporter = await this.d.exporter();
      const file = await exporter({
        tracker: session.tracker,
        sourceName: session.sourceName,
        states: this.ui.states,
        format,
        dir: this.d.exportDir,
        nowMs: session.now(),
      });
      this.setStatus(`exported ${label}: ${file}`);
    } catch (e) {
      // An export failure (disk full, bad directory) must not take the live view down.
      const msg = e instanceof Error ? e.message : String(e);
      this.setStatus(`export failed: ${msg.split('\n')[0]}`, 'error');
    }
    this.requestRedraw();
  }
}
