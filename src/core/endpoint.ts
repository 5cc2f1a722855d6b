import type { Endpoint } from '../model';

/** "10.0.0.1:80", and "[::1]:80" for IPv6 (any address with a colon, including ::ffff:a.b.c.d). */
export function formatEndpoint(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}
