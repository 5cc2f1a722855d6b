// A large sockwatch.event/1 recording made up in memory (for the report's size test and bench):
// one reused connection, `churn` short ones to another peer, and `leak` held ones to a third that
// end in CLOSE_WAIT. Its shape is the recorder's (json-shapes.ts); its traffic is invented.
const T0 = Date.parse('2026-01-01T12:00:00.000Z');

function conn(id: number, remotePort: number, state: string, firstSeenMs: number, bytesSent: number, exchanges: number): Record<string, unknown> {
  return {
    fd: 20 + (id % 1000),
    protocol: 'tcp',
    local: { address: '127.0.0.1', port: 30000 + (id % 30000) },
    remote: { address: '127.0.0.1', port: remotePort },
    state,
    inode: 100000 + id,
    tcp: { bytesSent, bytesReceived: bytesSent * 10, rttMs: 0.05, rttVarMs: 0.02, retransmits: 0, lastSendMs: 0, lastReceiveMs: 0, cookie: String(id) },
    id: `c${id}`,
    firstSeen: new Date(firstSeenMs).toISOString(),
    preexisting: false,
    exchanges,
  };
}

export function syntheticRecording(o: { churn: number; leak: number; intervalMs?: number; pid?: number }): string {
  const interval = o.intervalMs ?? 250;
  const pid = o.pid ?? 4242;
  const out: string[] = [];
  const iso = (ms: number): string => new Date(ms).toISOString();
  const ev = (type: string, t: number, extra: Record<string, unknown>): void => {
    out.push(JSON.stringify({ type, time: iso(t), pid, ...extra }));
  };
  const proc = { pid, command: 'node', cmdline: 'node client.js', user: 'alice', startTime: iso(T0 - 1000) };
  out.push(JSON.stringify({ schema: 'sockwatch.event/1', type: 'start', time: iso(T0), pid, process: proc, intervalMs: interval, source: 'netlink', states: ['ESTABLISHED', 'CLOSE_WAIT'] }));
  let next = 1;
  const keep = next++;
  ev('open', T0, { connection: conn(keep, 8001, 'ESTABLISHED', T0, 100, 1) });
  // churn: `perPoll` at a time, two polls each; leak: one every `leakEvery` polls, CLOSE_WAIT 8 polls later
  const perPoll = Math.max(1, Math.ceil(o.churn / 1000));
  const polls = Math.max(Math.ceil(o.churn / perPoll) * 3, o.leak * 4, 40);
  const leakEvery = Math.max(1, Math.floor(polls / Math.max(1, o.leak)) - 1);
  let churnOpen: { id: number; at: number }[] = [];
  let churned = 0;
  let leaked = 0;
  const held: { id: number; at: number }[] = [];
  const live = new Map<number, Record<string, unknown>>([[keep, conn(keep, 8001, 'ESTABLISHED', T0, 100, 1)]]);
  let t = T0;
  for (let p = 1; p < polls; p++) {
    t = T0 + p * interval;
    if (churnOpen.length > 0 && t - churnOpen[0]!.at >= 2 * interval) {
      for (const ch of churnOpen) {
        const c = conn(ch.id, 8002, 'ESTABLISHED', ch.at, 80, 1);
        ev('close', t, { connection: { ...c, lifetimeMs: t - ch.at }, lifetimeMs: t - ch.at });
        live.delete(ch.id);
      }
      churnOpen = [];
    }
    for (const h of held) {
      if (t - h.at === 8 * interval) {
        const c = conn(h.id, 8003, 'CLOSE_WAIT', h.at, 80, 1);
        ev('state', t, { connection: c, from: 'ESTABLISHED', to: 'CLOSE_WAIT' });
        live.set(h.id, c);
      }
    }
    for (let k = 0; k < perPoll && churnOpen.length < perPoll && churned < o.churn && p % 3 === 1; k++) {
      const ch = { id: next++, at: t };
      churnOpen.push(ch);
      churned++;
      const c = conn(ch.id, 8002, 'ESTABLISHED', t, 80, 1);
      ev('open', t, { connection: c });
      live.set(ch.id, c);
    }
    if (leaked < o.leak && p % leakEvery === 0) {
      const h = { id: next++, at: t };
      held.push(h);
      leaked++;
      const c = conn(h.id, 8003, 'ESTABLISHED', t, 80, 1);
      ev('open', t, { connection: c });
      live.set(h.id, c);
    }
  }
  // The summary as a recorder would write it; replay recomputes its own.
  live.set(keep, conn(keep, 8001, 'ESTABLISHED', T0, 100 + Math.floor(polls / 4) * 100, 1 + Math.floor(polls / 4)));
  ev('summary', t, {
    opened: next - 1,
    closed: churned,
    peak: 0,
    lifetimeMs: null,
    durationMs: t - T0,
    connections: [...live.values()].map((c) => ({ ...c, lifetimeMs: t - Date.parse(String(c.firstSeen)) })),
    findings: [],
  });
  return out.join('\n') + '\n';
}
