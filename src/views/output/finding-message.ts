// The sentence of each finding, from the numbers core drew (src/core/findings.ts). It is the
// `message` of the JSON output and the text of every view: change the words here, never there.
import type { FindingFacts, FindingSubject } from '../../core/tracker-types';
import { CLOSE_WAIT_MIN_MS, REUSE_MIN_EXCHANGES } from '../../core/findings';
import { formatEndpoint } from '../../core/endpoint';
import { formatDuration } from '../../util/duration';

function num(f: FindingFacts, key: string): number {
  const v = f[key];
  return typeof v === 'number' ? v : NaN;
}

/** Fits TrackerOptions.describeFinding. */
export function findingMessage(f: FindingFacts, subject: FindingSubject | undefined): string {
  switch (f.kind) {
    case 'reuse': {
      // A connection first seen at this very poll already carries its history: its exchanges are
      // real, but "over 0ms" would misread as an impossible rate.
      const lifetime = num(f, 'lifetimeMs');
      const over = lifetime < 1 ? 'by the poll that first saw it' : `over ${subject?.preexisting === true ? '≥' : ''}${formatDuration(lifetime)}`;
      const reused = num(f, 'reusedConnections');
      const others = reused > 1 ? ` (${reused} connections carried ${REUSE_MIN_EXCHANGES} or more)` : '';
      const which = subject === undefined ? 'a connection' : `connection ${formatEndpoint(subject.connection.local)}→${formatEndpoint(subject.connection.remote)}`;
      return `${which} carried ${num(f, 'exchanges')} exchanges ${over} — keep-alive is working${others}`;
    }
    case 'churn': {
      let each = '';
      if (typeof f['medianExchanges'] === 'number') {
        const n = Math.round(f['medianExchanges']);
        each = `, ~${n} exchange${n === 1 ? '' : 's'} each`;
      }
      const peer = typeof f['peer'] === 'string' ? `${f['direction'] === 'in' ? ' on' : ' to'} ${f['peer']}` : '';
      if (typeof f['likelyInWindow'] === 'number') each += ` (${f['likelyInWindow']} of them likely the target's: owner not provable)`;
      return (
        `${Math.round(num(f, 'perMinute'))} new connections per minute${peer}, median lifetime ${formatDuration(num(f, 'medianLifetimeMs'))}${each}` +
        ' — keep-alive is not in effect (bodies not drained/closed, or the client disables it)'
      );
    }
    case 'close_wait': {
      const n = num(f, 'count');
      return (
        `${n} connection${n === 1 ? '' : 's'} in CLOSE_WAIT for over ${formatDuration(CLOSE_WAIT_MIN_MS)} ` +
        `(longest ${formatDuration(num(f, 'longestMs'))}): the peer closed ${n === 1 ? 'it' : 'them'} but the process has not — a leak`
      );
    }
    case 'growth':
      return `live connections grew from ${num(f, 'from')} to ${num(f, 'to')} over ${formatDuration(num(f, 'spanMs'))} — connections are being held, not released`;
  }
}
