// What a connection contributes to label values, in one place so that `direction` (in/out) and the
// inbound peer (the local listening port) slot in here once the tracker knows a connection's direction.
import type { Connection } from '../../model';
import type { FindingKind } from '../../core/tracker-types';
import { formatEndpoint } from '../../core/endpoint';

/** Labels of the live-connections gauge besides `target`. Add `direction` here (and to LIVE_LABELS). */
export const LIVE_LABELS = ['state'] as const;
export type LiveLabel = (typeof LIVE_LABELS)[number];

export function liveLabels(c: Connection): Record<LiveLabel, string> {
  return { state: c.state };
}

/** The peer a connection counts for: its remote endpoint (for inbound, the listening port once direction exists). */
export function peerOf(c: Connection): string {
  return formatEndpoint(c.remote);
}

/** Emitted as 0 until raised, so an alert rule sees the series before the first finding. */
export const KNOWN_FINDING_KINDS: readonly FindingKind[] = ['reuse', 'churn', 'close_wait', 'growth'];
