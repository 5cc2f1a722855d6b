// Counting request/response exchanges from the bytes a connection has sent (tcp_info via netlink).
//
// We cannot see messages, only counters sampled at each poll. An exchange shows up as a burst of
// sending after a quiet spell, so we count bursts: the first observation with bytes already sent
// counts one (the connection has carried at least that), and afterwards every poll at which
// bytesSent grew, when it had not grown at the poll before, starts another. A burst that spans
// several polls therefore counts once, and requests sent closer together than the poll interval
// merge into one: the count is a lower bound whose resolution is the poll interval.

export interface ExchangeState {
  /** exchanges counted so far */
  readonly count: number;
  /** bytesSent at the latest observation */
  readonly bytesSent: number;
  /** whether bytesSent grew at the latest observation (a burst is in progress) */
  readonly sending: boolean;
}

export function firstExchangeState(bytesSent: number): ExchangeState {
  const sent = bytesSent > 0;
  return { count: sent ? 1 : 0, bytesSent, sending: sent };
}

export function nextExchangeState(prev: ExchangeState, bytesSent: number): ExchangeState {
  // A counter that went backwards is a source glitch, not traffic: treat it as no growth and
  // follow the new value so that the next real growth is seen.
  const grew = bytesSent > prev.bytesSent;
  const count = grew && !prev.sending ? prev.count + 1 : prev.count;
  return { count, bytesSent, sending: grew };
}

/** Exchanges in a series of bytesSent observations (one per poll), as the tracker counts them. */
export function countExchanges(bytesSentSeries: readonly number[]): number {
  let state: ExchangeState | undefined;
  for (const bytes of bytesSentSeries) {
    state = state === undefined ? firstExchangeState(bytes) : nextExchangeState(state, bytes);
  }
  return state?.count ?? 0;
}
