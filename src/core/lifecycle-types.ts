// Evidence about a socket's life that arrives between polls: sock_diag destroy notifications
// (any user, no owner in the message) and eBPF state-change events (root, with the PID). Polls
// alone miss every connection that opens and closes between two of them; these fill the gap.
// Sources produce them; the tracker decides what they mean for the target (see tracker.ts).
import type { Endpoint, Protocol, TcpInternals, TcpState } from '../model';

/** Which kernel facility a source uses for connections shorter than one poll. */
export type LifecycleFacility = 'ebpf' | 'destroy_notifications' | 'none';

export interface LifecycleStatus {
  facility: LifecycleFacility;
  /** why a better facility is not in use (e.g. "eBPF needs root"), one line; absent when none is better */
  reason?: string;
  /** events this facility lost since the start because sockwatch's buffer was full (added by the sources' helper) */
  dropped?: number;
  /** times the kernel dropped notifications it could not queue (ENOBUFS); each lost an unknown number */
  overruns?: number;
  /**
   * eBPF: socket state changes the kernel did not run the program for (another BPF program was
   * running on that CPU: the program's recursion_misses); each may hide an open or a close
   */
  missed?: number;
}

/**
 * A connection's totals at its end. Both facilities give these (tcp_info in a destroy
 * notification, tcp_sock fields from eBPF), where `tcp` needs the whole tcp_info (idle times),
 * which eBPF cannot read; so counts are read from here, whichever the source.
 */
export interface LifecycleTotals {
  /** application bytes sent (acknowledged where the kernel has no bytes_sent) */
  bytesSent: number;
  bytesReceived: number;
  /** data segments (tcpi_data_segs_out / tcpi_data_segs_in) */
  segmentsSent: number;
  segmentsReceived: number;
}

interface LifecycleBase {
  /** when the kernel did it (ms since the epoch, on the session's clock) */
  atMs: number;
  protocol: Protocol;
  local: Endpoint;
  remote: Endpoint;
  /**
   * This socket's identity: the kernel's socket cookie (decimal) where the source gives it; for a
   * socket eBPF saw start but no sock_diag dump ever gave a cookie, an identity of eBPF's own
   * (`ebpf:…`, tcp-life-record.ts) that no kernel cookie equals
   */
  cookie?: string;
  /** the process that acted on the socket, where the source knows it (eBPF) */
  pid?: number;
  /**
   * The kernel found `pid` among the watched processes (eBPF's in-kernel filter, which follows
   * forks): the connection is the target's even when no poll ever saw that process, as with a
   * child that forked, connected and exited between two polls.
   */
  member?: boolean;
}

/** A socket left SYN_SENT/SYN_RECV for ESTABLISHED (connect or accept completed). */
export interface SocketStarted extends LifecycleBase {
  kind: 'started';
}

/** A socket was destroyed (or, from eBPF, moved to CLOSE: its life is over). */
export interface SocketEnded extends LifecycleBase {
  kind: 'ended';
  /** the state it was in just before it ended */
  state?: TcpState;
  /** its counters at the end (bytes, segments), where the source gives them */
  tcp?: TcpInternals;
  /** exact start time where the source knows it (eBPF saw the connect/accept) */
  startedAtMs?: number;
  /** byte and data-segment counts at the end, where the source gives them (added by the sources' helper) */
  totals?: LifecycleTotals;
}

export type SocketLifecycleEvent = SocketStarted | SocketEnded;

/**
 * What the watch loop learned about ownership from a namespace dump (sources/remote-census.ts), for
 * brief connections whose owner no evidence names (destroy notifications): the remote endpoints
 * (remoteKey) the target talks to that no socket outside the target's fd table connects to. An
 * unowned brief connection to one of them is counted apart as likely the target's.
 */
export interface OwnershipHints {
  likelyRemotes: ReadonlySet<string>;
}
