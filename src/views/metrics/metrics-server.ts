// The Prometheus endpoint: node:http, GET /metrics and nothing else.
import * as http from 'node:http';
import { SockwatchError } from '../../errors';
import { formatMetricsAddress, type MetricsAddress } from './metrics-address';

export interface Scrapeable {
  scrape(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsServer {
  /** the address actually bound (the port chosen when 0 was asked) */
  readonly address: MetricsAddress;
  readonly url: string;
  close(): Promise<void>;
}

export const METRICS_PATH = '/metrics';

/** Listens before resolving: a port in use rejects with a one-line SockwatchError. */
export function startMetricsServer(at: MetricsAddress, metrics: Scrapeable): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== METRICS_PATH) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: metrics are at ${METRICS_PATH}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return;
    }
    metrics.scrape().then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (e: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`collecting metrics failed: ${e instanceof Error ? e.message : String(e)}\n`);
      },
    );
  });
  // A scraper that keeps its connection open must not hold sockwatch up when it exits.
  server.keepAliveTimeout = 5_000;
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(listenError(at, e)));
    server.listen({ host: at.host, port: at.port, exclusive: true }, () => {
      const bound = server.address();
      const address: MetricsAddress = typeof bound === 'object' && bound !== null ? { host: at.host, port: bound.port } : at;
      resolve({
        address,
        url: `http://${formatMetricsAddress(address)}${METRICS_PATH}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

function listenError(at: MetricsAddress, e: NodeJS.ErrnoException): SockwatchError {
  const where = formatMetricsAddress(at);
  switch (e.code) {
    case 'EADDRINUSE':
      return new SockwatchError('io_error', `cannot serve metrics on ${where}: the address is already in use`);
    case 'EACCES':
      return new SockwatchError('permission_denied', `cannot serve metrics on ${where}: permission denied (ports below 1024 need root)`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new SockwatchError('io_error', `cannot serve metrics on ${where}: no such local address`);
    default:
      return new SockwatchError('io_error', `cannot serve metrics on ${where}: ${e.message}`);
  }
}
