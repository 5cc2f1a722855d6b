// Counting the request/response exchanges a connection carried, from the tcp_info counters
// sampled at each poll (netlink source only).
//
// Every exchange puts at least one data segment on the wire in each direction, and in the usual
// protocols one of the two messages (a client's request, a server's received request, or a short
// reply to a large upload) fits in one segment. So within one poll interval the exchanges are
// about min(data segments sent, data segments received): the smaller side counts messages, the
// larger side only has to keep up. Whatever the poll interval: a poll covering 400 exchanges sees
// about 400 segments each way, where counting bursts of sending between polls saw one.
//
// An exchange can straddle a poll (request before it, reply after), leaving one segment with no
// partner at that poll. That segment is carried to the next poll unless the other direction moved
// more recently (lastSendMs/lastReceiveMs): the message is still waiting for its answer. When
// the other direction moved last, unmatched segments are the extra segments of a multi-segment
// message already answered, and carrying them would pair them with a later exchange's segment.
// At most one segment is carried: a non-pipelined protocol has at most one message waiting.
//
// A connection first seen with history is measured the same way from zero: its cumulative
// counters are one long poll. Segments the connection retransmitted are taken off the sent side.
//
// Where the kernel gives no data-segment counters (before linux 4.6), the count falls back to
// bursts of sending: a poll at which bytesSent grew after a poll at which it had not starts one.
// That is a lower bound with the poll interval as its resolution (exchanges closer together than
// one interval merge), so it is used only as that fallback: with segments it adds nothing (each
// burst that is an exchange also moved a segment each way) and it would count one-way pushes.

import type { TcpInternals } from '../model';

/** The counters the estimator reads; a TcpInternals is one. */
export type ExchangeSample = Pick<
  TcpInternals,
  'bytesSent' | 'retransmits' | 'lastSendMs' | 'lastReceiveMs' | 'segmentsSent' | 'segmentsReceived'
>;

export interface ExchangeState {
  /** exchanges counted so far */
  readonly count: number;
  /** the previous sample's counters: deltas are taken from them */
  readonly bytesSent: number;
  /** bytesSent grew at the previous sample (a burst is in progress): the fallback's state */
  readonly sending: boolean;
  /** absent when the previous sample had no (valid) segment counters */
  readonly segmentsSent?: number;
  readonly segmentsReceived?: number;
  readonly retransmits: number;
  /** a segment sent (received) at or before the previous sample still waiting for its answer */
  readonly pendingSent: 0 | 1;
  readonly pendingReceived: 0 | 1;
}

const START: ExchangeState = {
  count: 0,
  bytesSent: 0,
  sending: false,
  segmentsSent: 0,
  segmentsReceived: 0,
  retransmits: 0,
  pendingSent: 0,
  pendingReceived: 0,
};

/** The state at a connection's first observation: its history so far counted from zero. */
export function firstExchangeState(tcp: ExchangeSample): ExchangeState {
  return nextExchangeState(START, tcp);
}

export function nextExchangeState(prev: ExchangeState, tcp: ExchangeSample): ExchangeState {
  const next = state(prev.count, prev.bytesSent, prev.sending, prev.segmentsSent, prev.segmentsReceived, prev.retransmits, prev.pendingSent, prev.pendingReceived);
  advanceExchangeState(next, tcp);
  return next;
}

/** An ExchangeState its owner advances in place. */
export type MutableExchangeState = { -readonly [K in keyof ExchangeState]: ExchangeState[K] };

/** A state of its own (not START): for advanceExchangeState. */
export function newExchangeState(tcp: ExchangeSample): MutableExchangeState {
  return nextExchangeState(START, tcp);
}

/**
 * nextExchangeState in place: the tracker keeps one state per connection and advances it every
 * poll, so it allocates nothing per connection and poll.
 */
export function advanceExchangeState(s: MutableExchangeState, tcp: ExchangeSample): void {
  const bytesSent = counter(tcp.bytesSent) ?? s.bytesSent;
  // A counter that went backwards is a source glitch, not traffic: no growth, follow the new value.
  const grew = bytesSent > s.bytesSent;
  const retransmits = counter(tcp.retransmits) ?? s.retransmits;
  // the fallback's step, for a poll whose segments cannot be measured
  const burstCount = grew && !s.sending ? s.count + 1 : s.count;
  const sent = counter(tcp.segmentsSent);
  const received = counter(tcp.segmentsReceived);
  const dSent = sent === undefined || s.segmentsSent === undefined ? undefined : u32Delta(sent, s.segmentsSent);
  const dReceived = received === undefined || s.segmentsReceived === undefined ? undefined : u32Delta(received, s.segmentsReceived);
  const prevRetransmits = s.retransmits;
  s.bytesSent = bytesSent;
  s.sending = grew;
  s.retransmits = retransmits;
  if (sent === undefined || received === undefined || dSent === undefined || dReceived === undefined) {
    // no segment counters: the fallback; counters that just appeared or went backwards: no delta
    // to take, measure from here on
    s.count = burstCount;
    const measurable = sent !== undefined && received !== undefined;
    s.segmentsSent = measurable ? sent : undefined;
    s.segmentsReceived = measurable ? received : undefined;
    s.pendingSent = 0;
    s.pendingReceived = 0;
    return;
  }
  const dRetransmits = Math.max(0, retransmits - prevRetransmits);
  const availSent = s.pendingSent + Math.max(0, dSent - dRetransmits);
  const availReceived = s.pendingReceived + dReceived;
  const matched = Math.min(availSent, availReceived);
  // Kept unless the other direction moved strictly later. The idle times tick in jiffies, so a
  // tie is common where a client sends its next request as soon as a reply arrives, and the
  // request may be the one still unanswered; a surplus segment kept by mistake only costs when
  // the other direction becomes the scarce one at the next poll.
  const receivedLast = tcp.lastReceiveMs < tcp.lastSendMs;
  const sentLast = tcp.lastSendMs < tcp.lastReceiveMs;
  s.count += matched;
  s.segmentsSent = sent;
  s.segmentsReceived = received;
  s.pendingSent = availSent > matched && !receivedLast ? 1 : 0;
  s.pendingReceived = availReceived > matched && !sentLast ? 1 : 0;
}

// One literal for every state: one shape for all of them.
function state(
  count: number,
  bytesSent: number,
  sending: boolean,
  segmentsSent: number | undefined,
  segmentsReceived: number | undefined,
  retransmits: number,
  pendingSent: 0 | 1,
  pendingReceived: 0 | 1,
): MutableExchangeState {
  return { count, bytesSent, sending, segmentsSent, segmentsReceived, retransmits, pendingSent, pendingReceived };
}

/** A usable counter value, or undefined for a missing or malformed one. */
function counter(v: number | undefined): number | undefined {
  return v !== undefined && Number.isFinite(v) && v >= 0 ? v : undefined;
}

const U32 = 2 ** 32;

/**
 * The growth of a u32 kernel counter (tcpi_data_segs_* wrap at 2^32). A value below the previous
 * one is a wrap only when the previous was in the upper half and the new one in the lower half
 * (a wrap can only look like that between two polls); otherwise it is a glitch: undefined.
 */
function u32Delta(now: number, before: number): number | undefined {
  if (now >= before) return now - before;
  return before >= U32 / 2 && now < U32 / 2 ? now + U32 - before : undefined;
}
