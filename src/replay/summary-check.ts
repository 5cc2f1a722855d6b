// Does the summary a recording ends with agree with what the tracker computes from its events?
// Compared: the counters, the lifetime percentiles, the duration, the peer rows and the brief
// connections counted apart (where the recording has them), each connection still live (state,
// exchanges, lifetime) and each finding by kind and by what it counts. Not compared: a
// finding's message and its measured-over-time numbers (rates, slopes, spans), which depend on
// the exact time of polls that left no event in the file and so differ by milliseconds in replay.
type Obj = Record<string, unknown>;

const FINDING_FIELDS: Record<string, readonly string[]> = {
  reuse: ['id', 'exchanges', 'reusedConnections'],
  churn: ['closesInWindow', 'medianLifetimeMs', 'medianExchanges'],
  close_wait: ['count', 'ids'],
  growth: ['from', 'to'],
};

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function text(v: unknown): string {
  return v === undefined ? 'absent' : JSON.stringify(v);
}

/** One line per difference, `field: recorded X, replayed Y`; empty when they agree. */
export function compareSummaries(recorded: Obj, replayed: Obj): string[] {
  const out: string[] = [];
  const diff = (field: string, a: unknown, b: unknown): void => {
    if (!same(a, b)) out.push(`${field}: recorded ${text(a)}, replayed ${text(b)}`);
  };
  for (const f of ['opened', 'closed', 'peak', 'durationMs']) diff(f, recorded[f], replayed[f]);
  // fields later versions added: compared where the recording has them
  for (const f of ['closedPreexisting', 'brief', 'likelyBrief', 'listening', 'unattributedBrief', 'peers']) if (f in recorded) diff(f, recorded[f], replayed[f]);
  const la = isObj(recorded.lifetimeMs) ? recorded.lifetimeMs : null;
  const lb = isObj(replayed.lifetimeMs) ? replayed.lifetimeMs : null;
  if (la === null || lb === null) diff('lifetimeMs', la, lb);
  else for (const k of ['p50', 'p95', 'max']) diff(`lifetimeMs.${k}`, la[k], lb[k]);

  const byId = (v: unknown): Map<string, Obj> =>
    new Map((Array.isArray(v) ? v : []).filter(isObj).map((c) => [String(c.id), c] as const));
  const ca = byId(recorded.connections);
  const cb = byId(replayed.connections);
  for (const id of new Set([...ca.keys(), ...cb.keys()])) {
    const a = ca.get(id);
    const b = cb.get(id);
    if (!a || !b) {
      diff(`connections[${id}]`, a ? 'live' : undefined, b ? 'live' : undefined);
      continue;
    }
    for (const k of ['state', 'exchanges', 'preexisting']) diff(`connections[${id}].${k}`, a[k], b[k]);
    // A recording's times are ISO strings of whole milliseconds; a start eBPF timed exactly has a
    // fraction the file cannot hold, so a live connection's age may replay up to 1 ms apart.
    if (!(typeof a.lifetimeMs === 'number' && typeof b.lifetimeMs === 'number' && Math.abs(a.lifetimeMs - b.lifetimeMs) < 1)) diff(`connections[${id}].lifetimeMs`, a.lifetimeMs, b.lifetimeMs);
  }

  const byKind = (v: unknown): Map<string, Obj> =>
    new Map((Array.isArray(v) ? v : []).filter(isObj).map((f) => [String(f.kind), f] as const));
  const fa = byKind(recorded.findings);
  const fb = byKind(replayed.findings);
  for (const kind of new Set([...fa.keys(), ...fb.keys()])) {
    const a = fa.get(kind);
    const b = fb.get(kind);
    if (!a || !b) {
      diff(`findings[${kind}]`, a?.message, b?.message);
      continue;
    }
    for (const k of FINDING_FIELDS[kind] ?? []) diff(`findings[${kind}].${k}`, a[k], b[k]);
  }
  return out;
}
