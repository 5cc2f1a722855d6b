// Bounds the `peer` label of the per-peer series: at most `slots` named peers plus `other`,
// whatever the traffic. A peer earns a named series once it has carried PEER_MIN_CONNECTIONS
// connections while a slot is free, and keeps it for the life of the sockwatch process.
//
// Why never re-rank: a counter must not go down and a series must not vanish. If the busiest peers
// were re-chosen as traffic shifted, a peer dropping out of the top N would either lose its series
// (its count moving into `other`, which then jumps) or keep it (and the label set would grow with
// every reshuffle). Choosing once keeps every series monotone and the label set bounded; the cost is
// that a peer that only becomes busy after the slots are taken is counted under `other`.

export const OTHER_PEER = 'other';

/** Connections a peer must carry before it gets a series: one-off peers (a server's ephemeral client ports) never do. */
export const PEER_MIN_CONNECTIONS = 3;

/** Peers still counting towards a slot; beyond this the oldest candidates are forgotten (bounded memory under any churn). */
export const PEER_CANDIDATE_LIMIT = 4096;

export class PeerFolder {
  private readonly named = new Set<string>();
  /** connections seen per peer that has no slot yet, in first-seen order (the eviction order) */
  private readonly candidates = new Map<string, number>();

  constructor(
    readonly slots: number,
    private readonly minConnections = PEER_MIN_CONNECTIONS,
    private readonly candidateLimit = PEER_CANDIDATE_LIMIT,
  ) {
    if (!Number.isInteger(slots) || slots < 0) throw new RangeError(`slots must be a non-negative integer, got ${slots}`);
  }

  /** Counts one connection to `peer`; returns the label it is counted under. */
  count(peer: string): string {
    if (this.named.has(peer)) return peer;
    if (this.named.size >= this.slots) return OTHER_PEER;
    const seen = (this.candidates.get(peer) ?? 0) + 1;
    if (seen >= this.minConnections) {
      this.candidates.delete(peer);
      this.named.add(peer);
      // Nobody else can get a slot now: stop counting for them.
      if (this.named.size >= this.slots) this.candidates.clear();
      return peer;
    }
    this.candidates.set(peer, seen);
    if (this.candidates.size > this.candidateLimit) this.forgetOldest(this.candidates.size - this.candidateLimit);
    return OTHER_PEER;
  }

  /** The label a peer is counted under now, without counting anything. */
  labelOf(peer: string): string {
    return this.named.has(peer) ? peer : OTHER_PEER;
  }

  /** named peers in the order they got their slot, then `other` */
  labels(): string[] {
    return [...this.named, OTHER_PEER];
  }

  private forgetOldest(n: number): void {
    for (const key of this.candidates.keys()) {
      if (n-- <= 0) break;
      this.candidates.delete(key);
    }
  }
}
