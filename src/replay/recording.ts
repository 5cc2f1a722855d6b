// A sockwatch.event/1 recording as replay and report read it: the start line, the connection
// events in file order and the summary. Built one parsed line at a time (RecordingBuilder), so the
// reader streams a file and a live watch can collect the very objects it records.
//
// The recording is untrusted input: every field is checked before use, a line that does not hold a
// usable event is reported and skipped, and fields or event types this version does not know are
// ignored (newer writers add some: `finding` events, `brief` closes, per-connection pid/direction).
import { TCP_STATES, connectionKey, type Connection, type Endpoint, type ProcessInfo, type SourceName, type TcpState } from '../model';
import { EVENT_SCHEMA } from '../views/output/json-shapes';
import type { EndCause, ExchangeUpdate, LifetimeBound, LikelyBrief, PollEvent } from '../core/tracker-types';
import { SockwatchError } from '../errors';

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

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function tcpState(v: unknown): TcpState | undefined {
  return TCP_STATES.find((s) => s === v);
}

function endpoint(v: unknown): Endpoint | undefined {
  if (!isObj(v)) return undefined;
  const address = str(v.address);
  const port = num(v.port);
  return address === undefined || port === undefined ? undefined : { address, port };
}

export function parseProcess(v: unknown): ProcessInfo | undefined {
  if (!isObj(v)) return undefined;
  const pid = num(v.pid);
  if (pid === undefined) return undefined;
  const p: ProcessInfo = { pid, command: str(v.command) ?? '?', cmdline: str(v.cmdline) ?? '', user: str(v.user) ?? '?' };
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
  const c: Connection = { protocol, local, remote, state, inode: num(v.inode) ?? 0 };
  const fd = num(v.fd);
  if (fd !== undefined) c.fd = fd;
  const sq = num(v.sendQueue);
  if (sq !== undefined) c.sendQueue = sq;
  const rq = num(v.recvQueue);
  if (rq !== undefined) c.recvQueue = rq;
  const re = num(v.retransmits);
  if (re !== undefined) c.retransmits = re;
  const uid = num(v.uid);
  if (uid !== undefined) c.uid = uid;
  if (isObj(v.timer)) {
    const kind = str(v.timer.kind);
    const expiresMs = num(v.timer.expiresMs);
    if ((kind === 'none' || kind === 'retransmit' || kind === 'keepalive' || kind === 'time_wait' || kind === 'zero_window_probe') && expiresMs !== undefined) {
      c.timer = { kind, expiresMs };
      const probes = num(v.timer.probes);
      if (probes !== undefined) c.timer.probes = probes;
    }
  }
  if (isObj(v.tcp)) {
    const t = v.tcp;
    const bytesSent = num(t.bytesSent);
    const bytesReceived = num(t.bytesReceived);
    if (bytesSent !== undefined && bytesReceived !== undefined) {
      c.tcp = {
        bytesSent,
        bytesReceived,
        rttMs: num(t.rttMs) ?? 0,
        rttVarMs: num(t.rttVarMs) ?? 0,
        retransmits: num(t.retransmits) ?? 0,
        lastSendMs: num(t.lastSendMs) ?? 0,
        lastReceiveMs: num(t.lastReceiveMs) ?? 0,
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
  const rc: RecordedConnection = {
    id,
    key: connectionKey(connection),
    connection,
    firstSeenMs: timeOf(v.firstSeen) ?? atMs,
    preexisting: v.preexisting === true,
  };
  const exchanges = count(v.exchanges);
  if (exchanges !== undefined) rc.exchanges = exchanges;
  if (v.openTime === 'exact') rc.openExact = true;
  const pid = num(v.pid);
  if (pid !== undefined) {
    rc.pid = pid;
    connection.pid = pid;
  }
  const direction = str(v.direction);
  if (direction !== undefined) rc.direction = direction;
  // the peer rows group by it: an inbound connection under its local endpoint
  if (direction === 'in' || direction === 'out') connection.direction = direction;
  return rc;
}

/** a count: a finite integer ≥ 0 */
function count(v: unknown): number | undefined {
  const n = num(v);
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
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
      if (c !== undefined) ex.push({ id, exchanges: c });
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
    const remotes = v.unattributed.filter((r): r is string => typeof r === 'string');
    if (remotes.length > 0) p.unattributed = remotes;
  }
  return p;
}

function recordedFinding(v: unknown): RecordedFinding | undefined {
  if (!isObj(v)) return undefined;
  const kind = str(v.kind);
  if (kind === undefined) return undefined;
  const f: RecordedFinding = { kind, message: str(v.message) ?? kind, ids: [] };
  const since = timeOf(v.since);
  if (since !== undefined) f.sinceMs = since;
  const until = timeOf(v.until);
  if (until !== undefined) f.untilMs = until;
  if (Array.isArray(v.ids)) f.ids = v.ids.filter((x): x is string => typeof x === 'string');
  else if (typeof v.id === 'string') f.ids = [v.id];
  return f;
}

/** Collects a recording one parsed line at a time. */
export class RecordingBuilder {
  private start: RecordingStart | undefined;
  private readonly events: RecordedEvent[] = [];
  private summary: Record<string, unknown> | undefined;
  private summaryAtMs: number | undefined;
  private readonly warnings: string[] = [];

  constructor(private readonly name: string) {}

  get started(): boolean {
    return this.start !== undefined;
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

  /**
   * One parsed event. Throws SockwatchError when the start line names a schema this version does
   * not read: replaying it by guesswork would show wrong numbers.
   */
  add(v: unknown, line = 0): void {
    if (!isObj(v)) return this.warn(line, 'not a JSON object, skipped');
    const type = str(v.type);
    const atMs = timeOf(v.time);
    if (type === undefined || atMs === undefined) return this.warn(line, 'no event type or time, skipped');
    if (type === 'start') return this.addStart(v, atMs, line);
    if (!this.start) return this.warn(line, `"${type}" event before the start line, skipped`);
    switch (type) {
      case 'open':
      case 'close':
      case 'state': {
        const conn = recordedConnection(v.connection, atMs);
        if (!conn) return this.warn(line, `${type} event without a usable connection, skipped`);
        if (type === 'open') this.events.push({ type, atMs, line, conn });
        else if (type === 'close') {
          const lifetimeMs = num(v.lifetimeMs) ?? atMs - conn.firstSeenMs;
          const e: RecordedEvent & { type: 'close' } = { type, atMs, line, conn, lifetimeMs, brief: v.brief === true };
          if (v.closeTime === 'poll' || v.closeTime === 'exact') e.closeTime = v.closeTime;
          if (v.lifetimeBound === 'lower' || v.lifetimeBound === 'upper' || v.lifetimeBound === 'exact') e.lifetimeBound = v.lifetimeBound;
          if (v.cause === 'exit') e.cause = 'exit';
          const finalState = tcpState(v.finalState);
          if (finalState !== undefined) e.finalState = finalState;
          this.events.push(e);
        } else {
          const from = tcpState(v.from);
          const to = tcpState(v.to) ?? conn.connection.state;
          this.events.push({ type, atMs, line, conn, from: from ?? to, to });
        }
        return;
      }
      case 'exit': {
        const process = parseProcess(v.process) ?? this.start.process;
        this.events.push({ type, atMs, line, reason: str(v.reason) ?? 'exited', process });
        return;
      }
      case 'finding': {
        const finding = recordedFinding(v.finding);
        if (!finding) return this.warn(line, 'finding event without a usable finding, skipped');
        this.events.push({ type, atMs, line, finding });
        return;
      }
      case 'poll':
        this.events.push({ type, atMs, line, poll: recordedPoll(v, atMs) });
        return;
      case 'summary':
        this.summary = v;
        this.summaryAtMs = atMs;
        return;
      default:
        // An event type a newer sockwatch writes: not an error, nothing to replay.
        return;
    }
  }

  private addStart(v: Obj, atMs: number, line: number): void {
    const schema = v.schema;
    if (schema !== EVENT_SCHEMA) {
      const named = typeof schema === 'string' ? `schema ${JSON.stringify(schema)}` : 'no schema';
      throw new SockwatchError('invalid_argument', `${this.name}: ${named} is not a recording this sockwatch reads (it reads ${EVENT_SCHEMA})`, 1);
    }
    if (this.start) return this.warn(line, 'a second start line, skipped');
    const process = parseProcess(v.process);
    const intervalMs = num(v.intervalMs);
    if (!process || intervalMs === undefined || intervalMs <= 0) return this.warn(line, 'start line without process or interval, skipped');
    const states = Array.isArray(v.states) ? v.states.map(tcpState).filter((s): s is TcpState => s !== undefined) : [];
    this.start = { atMs, pid: num(v.pid) ?? process.pid, process, intervalMs, source: str(v.source) ?? 'unknown', states };
    if (Array.isArray(v.processes)) {
      const processes = v.processes.map(parseProcess).filter((p): p is ProcessInfo => p !== undefined);
      if (processes.length > 0) this.start.processes = processes;
    }
  }

  private warn(line: number, what: string): void {
    this.warnings.push(line > 0 ? `${this.name}:${line}: ${what}` : `${this.name}: ${what}`);
  }

  /** What was collected; throws when no start line was seen. */
  finish(): Recording {
    if (!this.start) throw new SockwatchError('invalid_argument', `${this.name}: no sockwatch.event/1 start line: not a sockwatch recording`, 1);
    const r: Recording = { name: this.name, start: this.start, events: this.events, warnings: this.warnings };
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
