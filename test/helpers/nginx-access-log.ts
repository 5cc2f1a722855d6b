// nginx's own account of its connections, read from the access log written with
// ACCESS_LOG_FORMAT (nginx.ts): which connection ($connection, a serial number) carried each
// request, and how many ($connection_requests). This is the truth the real-software tests
// compare sockwatch's per-connection `exchanges` and connection counts with.
import * as fs from 'node:fs';

export interface AccessLogEntry {
  /** nginx's connection serial number */
  connection: number;
  /** the request's position on its connection (1 for the first) */
  connectionRequests: number;
  remoteAddress: string;
  remotePort: number;
  serverPort: number;
  status: number;
  /** when the request was logged (its end), ms since the epoch */
  atMs: number;
}

export interface ConnectionRequests {
  connection: number;
  remoteAddress: string;
  remotePort: number;
  serverPort: number;
  /** requests the connection carried (the highest $connection_requests seen on it) */
  requests: number;
  /** log lines for it (equal to requests unless lines were lost) */
  lines: number;
  firstMs: number;
  lastMs: number;
}

/** Parses the log text; a line that does not fit the format is an error (the format is ours). */
export function parseAccessLog(text: string): AccessLogEntry[] {
  const out: AccessLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.trim().split(' ');
    const nums = [f[0], f[1], f[3], f[4], f[5], f[6]].map(Number);
    if (f.length !== 7 || nums.some((n) => !Number.isFinite(n))) {
      throw new Error(`access log line not in the expected format: ${JSON.stringify(line)}`);
    }
    const [connection, connectionRequests, remotePort, serverPort, status, msec] = nums as [
      number, number, number, number, number, number,
    ];
    out.push({ connection, connectionRequests, remoteAddress: f[2] ?? '', remotePort, serverPort, status, atMs: msec * 1000 });
  }
  return out;
}

export function readAccessLog(file: string): AccessLogEntry[] {
  return parseAccessLog(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');
}

/** Per-connection request counts, in order of each connection's first request. */
export function requestsPerConnection(entries: readonly AccessLogEntry[]): ConnectionRequests[] {
  const byConn = new Map<number, ConnectionRequests>();
  for (const e of entries) {
    const c = byConn.get(e.connection);
    if (c === undefined) {
      byConn.set(e.connection, {
        connection: e.connection,
        remoteAddress: e.remoteAddress,
        remotePort: e.remotePort,
        serverPort: e.serverPort,
        requests: e.connectionRequests,
        lines: 1,
        firstMs: e.atMs,
        lastMs: e.atMs,
      });
    } else {
      c.requests = Math.max(c.requests, e.connectionRequests);
      c.lines++;
      c.firstMs = Math.min(c.firstMs, e.atMs);
      c.lastMs = Math.max(c.lastMs, e.atMs);
    }
  }
  return [...byConn.values()].sort((a, b) => a.firstMs - b.firstMs);
}
