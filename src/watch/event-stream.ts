// What a watch writes about itself, in NDJSON (--json, --record) and in line mode: the start
// event, the tracker's events through the --state lens, lag and poll notices, and the summary. One place,
// so that stdout and a recording cannot tell different stories, and so that the whole stream can
// be tested with a fake source and clock.
import type { ProcessInfo } from '../model';
import type { TrackedConnection } from '../core/tracker-types';
import { EventLens } from '../core/lens';
import { eventJson, startEventJson, summaryJson, type JsonObject } from '../views/output/json-shapes';
import { endpointWidthFor, eventHeader, eventLine, groupStartLine, hasLine, IPV4_ENDPOINT_WIDTH, startLine, summaryLines } from '../views/output/event-lines';
import { formatClock, formatDuration } from '../util/duration';
import type { WatchSession } from '../views/session-types';
import { isPollTrouble, pollTroubleText } from '../views/output/poll-trouble-text';

export interface EventSinks {
  /** every NDJSON object, in order (start, events, summary) */
  json(o: JsonObject): void;
  /** line-mode text; absent when not in line mode */
  line?(text: string): void;
  /** a remark for the person watching, outside the data (the first lag, a failed poll; --json, serve) */
  notice?(text: string): void;
  /**
   * false: nobody reads the tracker's events as NDJSON (line mode without --record or a report),
   * so they are not built: at a first poll of 20,000 connections they were most of its garbage.
   * The start event and the summary are built regardless. Default true.
   */
  eventsJson?: boolean;
}

export class EventStream {
  /** the --state lens: which open/close/state events are written */
  readonly lens: EventLens;
  private readonly unsubscribe: () => void;
  private readonly unsubscribeNotice: () => void;
  /** line output has a PID column (a group) */
  private pidColumn = false;
  /** LOCAL/REMOTE width of the line output, fixed at start so the columns stay aligned */
  private endpointWidth = IPV4_ENDPOINT_WIDTH;

  constructor(
    private readonly session: WatchSession,
    private readonly sinks: EventSinks,
  ) {
    this.lens = new EventLens(session.states);
    const pid = session.pid;
    const eventsJson = sinks.eventsJson !== false;
    this.unsubscribe = session.onUpdate((events) => {
      for (const e of this.lens.pass(events)) {
        if (eventsJson) sinks.json(eventJson(pid, e));
        if (hasLine(e)) sinks.line?.(eventLine(e, this.pidColumn, this.endpointWidth));
      }
    });
    this.unsubscribeNotice = session.onNotice((n) => {
      if (isPollTrouble(n)) {
        const text = pollTroubleText(n);
        if (sinks.line) sinks.line(`${formatClock(n.atMs).padEnd(12)} poll  ${text}`);
        else sinks.notice?.(`sockwatch: ${text}`);
        return;
      }
      if (n.kind !== 'lagging') return;
      const gap = n.lag.medianGapMs === null ? '' : `, median gap ${formatDuration(n.lag.medianGapMs)}`;
      const text = `polls are late for the ${formatDuration(n.lag.intervalMs)} interval (${n.lag.late} of ${n.lag.polls}${gap}); events keep the time they were observed`;
      if (sinks.line) sinks.line(`${formatClock(n.atMs).padEnd(12)} lag   ${text}`);
      else sinks.notice?.(`sockwatch: ${text}`);
    });
  }

  /**
   * The start event (and line); `atMs`: the first poll's time. `group`: the target is a group
   * (--name, --children, -p a,b): `processes` is listed when more than one is watched, and line
   * output has a PID column. `hint`: advice for the person watching (add --children).
   */
  start(process: ProcessInfo, atMs: number, extra: { processes?: readonly ProcessInfo[]; group?: string; hint?: string } = {}): void {
    const s = this.session;
    const processes = extra.processes !== undefined && extra.processes.length > 1 ? extra.processes : undefined;
    this.pidColumn = extra.group !== undefined;
    this.endpointWidth = endpointWidthFor(s.tracker.liveEndpoints());
    this.sinks.json(
      startEventJson({
        timeMs: atMs,
        process,
        intervalMs: s.intervalMs,
        source: s.sourceName,
        states: s.states,
        briefConnections: s.briefConnections,
        ...(processes ? { processes } : {}),
        ...(extra.hint !== undefined ? { hint: extra.hint } : {}),
      }),
    );
    const line = extra.group !== undefined ? groupStartLine(extra.group, extra.processes ?? [process], s.sourceName, s.intervalMs, s.states) : startLine(process, s.sourceName, s.intervalMs, s.states);
    this.sinks.line?.(line);
    if (extra.hint !== undefined) this.sinks.line?.(`hint: ${extra.hint}`);
  }

  /** the header line of the event lines (with a PID column for a group) */
  header(): string {
    return eventHeader(this.pidColumn, this.endpointWidth);
  }

  /**
   * The summary: NDJSON object and lines. The counts and findings cover every state. The object
   * is built when `json` is first read: it lists every live connection, and line mode without a
   * recording or a report never reads it (at the end of a big watch it was a second first poll).
   */
  summary(nowMs: number): { readonly json: JsonObject; lines: string[] } {
    const { tracker, pid } = this.session;
    const lag = this.session.lag();
    const briefConnections = this.session.briefConnections;
    const shown = (t: TrackedConnection): boolean => this.lens.isShown(t.id);
    let json: JsonObject | undefined;
    return {
      get json(): JsonObject {
        return (json ??= summaryJson({ pid, tracker, nowMs, lag, shown, briefConnections }));
      },
      lines: summaryLines(tracker, nowMs, lag, briefConnections),
    };
  }

  dispose(): void {
    this.unsubscribe();
    this.unsubscribeNotice();
  }
}

