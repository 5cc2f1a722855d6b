import { tcpStateFromCode, type Connection, type TcpInternals, type TimerInfo, type TimerKind } from '../../model';
import type { InetDiagRow } from './inet-diag-decode';
import { AF_INET } from './sock-diag-constants';
import type { TcpInfo } from './tcp-info';

const TIMER_KINDS: readonly TimerKind[] = ['none', 'retransmit', 'keepalive', 'time_wait', 'zero_window_probe'];

/** undefined for a state our model has no name for (a newer kernel's), rather than a guess */
export function rowToConnection(row: InetDiagRow, fd?: number): Connection | undefined {
  const state = tcpStateFromCode(row.state);
  if (state === undefined) return undefined;
  const info = row.tcpInfo;
  // Built once per socket (see InetDiagRow.endpoints): a poll of thousands of connections
  // otherwise allocates two more objects per connection, which then live until the next poll.
  const ends = (row.endpoints ??= { local: { address: row.srcAddress, port: row.srcPort }, remote: { address: row.dstAddress, port: row.dstPort } });
  const conn: Connection = {
    protocol: row.family === AF_INET ? 'tcp' : 'tcp6',
    local: ends.local,
    remote: ends.remote,
    state,
    inode: row.inode,
    // For a listener the kernel puts the backlog limit in wqueue; procfs prints 0 there, and both
    // sources must agree on one connection.
    sendQueue: state === 'LISTEN' ? 0 : row.wqueue,
    recvQueue: row.rqueue,
    timer: timerOf(row, info),
    // Same meaning as the procfs "retrnsmt" column (icsk_retransmits). idiag_retrans is not it:
    // for the keepalive and probe timers the kernel puts the probe count there instead.
    retransmits: info?.retransmits ?? (row.timer === 2 || row.timer === 4 ? 0 : row.retrans),
    uid: row.uid,
  };
  if (fd !== undefined) conn.fd = fd;
  const tcp = internalsOf(row, info);
  if (tcp) conn.tcp = tcp;
  return conn;
}

/**
 * rowToConnection for the poller: the Connection built for this row at the last poll, refreshed
 * in place, so a steady poll of thousands of connections allocates none (they were most of its
 * garbage). A row object lives across polls only while its socket keeps the same identity (see
 * decodeRow's `previous`), so its Connection does too. Whoever reads a poll's connections copies
 * what it keeps (the tracker does), and must not hold them past the next poll: they change.
 */
export function polledConnection(row: InetDiagRow, fd: number): Connection | undefined {
  const c = row.connection;
  const info = row.tcpInfo;
  const state = tcpStateFromCode(row.state);
  // a state with no name, or tcp internals gone or come: build afresh (rare)
  if (c === undefined || state === undefined || (c.tcp === undefined) !== (info === undefined)) {
    row.connection = rowToConnection(row, fd);
    return row.connection;
  }
  c.fd = fd;
  c.state = state;
  c.sendQueue = state === 'LISTEN' ? 0 : row.wqueue;
  c.recvQueue = row.rqueue;
  c.timer = timerOf(row, info);
  c.retransmits = info?.retransmits ?? (row.timer === 2 || row.timer === 4 ? 0 : row.retrans);
  c.uid = row.uid;
  if (c.tcp !== undefined && internalsOf(row, info, c.tcp) === undefined) {
    row.connection = rowToConnection(row, fd);
    return row.connection;
  }
  return c;
}

/** Shared by every connection without a timer (most of them); frozen, as it is shared. */
const NO_TIMER: TimerInfo = Object.freeze({ kind: 'none', expiresMs: 0 });

function timerOf(row: InetDiagRow, info: TcpInfo | undefined): TimerInfo {
  const kind = TIMER_KINDS[row.timer] ?? 'none';
  if (kind === 'none') return NO_TIMER;
  const probing = kind === 'keepalive' || kind === 'zero_window_probe';
  return { kind, expiresMs: row.expiresMs, probes: probing ? (info?.probes ?? row.retrans) : row.retrans };
}

/**
 * TcpInternals needs every field; a tcp_info too short to hold them (kernels before 4.1 lack
 * bytes_received) gives no internals rather than zeros that look like an idle connection.
 * `into`: an earlier TcpInternals to refill instead of building one.
 */
function internalsOf(row: InetDiagRow, info: TcpInfo | undefined, into?: TcpInternals): TcpInternals | undefined {
  if (!info) return undefined;
  // bytes_acked also counts the SYN of an active open (one too many on a client); bytes_sent
  // (4.19+) is exact, so it is the first choice.
  const bytesSent = info.bytesSent ?? info.bytesAcked;
  const { bytesReceived, rtt, rttvar, totalRetrans, lastDataSent, lastDataRecv } = info;
  if (
    bytesSent === undefined ||
    bytesReceived === undefined ||
    rtt === undefined ||
    rttvar === undefined ||
    totalRetrans === undefined ||
    lastDataSent === undefined ||
    lastDataRecv === undefined
  ) {
    return undefined;
  }
  if (into !== undefined) {
    into.bytesSent = bytesSent;
    into.bytesReceived = bytesReceived;
    into.rttMs = rtt / 1000;
    into.rttVarMs = rttvar / 1000;
    into.retransmits = totalRetrans;
    into.lastSendMs = lastDataSent;
    into.lastReceiveMs = lastDataRecv;
    into.cookie = row.cookie;
    if (info.dataSegsOut !== undefined && info.dataSegsIn !== undefined) {
      into.segmentsSent = info.dataSegsOut;
      into.segmentsReceived = info.dataSegsIn;
    } else {
      delete into.segmentsSent;
      delete into.segmentsReceived;
    }
    return into;
  }
  const tcp: TcpInternals = {
    bytesSent,
    bytesReceived,
    rttMs: rtt / 1000,
    rttVarMs: rttvar / 1000,
    retransmits: totalRetrans,
    lastSendMs: lastDataSent,
    lastReceiveMs: lastDataRecv,
    cookie: row.cookie,
  };
  // Optional: kernels 4.1 to 4.5 have the fields above but not these (the exchange count then
  // falls back to counting bursts of sending).
  if (info.dataSegsOut !== undefined && info.dataSegsIn !== undefined) {
    tcp.segmentsSent = info.dataSegsOut;
    tcp.segmentsReceived = info.dataSegsIn;
  }
  return tcp;
}
