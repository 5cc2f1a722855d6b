// A WatchSession fed from a recording instead of a source, so the full-screen view replays a
// watch as if live. The session's clock is the recording's: views call now() and get the time of
// the step on screen. Keys the TUI hands over: ←/→ step, +/- speed, [/] previous/next open, close
// or finding; space (the TUI's pause) pauses playback.
import type { StateFilter, TcpState } from '../model';
import { TCP_STATES } from '../model';
import type { TrackerEvent } from '../core/tracker-types';
import type { LagStats, NoticeListener, ReplayAction, ReplayControl, UpdateListener, WatchSession } from '../views/session-types';
import type { LifecycleStatus } from '../core/lifecycle-types';
import { MAX_INTERVAL_MS, formatDuration } from '../util/duration';
import type { Replayer } from './replayer';
import { MARK_CLOSE, MARK_FINDING, MARK_OPEN } from './replay-analysis';

/** playback speeds; Infinity: as fast as possible */
export const SPEEDS = [1, 2, 10, 100, Infinity] as const;
/** steps applied per turn of the event loop at full speed (keys stay responsive) */
const BATCH = 200;

export class ReplaySession implements WatchSession, ReplayControl {
  readonly pid: number;
  readonly sourceName: WatchSession['sourceName'];
  readonly intervalMs: number;
  readonly startedMs: number;
  private statesNow: StateFilter;
  private isPaused = false;
  private stopped = false;
  private speedIndex = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<UpdateListener>();
  private endedResolve!: () => void;
  /** resolves when playback reaches the end of the recording */
  readonly reachedEnd = new Promise<void>((r) => (this.endedResolve = r));

  constructor(
    private readonly r: Replayer,
    private readonly marks: Uint8Array,
    private readonly name: string,
    opts: { sourceName: WatchSession['sourceName'] },
  ) {
    const start = r.recording.start;
    this.pid = start.pid;
    this.sourceName = opts.sourceName;
    this.intervalMs = start.intervalMs;
    this.startedMs = start.atMs;
    this.statesNow = start.states.length === 0 || start.states.length === TCP_STATES.length ? 'all' : new Set<TcpState>(start.states);
  }

  get tracker() {
    return this.r.tracker;
  }
  get states(): StateFilter {
    return this.statesNow;
  }
  setStates(s: StateFilter): void {
    this.statesNow = s;
  }
  get paused(): boolean {
    return this.isPaused;
  }
  setPaused(p: boolean): void {
    this.isPaused = p;
    this.schedule();
  }
  get speed(): number {
    return SPEEDS[this.speedIndex]!;
  }
  now(): number {
    return this.r.nowMs;
  }
  /** a recording keeps no evidence of its own between polls beyond its brief closes */
  readonly briefConnections: LifecycleStatus = { facility: 'none', reason: 'replay of a recording' };
  /** replay steps are the recording's polls: no lag of its own to report */
  lag(): LagStats {
    return { intervalMs: this.intervalMs, polls: this.r.position + 1, late: 0, medianGapMs: null, p95GapMs: null, maxGapMs: null, lagging: false };
  }
  onNotice(_l: NoticeListener): () => void {
    return () => undefined;
  }
  onUpdate(l: UpdateListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Applies the first step and starts playing. */
  begin(): void {
    this.emit(this.r.next());
    this.schedule();
  }

  private emit(events: readonly TrackerEvent[]): void {
    for (const l of this.listeners) l(events, this.r.nowMs);
    if (this.r.done) this.endedResolve();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.stopped || this.isPaused || this.r.done) return;
    const next = this.r.steps[this.r.position + 1]!;
    // A quiet stretch of a long recording can be spaced out beyond Node's 32-bit timers (replay-plan.ts).
    const delay = this.speed === Infinity ? 0 : Math.min(MAX_INTERVAL_MS, Math.max(0, (next.atMs - this.r.nowMs) / this.speed));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const events: TrackerEvent[] = [];
      const n = this.speed === Infinity ? BATCH : 1;
      for (let i = 0; i < n && !this.r.done; i++) events.push(...this.r.next());
      this.emit(events);
      this.schedule();
    }, delay);
  }

  /** Moves by `delta` steps and pauses there. */
  step(delta: number): void {
    this.isPaused = true;
    this.moveTo(this.r.position + delta);
  }

  /** The previous (-1) or next (+1) step with an open, close or finding change; false if none. */
  jump(direction: -1 | 1): boolean {
    const want = MARK_OPEN | MARK_CLOSE | MARK_FINDING;
    for (let i = this.r.position + direction; i >= 0 && i < this.marks.length; i += direction) {
      if ((this.marks[i]! & want) !== 0) {
        this.isPaused = true;
        this.moveTo(i);
        return true;
      }
    }
    return false;
  }

  private moveTo(index: number): void {
    const back = index < this.r.position;
    const events = this.r.seek(Math.max(0, index));
    // Going back replays from the start: the tracker is right, but those events are not news.
    this.emit(back ? [] : events);
    this.schedule();
  }

  faster(by: 1 | -1): void {
    this.speedIndex = Math.max(0, Math.min(SPEEDS.length - 1, this.speedIndex + by));
    this.schedule();
  }

  speedText(): string {
    return this.speed === Infinity ? 'as fast as possible' : `${this.speed}×`;
  }

  /** one line for the top of the screen */
  banner(): string {
    const at = formatDuration(this.r.nowMs - this.startedMs);
    const total = formatDuration(this.r.plan.endMs - this.startedMs);
    const state = this.r.done ? 'end of recording' : this.isPaused ? 'paused' : 'playing';
    return `REPLAY ${this.name}: ${at} of ${total}, poll ${this.r.position + 1}/${this.r.steps.length}, ${this.speedText()}, ${state} — ←/→ step, +/- speed, [/] previous/next event`;
  }

  /** What a replay key asks (views/tui/keys.ts REPLAY_KEYS maps them); returns the status line. */
  act(a: ReplayAction): string {
    switch (a.type) {
      case 'playback':
        // space pauses playback (in a live watch it freezes the screen while polling goes on)
        this.setPaused(!this.isPaused);
        return this.isPaused ? 'playback paused' : 'playing';
      case 'step':
        this.step(a.by);
        return a.by < 0 ? 'stepped back' : 'stepped forward';
      case 'speed':
        this.faster(a.by);
        return `speed ${this.speedText()}`;
      case 'jump':
        if (a.by < 0) return this.jump(-1) ? 'previous open/close/finding' : 'no earlier open, close or finding';
        return this.jump(1) ? 'next open/close/finding' : 'no later open, close or finding';
    }
  }
}
