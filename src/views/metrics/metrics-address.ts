// `--metrics <addr>`: where the Prometheus endpoint listens. Loopback unless the user names another
// interface: a bare port must never expose a process's connections to the network.
import { isIP } from 'node:net';
import { SockwatchError } from '../../errors';

export const DEFAULT_METRICS_HOST = '127.0.0.1';
export const DEFAULT_METRICS_PORT = 9464;

export interface MetricsAddress {
  /** numeric address or host name, IPv6 without brackets */
  host: string;
  /** 0: any free port (the CLI prints the one it got) */
  port: number;
}

/** "127.0.0.1:9464", ":9464", "9464", "0.0.0.0:9464", "[::]:9464", "[::1]:9464", "localhost:9464". */
export function parseMetricsAddress(text: string): MetricsAddress {
  const s = text.trim();
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2]!;
    if (isIP(host) !== 6) throw invalid(text, `"${host}" is not an IPv6 address`);
  } else if (/^\d+$/.test(s)) {
    host = DEFAULT_METRICS_HOST;
    portText = s;
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) throw invalid(text, 'expected host:port or :port');
    host = s.slice(0, colon) || DEFAULT_METRICS_HOST;
    portText = s.slice(colon + 1);
    if (host.includes(':')) throw invalid(text, 'write an IPv6 address in brackets, e.g. [::1]:9464');
    if (!/^[A-Za-z0-9.-]+$/.test(host)) throw invalid(text, `"${host}" is not a host name or address`);
  }
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) throw invalid(text, 'the port must be 0-65535');
  return { host, port: Number(portText) };
}

/** "127.0.0.1:9464", "[::1]:9464" */
export function formatMetricsAddress(a: MetricsAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function invalid(text: string, why: string): SockwatchError {
  return new SockwatchError('invalid_argument', `invalid metrics address "${text}": ${why}`);
}
