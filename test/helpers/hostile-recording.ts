// A forged sockwatch.event/1 recording: every string a recording carries (command, cmdline, user,
// addresses, an event type, ids and kinds of its summary) is the caller's, to hold escape
// sequences and bidi controls. Its shape is the recorder's (views/output/json-shapes.ts).

export interface HostileFields {
  command: string;
  cmdline: string;
  user: string;
  /** the remote address of the first connection (its peer opens, then closes) */
  address: string;
  /** the remote address of the second connection (still open at the end) */
  address2: string;
  /** the type of an event before the start line (quoted in a warning) and of one after it */
  type: string;
}

export const T0 = Date.parse('2026-01-01T12:00:00.000Z');

export function hostileRecording(f: HostileFields): string {
  const iso = (ms: number): string => new Date(ms).toISOString();
  const pid = 4242;
  const proc = { pid, command: f.command, cmdline: f.cmdline, user: f.user, startTime: iso(T0 - 1000) };
  const conn = (id: string, n: number, address: string, at: number): Record<string, unknown> => ({
    fd: 20 + n,
    protocol: 'tcp',
    local: { address: '127.0.0.1', port: 30000 + n },
    remote: { address, port: 80 },
    state: 'ESTABLISHED',
    inode: 100 + n,
    id,
    firstSeen: iso(at),
    preexisting: false,
  });
  const lines: unknown[] = [
    { type: f.type, time: iso(T0 - 500), pid },
    { schema: 'sockwatch.event/1', type: 'start', time: iso(T0), pid, process: proc, intervalMs: 250, source: 'netlink', states: [] },
    { type: 'open', time: iso(T0 + 250), pid, connection: conn('c1', 1, f.address, T0 + 250) },
    { type: 'open', time: iso(T0 + 500), pid, connection: conn('c2', 2, f.address2, T0 + 500) },
    { type: f.type, time: iso(T0 + 600), pid },
    { type: 'close', time: iso(T0 + 1000), pid, connection: conn('c1', 1, f.address, T0 + 250), lifetimeMs: 750 },
    { type: 'exit', time: iso(T0 + 1250), pid, reason: 'exited', process: proc },
    {
      type: 'summary',
      time: iso(T0 + 1250),
      pid,
      opened: 2,
      closed: 2,
      peak: 2,
      durationMs: 1250,
      // differs from the replay on purpose: the check lines quote these ids and kinds
      connections: [{ id: `c9${f.type}`, state: 'ESTABLISHED' }],
      findings: [{ kind: f.type, message: f.cmdline }],
    },
  ];
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}
