// The Prometheus endpoint: node:http, GET /metrics and nothing else. Anyone who can reach the port
// is a client, so no request may end or starve the process: nothing throws out of the handler (a
// bad request target is a 400), connections are capped and every one of them is timed out.
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { SockwatchError } from '../../errors';
import { descriptorHeadroom } from '../../util/descriptor-headroom';
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

export interface MetricsServerOptions {
  /** one line about the endpoint for the person running sockwatch (connections refused, accept errors) */
  notice?: (text: string) => void;
}

export const METRICS_PATH = '/metrics';

/**
 * The limits (docs/metrics.md). A scraper needs one connection and answers within a second; these
 * bound what idle or slow clients can hold: at most maxConnections descriptors, each for at most
 * idleTimeoutMs without traffic and headersTimeoutMs to send its headers.
 */
export const METRICS_LIMITS = {
  /** open connections at once; beyond it a new one is closed as soon as accepted */
  maxConnections: 64,
  /**
   * Descriptors kept free for everything but clients (polls, files written, eBPF's pipes, a
   * group's sources): under a low RLIMIT_NOFILE the cap shrinks to leave them, down to
   * minConnections. Clients must never be what runs the process out of descriptors: at EMFILE an
   * accept can spin in libuv once its spare descriptor is taken.
   */
  reservedDescriptors: 64,
  minConnections: 4,
  /** the request line and headers must arrive within this long */
  headersTimeoutMs: 5_000,
  /** the whole request (headers and any body) */
  requestTimeoutMs: 10_000,
  /** an idle keep-alive connection between two scrapes */
  keepAliveTimeoutMs: 5_000,
  /** no traffic at all for this long: the socket is destroyed */
  idleTimeoutMs: 10_000,
  /** how often the header and request timeouts are checked */
  checkEveryMs: 1_000,
} as const;

/** Notices about refused connections are said at most this often. */
const NOTICE_EVERY_MS = 60_000;

const TEXT = 'text/plain; charset=utf-8';

/** Listens before resolving: a port in use rejects with a one-line SockwatchError. */
export function startMetricsServer(at: MetricsAddress, metrics: Scrapeable, options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const L = METRICS_LIMITS;
  const server = http.createServer(
    {
      headersTimeout: L.headersTimeoutMs,
      requestTimeout: L.requestTimeoutMs,
      keepAliveTimeout: L.keepAliveTimeoutMs,
      connectionsCheckingInterval: L.checkEveryMs,
    },
    (req, res) => {
      // Errors on either side (a client resetting mid-response) are the client's problem, not ours.
      req.on('error', ignore);
      res.on('error', ignore);
      try {
        answer(req, res, metrics);
      } catch (e) {
        failed(res, e);
      }
    },
  );
  server.maxConnections = connectionCap(descriptorHeadroom());
  // Without a listener, a socket idle this long is destroyed.
  server.timeout = L.idleTimeoutMs;
  server.on('clientError', answerClientError);
  const notice = rateLimited(options.notice);
  server.on('drop', () => notice.say(`metrics endpoint: ${server.maxConnections} connections open, further ones refused until some close`));
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(listenError(at, e)));
    server.listen({ host: at.host, port: at.port, exclusive: true }, () => {
      // Once listening, an error is an accept that failed (EMFILE is handled by libuv, which
      // closes the connection): the server listens on.
      server.removeAllListeners('error');
      server.on('error', (e: Error) => notice.say(`metrics endpoint: ${e.message}`));
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

/** METRICS_LIMITS.maxConnections, or fewer when `headroom` descriptors leave less (see there). */
export function connectionCap(headroom: number | undefined): number {
  const L = METRICS_LIMITS;
  if (headroom === undefined) return L.maxConnections;
  return Math.min(L.maxConnections, Math.max(L.minConnections, headroom - L.reservedDescriptors));
}

function ignore(): void {
  // see the caller
}

/** The request's path, or undefined when its target is no URL (`[`, `http://[`). */
function pathOf(target: string | undefined): string | undefined {
  try {
    return new URL(target ?? '/', 'http://x').pathname;
  } catch {
    return undefined;
  }
}

function answer(req: http.IncomingMessage, res: http.ServerResponse, metrics: Scrapeable): void {
  const path = pathOf(req.url);
  if (path === undefined) return refuse(res, 400, 'bad request: the request target is not a URL\n');
  if (path !== METRICS_PATH) return refuse(res, 404, `not found: metrics are at ${METRICS_PATH}\n`);
  if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
  metrics.scrape().then(
    ({ contentType, body }) => {
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': contentType });
      res.end(req.method === 'HEAD' ? undefined : body);
    },
    (e: unknown) => failed(res, e, 'collecting metrics failed: '),
  ).catch((e: unknown) => failed(res, e));
}

/** An answer that ends the connection: a client sending what we refuse gets no second request. */
function refuse(res: http.ServerResponse, status: number, text: string, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...headers, 'content-type': TEXT, connection: 'close' }).end(text);
}

function failed(res: http.ServerResponse, e: unknown, prefix = 'internal error: '): void {
  try {
    if (res.headersSent || res.destroyed) res.destroy();
    else refuse(res, 500, `${prefix}${e instanceof Error ? e.message : String(e)}\n`);
  } catch {
    res.destroy();
  }
}

const CLIENT_ERROR_RESPONSES: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/**
 * What node's default does, made explicit (with a listener node does nothing itself): a request
 * the parser rejects, or headers that came too slowly, gets a status line when nothing of a
 * response was sent on the socket yet; the socket is then destroyed.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  try {
    // node's own check: the response in flight on this socket, if any (not in the typings)
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
    if (err.code !== 'ECONNRESET' && socket.writable && inFlight?.headersSent !== true) {
      const status = CLIENT_ERROR_RESPONSES[err.code ?? ''] ?? '400 Bad Request';
      socket.write(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    }
  } catch {
    // the socket went while we answered: destroyed below all the same
  }
  socket.destroy();
}

function rateLimited(say: ((text: string) => void) | undefined): { say(text: string): void } {
  let lastAt = -Infinity;
  let held = 0;
  return {
    say(text) {
      const now = Date.now();
      if (now - lastAt < NOTICE_EVERY_MS) {
        held++;
        return;
      }
      lastAt = now;
      say?.(held > 0 ? `${text} (and ${held} more such events in the last minute or more)` : text);
      held = 0;
    },
  };
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
