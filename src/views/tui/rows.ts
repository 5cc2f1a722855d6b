// Which connections the table shows, in which order. This is the only per-redraw work that touches
// every live connection; the controller caches its result between data changes so scrolling
// (a keypress) costs only the visible slice.
import type { TrackedConnection } from '../../core/tracker-types';
import { TCP_STATES, stateMatches, type Endpoint, type StateFilter } from '../../model';
import { formatEndpoint } from '../../core/endpoint';
import { idleMs, type ColumnId } from './columns';

export interface SortSpec {
  key: ColumnId;
  descending: boolean;
}

type SortValue = number | string;

/** Sorts IPv4 numerically ("10.0.0.9" before "10.0.0.10"); other addresses compare as text. */
function endpointSortValue(e: Endpoint): string {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(e.address);
  const addr = v4 ? v4.slice(1, 5).map((o) => o.padStart(3, '0')).join('.') : `~${e.address}`;
  return `${addr}#${String(e.port).padStart(5, '0')}`;
}

// Missing values (no fd, no tcp_info) sort last whatever the direction.
const MISSING = Number.POSITIVE_INFINITY;

function sortValue(key: ColumnId, t: TrackedConnection): SortValue {
  const c = t.connection;
  switch (key) {
    case 'pid':
      return c.pid ?? MISSING;
    case 'fd':
      return c.fd ?? MISSING;
    case 'dir':
      return c.direction === undefined ? MISSING : c.direction === 'in' ? 0 : 1;
    case 'local':
      return endpointSortValue(c.local);
    case 'remote':
      return endpointSortValue(c.remote);
    case 'state':
      return TCP_STATES.indexOf(c.state);
    case 'age':
      // Youngest first when ascending, like the AGE numbers themselves.
      return -t.firstSeenMs;
    case 'idle':
      return idleMs(t) ?? MISSING;
    case 'exch':
      return t.exchanges ?? MISSING;
    case 'tx':
      return c.tcp?.bytesSent ?? MISSING;
    case 'rx':
      return c.tcp?.bytesReceived ?? MISSING;
    case 'timer':
      return c.timer && c.timer.kind !== 'none' ? c.timer.expiresMs : MISSING;
  }
}

export function matchesText(t: TrackedConnection, needle: string): boolean {
  const c = t.connection;
  const hay = `${c.pid ?? ''} ${c.fd ?? ''} ${c.direction ?? ''} ${formatEndpoint(c.local)} ${formatEndpoint(c.remote)} ${c.state} ${c.timer?.kind ?? ''}`;
  return hay.toLowerCase().includes(needle);
}

export function selectRows(
  live: readonly TrackedConnection[],
  o: { states: StateFilter; filterText: string; sort: SortSpec },
): TrackedConnection[] {
  const needle = o.filterText.trim().toLowerCase();
  const picked = live.filter((t) => stateMatches(o.states, t.connection.state) && (needle === '' || matchesText(t, needle)));
  // Decorate once, then sort: computing keys inside the comparator would redo them n·log n times.
  const decorated = picked.map((t, i) => ({ t, i, v: sortValue(o.sort.key, t) }));
  const dir = o.sort.descending ? -1 : 1;
  decorated.sort((a, b) => {
    const aMissing = a.v === MISSING;
    const bMissing = b.v === MISSING;
    if (aMissing !== bMissing) return aMissing ? 1 : -1;
    if (a.v < b.v) return -dir;
    if (a.v > b.v) return dir;
    return a.i - b.i;
  });
  return decorated.map((d) => d.t);
}
