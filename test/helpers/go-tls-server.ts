// go/tls-server.go started for integration tests: net/http's HTTPS server (HTTP/1.1 and HTTP/2)
// on 127.0.0.1 port 0 with a self-signed certificate, and its own account of what it served:
// the connections it accepted and closed and the requests each carried, by the client's port.
// It is stopped with the other programs by stopRealHttp().
import { buildGoProgram } from './go-client';
import { start, type Program } from './real-http';

export interface TlsServer {
  program: Program;
  port: number;
  url: string;
  /** client ports of the connections it accepted, in order */
  accepted(): number[];
  /** client ports of the connections it saw closed */
  closed(): number[];
  /** requests answered, by client port, and the protocols they came in */
  requestsByClientPort(): Map<number, number>;
  protocols(): Set<string>;
  /** resolves once it has answered `n` requests */
  served(n: number, timeoutMs?: number): Promise<void>;
}

interface ServerLine {
  event: string;
  port?: number;
  remotePort?: number;
  proto?: string;
}

export async function startTlsServer(): Promise<TlsServer> {
  const program = start(buildGoProgram('tls-server'), []);
  const first = JSON.parse(await program.line(/"event":"listening"/)) as ServerLine;
  const port = first.port!;
  const parsed = (): ServerLine[] => program.lines().map((l) => JSON.parse(l) as ServerLine);
  const ports = (event: string): number[] => parsed().filter((l) => l.event === event).map((l) => l.remotePort!);
  const requestsByClientPort = (): Map<number, number> => {
    const m = new Map<number, number>();
    for (const p of ports('request')) m.set(p, (m.get(p) ?? 0) + 1);
    return m;
  };
  const served = async (n: number, timeoutMs = 10_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (ports('request').length < n) {
      if (Date.now() > deadline) throw new Error(`the TLS server reported ${ports('request').length} of ${n} requests within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    program,
    port,
    url: `https://127.0.0.1:${port}/`,
    accepted: () => ports('conn'),
    closed: () => ports('closed'),
    requestsByClientPort,
    protocols: () => new Set(parsed().filter((l) => l.event === 'request').map((l) => l.proto!)),
    served,
  };
}
