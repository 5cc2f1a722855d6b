// Which side opened a connection: `in` (the target accepted it) or `out` (the target connected).
// The kernel does not record it on the socket, so it is inferred, in this order:
// 1. a connection whose local endpoint is one the target listens on is `in` (its listening
//    sockets are in its fd table: LISTEN rows of the same snapshot, wildcard addresses included);
// 2. once decided, a connection keeps its direction (the listener may close while it lives);
// 3. a connection first seen after its listener is gone: `in` when its local port is outside the
//    kernel's ephemeral range and its remote port inside it, `out` otherwise (a client's local
//    port is ephemeral).
import { readFileSync } from 'node:fs';
import type { Connection, Endpoint } from '../model';

export type Direction = 'in' | 'out';

/** Linux's default net.ipv4.ip_local_port_range. */
export const DEFAULT_EPHEMERAL: readonly [number, number] = [32768, 60999];

/** The kernel's ephemeral range now (net.ipv4.ip_local_port_range), or Linux's default. */
export function ephemeralPorts(): readonly [number, number] {
  try {
    return parsePortRange(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')) ?? DEFAULT_EPHEMERAL;
  } catch {
    return DEFAULT_EPHEMERAL;
  }
}

export function parsePortRange(text: string): [number, number] | undefined {
  const m = /^\s*(\d{1,5})\s+(\d{1,5})\s*$/.exec(text);
  if (!m) return undefined;
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  return lo >= 1 && hi <= 65535 && lo <= hi ? [lo, hi] : undefined;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** Listening endpoints, keyed by port, for the rule above. */
export function listeningPorts(conns: readonly Connection[]): Map<number, Endpoint[]> {
  const out = new Map<number, Endpoint[]>();
  // index loops here and below: run at every poll over every connection
  for (let i = 0; i < conns.length; i++) {
    const c = conns[i]!;
    if (c.state !== 'LISTEN') continue;
    const list = out.get(c.local.port);
    if (list) list.push(c.local);
    else out.set(c.local.port, [c.local]);
  }
  return out;
}

/** An IPv4 connection accepted on an IPv6 wildcard listener shows its local address as ::ffff:a.b.c.d. */
function sameHost(listener: string, local: string): boolean {
  return WILDCARDS.has(listener) || listener === local || (local.startsWith('::ffff:') && listener === local.slice(7));
}

export function isListenedOn(local: Endpoint, listeners: ReadonlyMap<number, readonly Endpoint[]>): boolean {
  const list = listeners.get(local.port);
  if (list === undefined) return false;
  for (const l of list) if (sameHost(l.address, local.address)) return true;
  return false;
}

export function guessDirection(c: Connection, ephemeral: readonly [number, number]): Direction {
  const [lo, hi] = ephemeral;
  const local = c.local.port;
  const remote = c.remote.port;
  return !(local >= lo && local <= hi) && remote >= lo && remote <= hi ? 'in' : 'out';
}

/**
 * Sets `direction` on every non-LISTEN connection. `memory` (socket inode → direction) carries
 * rule 2 across polls; entries of sockets no longer present are dropped.
 */
export function assignDirections(
  conns: Connection[],
  memory: Map<number, Direction>,
  ephemeral: readonly [number, number] = DEFAULT_EPHEMERAL,
): void {
  const listeners = listeningPorts(conns);
  let remembered = 0;
  for (let i = 0; i < conns.length; i++) {
    const c = conns[i]!;
    if (c.state === 'LISTEN') continue;
    const known = c.inode > 0 ? memory.get(c.inode) : undefined;
    const d: Direction = isListenedOn(c.local, listeners) ? 'in' : (known ?? guessDirection(c, ephemeral));
    c.direction = d;
    if (c.inode > 0) {
      if (known !== d) memory.set(c.inode, d);
      remembered++;
    }
  }
  // Closed sockets to forget: only when some entry was not met above (a socket may appear twice,
  // so the count can only say "nothing to forget"). Steady polls of a large target skip the set.
  if (memory.size <= remembered) return;
  const present = new Set<number>();
  for (let i = 0; i < conns.length; i++) {
    const c = conns[i]!;
    if (c.state !== 'LISTEN' && c.inode > 0) present.add(c.inode);
  }
  memory.forEach((_d, inode) => {
    if (!present.has(inode)) memory.delete(inode);
  });
}
