// A sockwatch.event/1 recording as replay and report read it: the start line, the connection
// events in file order and the summary. Built one parsed line at a time (RecordingBuilder), so the
// reader streams a file and a live watch can collect the very objects it records.
//
// The recording is untrusted input: every field is checked before use, numbers are clamped to what
// a watch could have written (recording-limits.ts), strings are cut to a length, a line that does
// not hold a usable event is reported and skipped, and fields or event types this version does not
// know are ignored (newer writers add some: `finding` events, `brief` closes, per-connection
// pid/direction).
import { TCP_STATES, connectionKey, type Connection, type Endpoint, type ProcessInfo, type SourceName, type TcpState } from '../model';
import { EVENT_SCHEMA } from '../views/output/json-shapes';
import type { EndCause, ExchangeUpdate, LifetimeBound, LikelyBrief, PollEvent } from '../core/tracker-types';
import { SockwatchError } from '../errors';
import { formatExactDuration } from '../util/duration';
import { recordedSummary } from './recorded-summary';
import { MAX_CHARS, MAX_FINDING_IDS, NO_LIMITS, clampCount, clampDuration, clampInterval, clip, type RecordingLimits } from './recording-limits';

/** processes a start line may list (a group's members): more are not kept */
const MAX_START_PROCESSES = 10_000;

export interface RecordedConnection {
  /** the id the recording gave it (unique within the run) */
  id: string;
  /** its life began at an instant between-poll evidence gave (`openTime: exact`) */
  openExact?: boolean;
  /** connectionKey() of `connection` */
  key: string;
  connection: Connection;
  firstSeenMs: number;
  preexisting: boolean;
  exchanges?: number;
  /** the process that owns it, when the recording says (a later format adds it) */
  pid?: number;
  /** 'inbound' | 'outbound', when the recording says */
  direction?: string;
}

interface EventBase {
  atMs: number;
  /** 1-based line number in the file (0 for events collected live) */
  line: number;
}

export interface RecordedFinding {
  kind: string;
  message: string;
  sinceMs?: number;
  untilMs?: number;
  ids: string[];
}

export type RecordedEvent =
  | (EventBase & { type: 'open'; conn: RecordedConnection })
  | (EventBase & {
      type: 'close';
      conn: RecordedConnection;
      lifetimeMs: number;
      brief: boolean;
      closeTime?: 'poll' | 'exact';
      lifetimeBound?: LifetimeBound;
      /** `exit`: it closed with its process (absent in recordings before the poll event) */
      cause?: EndCause;
      finalState?: TcpState;
    })
  | (EventBase & { type: 'state'; conn: RecordedConnection; from: TcpState; to: TcpState })
  | (EventBase & { type: 'exit'; reason: string; process: ProcessInfo })
  | (EventBase & { type: 'finding'; finding: RecordedFinding })
  /** what the watch state took from a poll (recordings since the poll event; see docs/output-contracts.md) */
  | (EventBase & { type: 'poll'; poll: PollEvent });

export interface RecordingStart {
  atMs: number;
  pid: number;
  process: ProcessInfo;
  /** every process of a group, when the start line lists them */
  processes?: ProcessInfo[];
  intervalMs: number;
  source: SourceName | string;
  states: TcpState[];
}

export interface Recording {
  /** what to call it in messages (the file name) */
  name: string;
  start: RecordingStart;
  events: RecordedEvent[];
  /** the recorded summary object as written, when the recording has one */
  summary?: Record<string, unknown>;
  summaryAtMs?: number;
  /** one message per skipped line */
  warnings: string[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function timeOf(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** a count: bytes, exchanges, queues, inodes, fds, uids, pids */
function count(v: unknown): number | undefined {
  const n = num(v);
  return n === undefined ? undefined : clampCount(n);
}

/** a duration in ms: a lifetime, an RTT, a timer */
function duration(v: unknown): number | undefined {
  const n = num(v);
  return n === undefined ? undefined : clampDuration(n);
}

/** a string, cut to `max` characters (MAX_CHARS) */
function str(v: unknown, max: number = MAX_CHARS.word): string | undefined {
  return typeof v === 'string' ? clip(v, max) : undefined;
}

function tcpState(v: unknown): TcpState | undefined {
  return TCP_STATES.find((s) => s === v);
}

function endpoint(v: unknown): Endpoint | undefined {
  if (!isObj(v)) return undefined;
  const address = str(v.address, MAX_CHARS.address);
  const port = num(v.port);
  return address === undefined || port === undefined ? undefined : { address, port: Math.min(65535, Math.max(0, Math.trunc(port))) };
}

export function parseProcess(v: unknown): ProcessInfo | undefined {
  if (!isObj(v)) return undefined;
  const pid = count(v.pid);
  if (pid === undefined) return undefined;
  const p: ProcessInfo = { pid, command: str(v.command, MAX_CHARS.name) ?? '?', cmdline: str(v.cmdline, MAX_CHARS.text) ?? '', user: str(v.user, MAX_CHARS.name) ?? '?' };
  const startTime = str(v.startTime);
  if (startTime !== undefined) p.startTime = startTime;
  return p;
}

/** The snapshot connection shape back into a Connection; undefined when a required field is missing. */
export function parseConnection(v: unknown): Connection | undefined {
  if (!isObj(v)) return undefined;
  const local = endpoint(v.local);
  const remote = endpoint(v.remote);
  const state = tcpState(v.state);
  const protocol = v.protocol === 'tcp' || v.protocol === 'tcp6' ? v.protocol : undefined;
  if (!local || !remote || !state || !protocol) return undefined;
  const c: Connection = { protocol, local, remote, state, inode: count(v.inode) ?? 0 };
  const fd = count(v.fd);
  if (fd !== undefined) c.fd = fd;
  const sq = count(v.sendQueue);
  if (sq !== undefined) c.sendQueue = sq;
  const rq = count(v.recvQueue);
  if (rq !== undefined) c.recvQueue = rq;
  const re = count(v.retransmits);
  if (re !== undefined) c.retransmits = re;
  const uid = count(v.uid);
  if (uid !== undefined) c.uid = uid;
  if (isObj(v.timer)) {
    const kind = str(v.timer.kind);
    const expiresMs = duration(v.timer.expiresMs);
    if ((kind === 'none' || kind === 'retransmit' || kind === 'keepalive' || kind === 'time_wait' || kind === 'zero_window_probe') && expiresMs !== undefined) {
      c.timer = { kind, expiresMs };
      const probes = count(v.timer.probes);
      if (probes !== undefined) c.timer.probes = probes;
    }
  }
  if (isObj(v.tcp)) {
    const t = v.tcp;
    const bytesSent = count(t.bytesSent);
    const bytesReceived = count(t.bytesReceived);
    if (bytesSent !== undefined && bytesReceived !== undefined) {
      c.tcp = {
        bytesSent,
        bytesReceived,
        rttMs: duration(t.rttMs) ?? 0,
        rttVarMs: duration(t.rttVarMs) ?? 0,
        retransmits: count(t.retransmits) ?? 0,
        lastSendMs: duration(t.lastSendMs) ?? 0,
        lastReceiveMs: duration(t.lastReceiveMs) ?? 0,
        cookie: str(t.cookie) ?? '',
      };
    }
  }
  return c;
}

function recordedConnection(v: unknown, atMs: number): RecordedConnection | undefined {
  const connection = parseConnection(v);
  if (!connection || !isObj(v)) return undefined;
  const id = str(v.id);
  if (id === undefined) return undefined;
  // Seen first no later than now, and no longer ago than a watch can last.
  const firstSeen = timeOf(v.firstSeen);
  const rc: RecordedConnection = {
    id,
    key: connectionKey(connection),
    connection,
    firstSeenMs: firstSeen === undefined ? atMs : atMs - clampDuration(atMs - firstSeen),
    preexisting: v.preexisting === true,
  };
  const exchanges = count(v.exchanges);
  if (exchanges !== undefined) rc.exchanges = exchanges;
  if (v.openTime === 'exact') rc.openExact = true;
  const pid = count(v.pid);
  if (pid !== undefined) {
    rc.pid = pid;
    connection.pid = pid;
  }
  // the two a recorder writes; anything else would be text kept per event for nothing. The peer
  // rows group by it: an inbound connection under its local endpoint
  if (v.direction === 'in' || v.direction === 'out') {
    rc.direction = v.direction;
    connection.direction = v.direction;
  }
  return rc;
}


/** A poll event's fields; what is malformed in it is left out (a poll without them still counts). */
function recordedPoll(v: Obj, atMs: number): PollEvent {
  const p: PollEvent = { type: 'poll', atMs };
  if (v.first === true) p.first = true;
  if (v.atExit === true) p.atExit = true;
  const live = count(v.live);
  const listening = count(v.listening);
  if (live !== undefined && listening !== undefined) {
    p.live = live;
    p.listening = listening;
  }
  if (isObj(v.exchanges)) {
    const ex: ExchangeUpdate[] = [];
    for (const [id, n] of Object.entries(v.exchanges)) {
      const c = count(n);
      if (c !== undefined) ex.push({ id: clip(id, MAX_CHARS.word), exchanges: c });
    }
    if (ex.length > 0) p.exchanges = ex;
  }
  if (Array.isArray(v.likelyBrief)) {
    const likely: LikelyBrief[] = [];
    for (const b of v.likelyBrief) {
      if (!isObj(b)) continue;
      const at = timeOf(b.time);
      const lifetimeMs = num(b.lifetimeMs);
      const local = endpoint(b.local);
      const remote = endpoint(b.remote);
      if (at === undefined || lifetimeMs === undefined || lifetimeMs < 0 || !local || !remote) continue;
      const l: LikelyBrief = { atMs: at, lifetimeMs, local, remote };
      const exchanges = count(b.exchanges);
      if (exchanges !== undefined) l.exchanges = exchanges;
      if (b.closeWait === true) l.closeWait = true;
      likely.push(l);
    }
    if (likely.length > 0) p.likelyBrief = likely;
  }
  if (Array.isArray(v.unattributed)) {
    const remotes = v.unattributed.filter((r): r is string => typeof r === 'string').map((r) => clip(r, MAX_CHARS.word));
    if (remotes.length > 0) p.unattributed = remotes;
  }
  return p;
}

/** What a poll event holds, in characters of text, for the recording's bound on text kept. */
function pollWeight(p: PollEvent): number {
  let n = 0;
  for (const e of p.exchanges ?? []) n += e.id.length + 8;
  n += (p.likelyBrief?.length ?? 0) * 96;
  for (const r of p.unattributed ?? []) n += r.length;
  return n;
}

function recordedFinding(v: unknown): RecordedFinding | undefined {
  if (!isObj(v)) return undefined;
  const kind = str(v.kind);
  if (kind === undefined) return undefined;
  const f: RecordedFinding = { kind, message: str(v.message, MAX_CHARS.text) ?? kind, ids: [] };
  const since = timeOf(v.since);
  if (since !== undefined) f.sinceMs = since;
  const until = timeOf(v.until);
  if (until !== undefined) f.untilMs = until;
  if (Array.isArray(v.ids)) f.ids = v.ids.filter((x): x is string => typeof x === 'string').slice(0, MAX_FINDING_IDS).map((x) => clip(x, MAX_CHARS.word));
  else if (typeof v.id === 'string') f.ids = [clip(v.id, MAX_CHARS.word)];
  return f;
}

/** Collects a recording one parsed line at a time, within `limits` (a live watch's own events: none). */
export class RecordingBuilder {
  private start: RecordingStart | undefined;
  private readonly events: RecordedEvent[] = [];
  private summary: Record<string, unknown> | undefined;
  private summaryAtMs: number | undefined;
  private readonly warnings: string[] = [];
  /** skipped lines beyond limits.maxWarnings, counted */
  private unlisted = 0;
  /** free text kept so far (limits.maxTextChars) */
  private textChars = 0;
  private isFull = false;
  /** the first warning, for the error when there is no start line */
  private firstSkip: string | undefined;

  constructor(
    private readonly name: string,
    private readonly limits: RecordingLimits = NO_LIMITS,
  ) {}

  get started(): boolean {
    return this.start !== undefined;
  }

  /** true once the recording holds as many events as the limits allow: the reader stops there */
  get full(): boolean {
    return this.isFull;
  }

  /** Parses one line of text; a line that is not JSON is reported and skipped. */
  addLine(text: string, line: number): void {
    if (text.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      this.warn(line, 'not valid JSON (truncated or corrupt), skipped');
      return;
    }
    this.add(v, line);
  }

  /** A line the reader did not hand over whole (too long, too many values): `why`, skipped. */
  skipLine(line: number, why: string): void {
    this.warn(line, `${why}, skipped`);
  }

  /**
   * One parsed event. Throws SockwatchError when the start line names a schema this version does
   * not read: replaying it by guesswork would show wrong numbers.
   */
  add(v: unknown, line = 0): void {
    if (!isObj(v)) return this.warn(line, 'not a JSON object, skipped');
    const type = str(v.type);
    const time = timeOf(v.time);
    if (type === undefined || time === undefined) return this.warn(line, 'no event type or time, skipped');
    if (type === 'start') return this.addStart(v, time, line);
    if (!this.start) return this.warn(line, `"${type}" event before the start line, skipped`);
    if (this.isFull) return;
    // Nothing happens before the watch started, nor later than a watch can last (--duration).
    const atMs = this.start.atMs + clampDuration(time - this.start.atMs);
    switch (type) {
      case 'open':
      case 'close':
      case 'state': {
        const conn = recordedConnection(v.connection, atMs);
        if (!conn) return this.warn(line, `${type} event without a usable connection, skipped`);
        if (type === 'open') this.push({ type, atMs, line, conn }, line);
        else if (type === 'close') {
          const lifetimeMs = clampDuration(num(v.lifetimeMs) ?? atMs - conn.firstSeenMs);
          const e: RecordedEvent & { type: 'close' } = { type, atMs, line, conn, lifetimeMs, brief: v.brief === true };
          if (v.closeTime === 'poll' || v.closeTime === 'exact') e.closeTime = v.closeTime;
          if (v.lifetimeBound === 'lower' || v.lifetimeBound === 'upper' || v.lifetimeBound === 'exact') e.lifetimeBound = v.lifetimeBound;
          if (v.cause === 'exit') e.cause = 'exit';
          const finalState = tcpState(v.finalState);
          if (finalState !== undefined) e.finalState = finalState;
          this.push(e, line);
        } else {
          const from = tcpState(v.from);
          const to = tcpState(v.to) ?? conn.connection.state;
          this.push({ type, atMs, line, conn, from: from ?? to, to }, line);
        }
        return;
      }
      case 'exit': {
        const process = parseProcess(v.process) ?? this.start.process;
        const reason = str(v.reason) ?? 'exited';
        this.push({ type, atMs, line, reason, process }, line, process.cmdline.length + process.command.length + process.user.length);
        return;
      }
      case 'finding': {
        const finding = recordedFinding(v.finding);
        if (!finding) return this.warn(line, 'finding event without a usable finding, skipped');
        this.push({ type, atMs, line, finding }, line, finding.message.length + finding.ids.reduce((n, id) => n + id.length, 0));
        return;
      }
      case 'poll':
        const poll = recordedPoll(v, atMs);
        this.push({ type, atMs, line, poll }, line, pollWeight(poll));
        return;
      case 'summary':
        this.summary = recordedSummary(v, this.limits.maxEvents);
        this.summaryAtMs = atMs;
        return;
      default:
        // An event type a newer sockwatch writes: not an error, nothing to replay.
        return;
    }
  }

  /** Keeps `e` unless the limits are reached; `textChars`: the free text it holds. */
  private push(e: RecordedEvent, line: number, textChars = 0): void {
    this.textChars += textChars;
    if (this.events.length >= this.limits.maxEvents || this.textChars > this.limits.maxTextChars) {
      this.isFull = true;
      const what = this.events.length >= this.limits.maxEvents ? `${this.limits.maxEvents} events` : `${this.limits.maxTextChars} characters of text`;
      // Not a skipped line: always listed, whatever the warning count.
      this.warnings.push(`${this.name}:${line}: the recording holds more than ${what}; replayed up to here, the rest is not read`);
      return;
    }
    this.events.push(e);
  }

  private addStart(v: Obj, atMs: number, line: number): void {
    const schema = v.schema;
    if (schema !== EVENT_SCHEMA) {
      const named = typeof schema === 'string' ? `schema ${JSON.stringify(clip(schema, MAX_CHARS.word))}` : 'no schema';
      throw new SockwatchError('invalid_argument', `${this.name}: ${named} is not a recording this sockwatch reads (it reads ${EVENT_SCHEMA})`, 1);
    }
    if (this.start) return this.warn(line, 'a second start line, skipped');
    const process = parseProcess(v.process);
    const recorded = num(v.intervalMs);
    if (!process || recorded === undefined || recorded <= 0) return this.warn(line, 'start line without process or interval, skipped');
    // The interval decides how many polls replay rebuilds: only what --interval accepts.
    const intervalMs = clampInterval(recorded);
    if (intervalMs !== recorded) this.warn(line, `interval ${recorded}ms is outside what --interval accepts, replayed as ${formatExactDuration(intervalMs)}`);
    const states = Array.isArray(v.states) ? TCP_STATES.filter((s) => (v.states as unknown[]).includes(s)) : [];
    this.start = { atMs, pid: count(v.pid) ?? process.pid, process, intervalMs, source: str(v.source) ?? 'unknown', states };
    if (Array.isArray(v.processes)) {
      const processes = v.processes.slice(0, MAX_START_PROCESSES).map(parseProcess).filter((p): p is ProcessInfo => p !== undefined);
      if (processes.length > 0) this.start.processes = processes;
    }
  }

  private warn(line: number, what: string): void {
    this.firstSkip ??= line > 0 ? `line ${line}: ${what}` : what;
    if (this.warnings.length >= this.limits.maxWarnings) {
      this.unlisted++;
      return;
    }
    this.warnings.push(line > 0 ? `${this.name}:${line}: ${what}` : `${this.name}: ${what}`);
  }

  /** What was collected; throws when no start line was seen. */
  finish(): Recording {
    if (!this.start) {
      // the skipped lines may be why (a start line too long to read): say so in the same line
      const why = this.firstSkip === undefined ? '' : ` (${this.firstSkip})`;
      throw new SockwatchError('invalid_argument', `${this.name}: no sockwatch.event/1 start line: not a sockwatch recording${why}`, 1);
    }
    const warnings = this.unlisted === 0 ? this.warnings : [...this.warnings, `${this.name}: ${this.unlisted} more line${this.unlisted === 1 ? '' : 's'} skipped (not listed)`];
    const r: Recording = { name: this.name, start: this.start, events: this.events, warnings };
    if (this.summary) {
      r.summary = this.summary;
      r.summaryAtMs = this.summaryAtMs;
    }
    return r;
  }

  /** A copy of what was collected so far (a live watch's report mid-run). */
  snapshot(): Recording {
    const r = this.finish();
    return { ...r, events: [...r.events], warnings: [...r.warnings] };
  }
}
