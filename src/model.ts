// The data model shared by sources, core and views. Field names here are the JSON contract
// (sockwatch.snapshot/1, sockwatch.event/1): renaming one breaks users' scripts.

export const TCP_STATES = [
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
] as const;
export type TcpState = (typeof TCP_STATES)[number];

/** Kernel state numbers (include/net/tcp_states.h): index + 1 == code. */
export function tcpStateFromCode(code: number): TcpState | undefined {
  return TCP_STATES[code - 1];
}
export function tcpStateCode(state: TcpState): number {
  return TCP_STATES.indexOf(state) + 1;
}

export type Protocol = 'tcp' | 'tcp6';

/**
 * Never changed once made: sources may hand the same object at every poll for one socket, and the
 * tracker keeps the source's objects rather than copies (a new tuple is a new connection).
 */
export interface Endpoint {
  /** Numeric, no brackets; IPv6 compressed; IPv4-mapped IPv6 as ::ffff:a.b.c.d */
  readonly address: string;
  readonly port: number;
}

export type TimerKind = 'none' | 'retransmit' | 'keepalive' | 'time_wait' | 'zero_window_probe';

export interface TimerInfo {
  kind: TimerKind;
  /** ms until the timer fires (0 when kind is none) */
  expiresMs: number;
  /** keep-alive / retransmit probes sent so far, where the source knows */
  probes?: number;
}

/** tcp_info, from netlink sock_diag. Absent when the source cannot read it. */
export interface TcpInternals {
  bytesSent: number;
  bytesReceived: number;
  rttMs: number;
  rttVarMs: number;
  retransmits: number;
  /** ms since the last data was sent: how long the connection has been idle outbound */
  lastSendMs: number;
  /** ms since the last data was received */
  lastReceiveMs: number;
  /** the kernel's socket cookie, as a decimal string (it is 64-bit) */
  cookie: string;
  /**
   * Data-carrying segments sent and received (tcpi_data_segs_out/in, linux 4.6+; absent where the
   * kernel does not report them). Counted in MSS units: an offloaded (TSO/GSO) send of several
   * MSS counts several; retransmissions count again.
   */
  segmentsSent?: number;
  segmentsReceived?: number;
}

export interface Connection {
  /** the fd number in the target; absent where the source cannot tell */
  fd?: number;
  protocol: Protocol;
  local: Endpoint;
  remote: Endpoint;
  state: TcpState;
  inode: number;
  sendQueue?: number;
  recvQueue?: number;
  timer?: TimerInfo;
  retransmits?: number;
  uid?: number;
  tcp?: TcpInternals;
  /** the process holding it (with several holders after fork: the lowest PID) */
  pid?: number;
  /** every process holding it, ascending, when more than one does */
  pids?: number[];
  /** `in`: the target accepted it; `out`: the target connected (see sources/direction.ts) */
  direction?: 'in' | 'out';
}

export interface ProcessInfo {
  pid: number;
  command: string;
  cmdline: string;
  user: string;
  uid?: number;
  /**
   * ISO-8601 start time. On Linux it is derived from field 22 of /proc/PID/stat and the boot time,
   * so it is stable for one process and changes when the PID is reused.
   */
  startTime?: string;
}

export type SourceName = 'procfs' | 'netlink' | 'systeminformation';
/** what read a snapshot: a source, or the fd-socket iterator of a one-shot `snapshot` (root) */
export type SnapshotSourceName = SourceName | 'ebpf';

/** One look at one process at one instant. Sources make these; core consumes them. */
export interface Snapshot {
  /** the target, or with several processes the first of `processes` */
  process: ProcessInfo;
  /** every process watched at this instant, by PID, when the target is a group (--name, --children, -p a,b) */
  processes?: ProcessInfo[];
  source: SnapshotSourceName;
  connections: Connection[];
  /**
   * When the source read the target's fd table (ms, on the caller's clock): the read that sees a
   * socket gone. Event times of this poll; absent where the source cannot tell (then the poll's start).
   */
  observedAtMs?: number;
}

/** The states a caller wants; 'all' means no filter. */
export type StateFilter = 'all' | ReadonlySet<TcpState>;

export function stateMatches(filter: StateFilter, state: TcpState): boolean {
  return filter === 'all' || filter.has(state);
}

/** The order sources return connections in: by fd, then local and remote port (fd unknown sorts last). */
export function compareByFd(a: Connection, b: Connection): number {
  return (a.fd ?? Infinity) - (b.fd ?? Infinity) || a.local.port - b.local.port || a.remote.port - b.remote.port;
}

/** Stable across polls for one connection; a reused inode with another tuple is another connection. */
export function connectionKey(c: Connection): string {
  // join makes one flat string; a template literal makes a tree of concatenations (seven
  // objects per key), and a big first poll holds one key per open event until it is written
  return [c.inode, '|', c.local.address, ':', c.local.port, '|', c.remote.address, ':', c.remote.port].join('');
}
