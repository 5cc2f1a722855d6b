// Builders of synthetic Snapshot / Connection objects for tracker tests: terse specs in, complete
// model objects out, so a test reads as the sequence of polls it describes.
import type { Connection, Endpoint, ProcessInfo, Snapshot, TcpInternals, TcpState } from '../../src/model';
import type { Tracker, TrackerEvent } from '../../src/core/tracker-types';

export const DEFAULT_START_TIME = '2024-01-01T00:00:00.000Z';

/** "10.0.0.1:80" or "[::1]:80" */
export function endpoint(text: string): Endpoint {
  const m = /^\[(.*)\]:(\d+)$/.exec(text) ?? /^([^:]*):(\d+)$/.exec(text);
  if (!m || m[1] === undefined || m[2] === undefined) throw new Error(`bad endpoint in test: ${text}`);
  return { address: m[1], port: Number(m[2]) };
}

export interface ConnSpec {
  inode: number;
  /** default 10.0.0.1:(40000 + inode) */
  local?: string;
  /** default 10.0.0.2:80 */
  remote?: string;
  state?: TcpState;
  fd?: number;
  /** gives the connection tcp internals (as the netlink source would) */
  bytesSent?: number;
  cookie?: string;
}

export function conn(spec: ConnSpec): Connection {
  const local = endpoint(spec.local ?? `10.0.0.1:${40000 + spec.inode}`);
  const remote = endpoint(spec.remote ?? '10.0.0.2:80');
  const c: Connection = {
    protocol: local.address.includes(':') ? 'tcp6' : 'tcp',
    local,
    remote,
    state: spec.state ?? 'ESTABLISHED',
    inode: spec.inode,
  };
  if (spec.fd !== undefined) c.fd = spec.fd;
  if (spec.bytesSent !== undefined || spec.cookie !== undefined) {
    c.tcp = tcp({ bytesSent: spec.bytesSent ?? 0, cookie: spec.cookie ?? String(spec.inode) });
  }
  return c;
}

export function tcp(overrides: Partial<TcpInternals> = {}): TcpInternals {
  return {
    bytesSent: 0,
    bytesReceived: 0,
    rttMs: 1,
    rttVarMs: 0.5,
    retransmits: 0,
    lastSendMs: 0,
    lastReceiveMs: 0,
    cookie: '1',
    ...overrides,
  };
}

export function proc(overrides: Partial<ProcessInfo> = {}): ProcessInfo {
  return {
    pid: 4242,
    command: 'node',
    cmdline: 'node server.js',
    user: 'app',
    startTime: DEFAULT_START_TIME,
    ...overrides,
  };
}

/** a snapshot of the default process (or `process`) holding `connections` */
export function snap(connections: Array<Connection | ConnSpec>, process: Partial<ProcessInfo> = {}): Snapshot {
  return {
    process: proc(process),
    source: 'procfs',
    connections: connections.map((c) => ('protocol' in c ? c : conn(c))),
  };
}

/** shorthand: the default process with connections of these inodes, all ESTABLISHED */
export function inodes(...ids: number[]): Snapshot {
  return snap(ids.map((inode) => ({ inode })));
}

/** feed polls in order; returns every event */
export function feed(tracker: Tracker, polls: ReadonlyArray<readonly [number, Snapshot]>): TrackerEvent[] {
  const events: TrackerEvent[] = [];
  for (const [atMs, s] of polls) events.push(...tracker.poll(s, atMs));
  return events;
}

/** "open c1", "close c2", "state c3 ESTABLISHED>CLOSE_WAIT", "exit pid_reused": easy to assert on */
export function summarizeConnections(events: readonly TrackerEvent[]): string[] {
  return summarize(events.filter((e) => e.type !== 'finding'));
}

/** every event, findings included: "finding close_wait raised"; not the poll events (data for the watch state) */
export function summarize(events: readonly TrackerEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'poll' ? [] : [e])).map((e) => {
    switch (e.type) {
      case 'open':
        return `open ${e.conn.id}${e.conn.preexisting ? ' pre' : ''}`;
      case 'close':
        return `close ${e.conn.id} ${e.lifetimeMs}${e.brief === true ? ' brief' : ''}`;
      case 'state':
        return `state ${e.conn.id} ${e.from}>${e.to}`;
      case 'finding':
        return `finding ${e.finding.finding.kind} ${e.change}`;
      case 'exit':
        return `exit ${e.reason}`;
    }
  });
}

/** The process the TUI and metrics tests show: the default one with a longer command line and a uid. */
export const TEST_PROCESS: ProcessInfo = proc({ cmdline: 'node server.js --port 8080', user: 'alice', uid: 1000 });

/** connection number i of a screenful: its own fd, local port and inode, one of 50 remote ports */
export function testConn(i: number, over: Partial<Connection> = {}): Connection {
  return { ...conn({ inode: 100000 + i, fd: 10 + i, local: `127.0.0.1:${40000 + i}`, remote: `10.0.0.2:${8000 + (i % 50)}` }), ...over };
}

/** a snapshot of TEST_PROCESS (or it changed by `process`) */
export function testSnapshot(connections: Connection[], process: Partial<ProcessInfo> = {}): Snapshot {
  return snap(connections, { ...TEST_PROCESS, ...process });
}
