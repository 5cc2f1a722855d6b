// Runs `sockwatch watch PID --json` (the real CLI) and reads its NDJSON back: the findings it
// raised, and what it last said about each connection. Only sockwatch's side lives here; the
// truth comes from the programs under watch (go-client.ts, nginx-access-log.ts, ab.ts).
import { ndjson, startCli, type CliResult, type RunningCli } from './cli';

export type SockEvent = Record<string, unknown> & { type: string; time: string };

export interface Watch {
  cli: RunningCli;
  /** resolves once the `start` event is out (sockwatch has attached and polled once) */
  started: Promise<SockEvent>;
  /** ends it the way Ctrl-C does (summary follows) */
  interrupt(): void;
  /** waits for the end; every line parsed */
  finish(timeoutMs?: number): Promise<{ result: CliResult; events: SockEvent[] }>;
  /**
   * Resolves once sockwatch has reported a poll that began at or after `sinceMs` (its `poll`
   * event): what happened before then has been seen, however late the polls run on a busy host.
   */
  polledAfter(sinceMs: number, timeoutMs?: number): Promise<void>;
}

const watching = new Set<RunningCli>();

/** Kills every watch still running (a test that failed before finish()); for after() hooks. */
export function stopAllWatches(): void {
  for (const cli of watching) cli.child.kill('SIGKILL');
  watching.clear();
}

export function startWatch(pid: number, args: string[], opts: { user?: { uid: number; gid: number } } = {}): Watch {
  const cli = startCli(['watch', String(pid), '--json', ...args], opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {});
  watching.add(cli);
  void cli.result.then(() => watching.delete(cli));
  const started = cli.waitFor(/"type":"start"/, 15_000).then((l) => JSON.parse(l) as SockEvent);
  started.catch(() => {});
  const polledAfter = async (sinceMs: number, timeoutMs = 20_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    const seen = (): boolean =>
      cli
        .stdout()
        .split('\n')
        .some((l) => l.startsWith('{"type":"poll"') && Date.parse((JSON.parse(l) as SockEvent).time) >= sinceMs);
    while (!seen()) {
      if (Date.now() > deadline) throw new Error(`no poll after ${new Date(sinceMs).toISOString()} within ${timeoutMs} ms:\n${cli.stdout().slice(-2000)}`);
      if (cli.child.exitCode !== null) return; // the watch ended (its last poll is in)
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    cli,
    started,
    polledAfter,
    interrupt: () => cli.child.kill('SIGINT'),
    finish: async (timeoutMs = 30_000) => {
      const timer = setTimeout(() => cli.child.kill('SIGKILL'), timeoutMs);
      try {
        const result = await cli.result;
        let events: SockEvent[];
        try {
          events = ndjson(result.stdout) as SockEvent[];
        } catch (e) {
          throw new Error(`sockwatch wrote a line that is not JSON (${String(e)}):\n${result.stdout}\nstderr: ${result.stderr}`);
        }
        return { result, events };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

export interface FindingSeen {
  kind: string;
  /** the finding object as sockwatch wrote it (summary entry, or a `finding` event's finding) */
  data: Record<string, unknown>;
  from: 'summary' | 'event';
}

export function summaryOf(events: readonly SockEvent[]): SockEvent {
  const s = events.filter((e) => e.type === 'summary');
  if (s.length !== 1) throw new Error(`expected one summary event, got ${s.length}`);
  const summary = s[0] as SockEvent;
  if (events[events.length - 1] !== summary) throw new Error('the summary is not the last event');
  return summary;
}

/**
 * Every finding sockwatch reported: the summary's `findings` and `finding` events. A `finding`
 * event may carry the finding under `finding` or at its top level; both are read.
 */
export function findingsSeen(events: readonly SockEvent[]): FindingSeen[] {
  const out: FindingSeen[] = [];
  for (const e of events) {
    if (e.type === 'summary' && Array.isArray(e.findings)) {
      for (const f of e.findings as Record<string, unknown>[]) out.push({ kind: String(f.kind), data: f, from: 'summary' });
    } else if (e.type === 'finding') {
      const f = (typeof e.finding === 'object' && e.finding !== null ? e.finding : e) as Record<string, unknown>;
      out.push({ kind: String(f.kind), data: f, from: 'event' });
    }
  }
  return out;
}

export function summaryFinding(events: readonly SockEvent[], kind: string): Record<string, unknown> | undefined {
  return findingsSeen(events).find((f) => f.from === 'summary' && f.kind === kind)?.data;
}

export interface EndpointJson {
  address: string;
  port: number;
}

export interface ConnSeen {
  local: EndpointJson;
  remote: EndpointJson;
  exchanges?: number;
  preexisting?: boolean;
  brief?: boolean;
  /** the last event type that described it ('summary' for still live at the end) */
  last: string;
  /** every object sockwatch wrote about it, oldest first */
  records: Record<string, unknown>[];
}

export const tupleKey = (local: EndpointJson, remote: EndpointJson): string =>
  `${local.address}:${local.port}>${remote.address}:${remote.port}`;

/**
 * What sockwatch last said about each connection (by 4-tuple): from open/state/close events and
 * the summary's live `connections`, the latest wins.
 */
export function connectionsSeen(events: readonly SockEvent[]): Map<string, ConnSeen> {
  const out = new Map<string, ConnSeen>();
  const note = (c: Record<string, unknown>, last: string): void => {
    const local = c.local as EndpointJson | undefined;
    const remote = c.remote as EndpointJson | undefined;
    if (!local || !remote) return;
    const key = tupleKey(local, remote);
    const seen = out.get(key) ?? { local, remote, last, records: [] };
    seen.last = last;
    seen.records.push(c);
    if (typeof c.exchanges === 'number') seen.exchanges = c.exchanges;
    if (typeof c.preexisting === 'boolean') seen.preexisting = c.preexisting;
    if (c.brief === true) seen.brief = true;
    out.set(key, seen);
  };
  for (const e of events) {
    if (typeof e.connection === 'object' && e.connection !== null) {
      const c = e.connection as Record<string, unknown>;
      note(e.brief === true ? { ...c, brief: true } : c, e.type);
    }
    if (e.type === 'summary' && Array.isArray(e.connections)) {
      for (const c of e.connections as Record<string, unknown>[]) note(c, 'summary');
    }
  }
  return out;
}

/** The issue's tolerance for `exchanges`: ±1 below 20 requests, ±10 % from 20 on. */
export function exchangesTolerance(truth: number): number {
  return truth < 20 ? 1 : truth * 0.1;
}

export const isoMs = (iso: unknown): number => {
  const t = Date.parse(String(iso));
  if (!Number.isFinite(t)) throw new Error(`not an ISO time: ${String(iso)}`);
  return t;
};

/** A short account of what sockwatch said, for assertion messages. */
export function describeWatch(events: readonly SockEvent[], maxChars = 3000): string {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
  const start = events.find((e) => e.type === 'start');
  const summary = events.find((e) => e.type === 'summary');
  const findingEvents = events.filter((e) => e.type === 'finding');
  const text = [
    `events: ${[...counts].map(([t, n]) => `${t}×${n}`).join(' ')}`,
    `start: ${JSON.stringify({ source: start?.source, intervalMs: start?.intervalMs, states: start?.states, lifecycle: start?.lifecycle })}`,
    `finding events: ${JSON.stringify(findingEvents).slice(0, 800)}`,
    `summary: ${JSON.stringify(summary)}`,
  ].join('\n');
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

/**
 * Brief connections sockwatch reported apart as "owner unknown" to `remote`, as a count. The
 * issue fixes the meaning, not the JSON shape: this reads any object in the summary (outside its
 * `connections` and `findings`) whose `remote` is that endpoint ({address, port} or "addr:port")
 * and that holds a count in `count`, `connections`, `closed`, `opened` or `brief`.
 */
export function ownerUnknownCount(summary: Record<string, unknown>, remote: EndpointJson): number | undefined {
  const matches = (r: unknown): boolean =>
    (typeof r === 'string' && r === `${remote.address}:${remote.port}`) ||
    (typeof r === 'object' && r !== null && (r as EndpointJson).address === remote.address && (r as EndpointJson).port === remote.port);
  let found: number | undefined;
  const walk = (v: unknown, depth: number): void => {
    if (found !== undefined || depth > 6 || typeof v !== 'object' || v === null) return;
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    if (matches(o.remote)) {
      for (const k of ['count', 'connections', 'closed', 'opened', 'brief']) {
        if (typeof o[k] === 'number') {
          found = o[k] as number;
          return;
        }
      }
    }
    for (const [k, x] of Object.entries(o)) {
      if (depth === 0 && (k === 'connections' || k === 'findings')) continue;
      walk(x, depth + 1);
    }
  };
  walk(summary, 0);
  return found;
}
