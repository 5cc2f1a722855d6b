// `--state` is a lens, not a scissors: the tracker follows every socket; a lens decides which of
// its open/close/state events a view writes. The rule keeps every recording self-consistent: a
// connection's events are written from the moment it is first in a shown state until its close,
// so there is never a close without its open nor a state change of a connection not opened.
// - `open`: written when the connection is in a shown state;
// - `state`: for a connection already shown, always written; for one not yet shown, a move into a
//   shown state is written as its `open` (at the time of the move, in its new state), and any
//   other move is not written;
// - `close`: written when the connection was shown; a brief connection (one close event, no
//   open) is written when its last state or ESTABLISHED is shown (it carried traffic, so it was
//   established in between);
// - `finding` and `exit` are always written; so is `poll`, its exchange counts only of connections
//   shown (a recording names no connection it did not open).
import { stateMatches, type StateFilter, type TcpState } from '../model';
import type { TrackerEvent } from './tracker-types';

export class EventLens {
  /** ids of connections whose open has been written */
  private readonly shown = new Set<string>();

  constructor(readonly filter: StateFilter) {}

  /** its open has been written (and its close not yet) */
  isShown(id: string): boolean {
    return this.shown.has(id);
  }

  /** The events to write, in order; call once per batch of tracker events, in order. */
  pass(events: readonly TrackerEvent[]): TrackerEvent[] {
    const out: TrackerEvent[] = [];
    for (const e of events) {
      const passed = this.one(e);
      if (passed !== undefined) out.push(passed);
    }
    return out;
  }

  private one(e: TrackerEvent): TrackerEvent | undefined {
    switch (e.type) {
      case 'open':
        if (!stateMatches(this.filter, e.conn.connection.state)) return undefined;
        this.shown.add(e.conn.id);
        return e;
      case 'state':
        if (this.shown.has(e.conn.id)) return e;
        if (!stateMatches(this.filter, e.to)) return undefined;
        this.shown.add(e.conn.id);
        return { type: 'open', atMs: e.atMs, conn: e.conn };
      case 'close':
        if (e.brief === true) {
          return stateMatches(this.filter, e.conn.connection.state) || stateMatches(this.filter, 'ESTABLISHED') ? e : undefined;
        }
        return this.shown.delete(e.conn.id) ? e : undefined;
      case 'finding':
      case 'exit':
        return e;
      case 'poll': {
        if (e.exchanges === undefined || e.exchanges.every((u) => this.shown.has(u.id))) return e;
        const { exchanges: all, ...rest } = e;
        const exchanges = all.filter((u) => this.shown.has(u.id));
        return exchanges.length === 0 ? rest : { ...rest, exchanges };
      }
    }
  }
}

/**
 * The states an event is about, for a view without the bookkeeping of a recording (the TUI's
 * event log, whose lens `f` changes at any time); null: shown whatever the lens.
 */
export function touchedStates(e: TrackerEvent): TcpState[] | null {
  switch (e.type) {
    case 'open':
      return [e.conn.connection.state];
    case 'state':
      return [e.from, e.to];
    case 'close': {
      const states = e.conn.states.map((s) => s.state);
      if (e.brief === true) states.push('ESTABLISHED');
      return states;
    }
    case 'finding':
    case 'exit':
    case 'poll':
      return null;
  }
}

export function touches(filter: StateFilter, states: readonly TcpState[] | null): boolean {
  return states === null || states.some((s) => stateMatches(filter, s));
}
