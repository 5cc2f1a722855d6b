// What the tracker keeps per live socket, and its copies of the sources' Connection objects.
//
// A watch holds tens of thousands of these for hours and revisits each at every poll, so they are
// kept small and quiet: one class shape for every record, no key strings (the key is built when
// an event needs it), the state history only once the state has changed, and the latest
// observation copied into the record's own Connection in place unless that copy was handed out.
import { connectionKey, type Connection, type TcpInternals, type TimerInfo } from '../model';
import { newExchangeState, type MutableExchangeState } from './exchanges';
import type { StateChange, TrackedConnection } from './tracker-types';
import { tupleKey } from './lifecycle-match';

// The fields are declared (no initializers) and all assigned in the constructor, each first with
// a value of its kind: a field that starts as undefined and then holds a time (a double) keeps
// every later time in a new heap number, and lastSeenMs is written at every poll.
export class LiveRecord {
  /** short, unique within one tracker run ("c1", "c2", …) */
  declare readonly id: string;
  /** the tracker's own copy of the latest observation (see copyConnection) */
  declare connection: Connection;
  declare readonly firstSeenMs: number;
  declare lastSeenMs: number;
  declare readonly preexisting: boolean;
  /** firstSeenMs is the exact start, from between-poll evidence */
  declare readonly openExact: boolean;
  /** a listening socket: tracked, but not a connection */
  declare readonly listener: boolean;
  /** the state history once the state changed; until then it is [first state at firstSeenMs] */
  declare states: StateChange[] | undefined;
  /** the exchange counter's state, where the source gives tcp internals */
  declare exchanges: MutableExchangeState | undefined;
  /** the exchange count the watch state was last told (the open event, then poll events) */
  declare reportedExchanges: number | undefined;
  /** the cookie indexed in liveByCookie, if any */
  declare cookie: string | undefined;
  /** the poll generation that last matched this record, and what it matched */
  declare matchedGen: number;
  declare next: Connection | undefined;
  /**
   * `connection` was handed out (an event, live(), peers()): it must not change any more, so the
   * next observation goes into a new copy instead of this one.
   */
  declare shared: boolean;

  constructor(id: string, connection: Connection, firstSeenMs: number, lastSeenMs: number, preexisting: boolean, openExact: boolean, gen: number) {
    this.id = id;
    this.connection = connection;
    this.firstSeenMs = firstSeenMs;
    this.lastSeenMs = lastSeenMs;
    this.preexisting = preexisting;
    this.openExact = openExact;
    this.listener = connection.state === 'LISTEN';
    this.states = undefined;
    this.exchanges = connection.tcp === undefined ? undefined : newExchangeState(connection.tcp);
    this.reportedExchanges = this.exchanges?.count;
    this.cookie = undefined;
    this.matchedGen = gen;
    this.next = undefined;
    this.shared = false;
  }

  /** connectionKey() of the connection: a live record's inode and tuple never change */
  get key(): string {
    return connectionKey(this.connection);
  }

  /**
   * tupleKey() of the connection, built when asked (a closing socket, matched to between-poll
   * evidence), not kept: a string per live socket for lookups that few sockets need.
   */
  get tuple(): string {
    return tupleKey(this.connection.local, this.connection.remote);
  }

  /** the state now, and since when (the newest history entry) */
  get stateSinceMs(): number {
    const s = this.states;
    return s === undefined ? this.firstSeenMs : (s[s.length - 1]?.atMs ?? this.firstSeenMs);
  }

  /** Records a change of state; the history keeps the newest `limit` entries. */
  changeState(from: Connection['state'], to: Connection['state'], atMs: number, limit: number): void {
    const s = (this.states ??= [{ state: from, atMs: this.firstSeenMs }]);
    s.push({ state: to, atMs });
    if (s.length > limit) s.splice(0, s.length - limit);
  }

  /** Takes this poll's observation of the socket. */
  observe(c: Connection): void {
    if (this.shared || !refreshConnection(this.connection, c)) {
      this.connection = copyConnection(c, this.connection);
      this.shared = false;
    }
  }

  /**
   * A copy for events and live(): it shares `connection`, which from then on is never changed
   * (the next observation goes into a new copy). `ownCopy`: it gets a copy of its own instead, and
   * the record goes on updating its connection in place: for open events, which a first poll makes
   * for every connection and its views write and drop at once, so the copies die young where
   * sharing made the second poll copy every connection again, for good.
   */
  snapshot(ownCopy = false): TrackedConnection {
    if (!ownCopy) this.shared = true;
    const t: TrackedConnection = {
      id: this.id,
      key: this.key,
      connection: ownCopy ? copyConnection(this.connection, this.connection) : this.connection,
      firstSeenMs: this.firstSeenMs,
      lastSeenMs: this.lastSeenMs,
      preexisting: this.preexisting,
      states: this.states === undefined ? [{ state: this.connection.state, atMs: this.firstSeenMs }] : this.states.map((s) => ({ state: s.state, atMs: s.atMs })),
    };
    if (this.openExact) t.openExact = true;
    if (this.exchanges !== undefined) t.exchanges = this.exchanges.count;
    return t;
  }
}

/**
 * The tracker keeps its own copy so that a caller reusing snapshot objects cannot change history.
 * Endpoints are never changed once made (model.ts), so the source's endpoint objects are kept, or
 * the previous copy's (a live connection's tuple never changes): a big first poll copied two per
 * connection, and the netlink source hands the same ones at every poll. A frozen timer (the
 * sources' shared "no timer") cannot change either: it is shared too.
 */
export function copyConnection(c: Connection, prev?: Connection): Connection {
  const copy: Connection = { ...c, local: prev?.local ?? c.local, remote: prev?.remote ?? c.remote };
  if (c.timer !== undefined) copy.timer = copyTimer(c.timer);
  if (c.tcp !== undefined) copy.tcp = copyTcp(c.tcp);
  return copy;
}

/**
 * In the order of the JSON contract (docs/output-contracts.md), which the views' output follows.
 * A literal rather than a spread: a spread copy keeps its fractional fields (rttMs) as
 * immutable heap numbers, so refreshing them in place would allocate at every poll.
 */
function copyTcp(u: TcpInternals): TcpInternals {
  const t: TcpInternals = {
    bytesSent: u.bytesSent,
    bytesReceived: u.bytesReceived,
    rttMs: u.rttMs,
    rttVarMs: u.rttVarMs,
    retransmits: u.retransmits,
    lastSendMs: u.lastSendMs,
    lastReceiveMs: u.lastReceiveMs,
    cookie: u.cookie,
  };
  if (u.segmentsSent !== undefined) t.segmentsSent = u.segmentsSent;
  if (u.segmentsReceived !== undefined) t.segmentsReceived = u.segmentsReceived;
  return t;
}

function copyTimer(t: TimerInfo): TimerInfo {
  return Object.isFrozen(t) ? t : { ...t };
}

// Every field of Connection and TcpInternals is handled by refreshConnection: a field added to
// the model and not there fails to compile here.
type RefreshedConnectionField = 'fd' | 'protocol' | 'local' | 'remote' | 'state' | 'inode' | 'sendQueue' | 'recvQueue' | 'timer' | 'retransmits' | 'uid' | 'tcp' | 'pid' | 'pids' | 'direction';
type RefreshedTcpField = 'bytesSent' | 'bytesReceived' | 'rttMs' | 'rttVarMs' | 'retransmits' | 'lastSendMs' | 'lastReceiveMs' | 'cookie' | 'segmentsSent' | 'segmentsReceived';
const allConnectionFields: [Exclude<keyof Connection, RefreshedConnectionField>] extends [never] ? true : never = true;
const allTcpFields: [Exclude<keyof TcpInternals, RefreshedTcpField>] extends [never] ? true : never = true;
void allConnectionFields;
void allTcpFields;

/**
 * Writes the observation `c` into the tracker's copy `dst` of the same socket (same inode and
 * tuple), as copyConnection(c, dst) would make it; false when it cannot be done in place because
 * a field is present in one and not the other (then copy). The endpoints stay dst's.
 */
export function refreshConnection(dst: Connection, c: Connection): boolean {
  if (
    (dst.fd === undefined) !== (c.fd === undefined) ||
    (dst.sendQueue === undefined) !== (c.sendQueue === undefined) ||
    (dst.recvQueue === undefined) !== (c.recvQueue === undefined) ||
    (dst.timer === undefined) !== (c.timer === undefined) ||
    (dst.retransmits === undefined) !== (c.retransmits === undefined) ||
    (dst.uid === undefined) !== (c.uid === undefined) ||
    (dst.tcp === undefined) !== (c.tcp === undefined) ||
    (dst.pid === undefined) !== (c.pid === undefined) ||
    (dst.pids === undefined) !== (c.pids === undefined) ||
    (dst.direction === undefined) !== (c.direction === undefined)
  ) {
    return false;
  }
  const t = dst.tcp;
  const u = c.tcp;
  if (t !== undefined && u !== undefined && ((t.segmentsSent === undefined) !== (u.segmentsSent === undefined) || (t.segmentsReceived === undefined) !== (u.segmentsReceived === undefined))) {
    return false;
  }
  if (c.fd !== undefined) dst.fd = c.fd;
  // protocol, endpoints and inode: the same socket (matched by inode, or by key without one)
  dst.state = c.state;
  if (c.sendQueue !== undefined) dst.sendQueue = c.sendQueue;
  if (c.recvQueue !== undefined) dst.recvQueue = c.recvQueue;
  if (c.timer !== undefined && dst.timer !== c.timer) dst.timer = copyTimer(c.timer);
  if (c.retransmits !== undefined) dst.retransmits = c.retransmits;
  if (c.uid !== undefined) dst.uid = c.uid;
  if (t !== undefined && u !== undefined) {
    t.bytesSent = u.bytesSent;
    t.bytesReceived = u.bytesReceived;
    t.rttMs = u.rttMs;
    t.rttVarMs = u.rttVarMs;
    t.retransmits = u.retransmits;
    t.lastSendMs = u.lastSendMs;
    t.lastReceiveMs = u.lastReceiveMs;
    t.cookie = u.cookie;
    if (u.segmentsSent !== undefined) t.segmentsSent = u.segmentsSent;
    if (u.segmentsReceived !== undefined) t.segmentsReceived = u.segmentsReceived;
  }
  if (c.pid !== undefined) dst.pid = c.pid;
  if (c.pids !== undefined) dst.pids = c.pids;
  if (c.direction !== undefined) dst.direction = c.direction;
  return true;
}
