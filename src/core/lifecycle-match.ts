// How between-poll evidence (lifecycle-types.ts) is matched to the sockets the polls saw, and the
// rule that attributes a never-seen connection to the target. Pure helpers for tracker.ts.
import type { Endpoint } from '../model';

/** An IPv4-mapped IPv6 address and its IPv4 form are one address (a dual-stack listener reports either). */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/**
 * The identity of a socket by its endpoints, family-blind for IPv4-mapped addresses:
 * "a:port|b:port". Built by join, which makes one flat string: concatenation leaves a tree of
 * string pieces, several times the size, and the tracker keeps one of these per live socket.
 */
export function tupleKey(local: Endpoint, remote: Endpoint): string {
  return [plainAddress(local.address), ':', local.port, '|', plainAddress(remote.address), ':', remote.port].join('');
}

/** An endpoint as one string, family-blind like tupleKey: "a.b.c.d:port" or "[v6]:port". */
export function remoteKey(e: Endpoint): string {
  const a = plainAddress(e.address);
  return a.includes(':') ? `[${a}]:${e.port}` : `${a}:${e.port}`;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

/** The target's listening sockets, by port: what inbound connections it accepts. */
export class ListenerIndex {
  private readonly byPort = new Map<number, string[]>();

  add(local: Endpoint): void {
    const list = this.byPort.get(local.port);
    const a = plainAddress(local.address);
    if (list === undefined) this.byPort.set(local.port, [a]);
    else if (!list.includes(a)) list.push(a);
  }

  get size(): number {
    return this.byPort.size;
  }

  /** a socket with this local endpoint was accepted on one of the listeners (same address or a wildcard) */
  accepts(local: Endpoint): boolean {
    const list = this.byPort.get(local.port);
    if (list === undefined) return false;
    const a = plainAddress(local.address);
    return list.some((l) => l === a || WILDCARDS.has(l));
  }
}

/**
 * Sockets the polls saw close (by tuple, with their cookie when known), remembered for a while: a
 * destroy notification can come well after the fd closed (an orphaned socket lingers in FIN_WAIT2
 * up to tcp_fin_timeout, 60 s by default) and must not then count as a new, brief connection.
 */
export class RecentSockets {
  /** tuple → when it closed and its cookie; Map order is insertion order, i.e. time order */
  private readonly byTuple = new Map<string, { atMs: number; cookie: string | undefined }>();
  private readonly cookies = new Set<string>();

  constructor(
    private readonly keepMs: number,
    private readonly max: number,
  ) {}

  add(tuple: string, cookie: string | undefined, atMs: number): void {
    this.drop(tuple);
    this.byTuple.set(tuple, { atMs, cookie });
    if (cookie !== undefined) this.cookies.add(cookie);
    if (this.byTuple.size > this.max) {
      const oldest = this.byTuple.keys().next();
      if (oldest.done !== true) this.drop(oldest.value);
    }
  }

  /**
   * The same socket: its cookie, or its tuple unless both cookies are known and differ, or the
   * asking socket started (`startedAtMs`, where evidence knows it) after this one closed: then it
   * is a later life of the tuple (a client reusing its port), whatever the cookies say.
   */
  has(tuple: string, cookie: string | undefined, startedAtMs?: number): boolean {
    if (cookie !== undefined && this.cookies.has(cookie)) return true;
    const e = this.byTuple.get(tuple);
    if (e === undefined || (startedAtMs !== undefined && startedAtMs >= e.atMs)) return false;
    return e.cookie === undefined || cookie === undefined || e.cookie === cookie;
  }

  hasTuple(tuple: string): boolean {
    return this.byTuple.has(tuple);
  }

  /** forget sockets closed more than keepMs ago */
  expire(nowMs: number): void {
    for (const [tuple, e] of this.byTuple) {
      if (e.atMs > nowMs - this.keepMs) break;
      this.drop(tuple);
    }
  }

  clear(): void {
    this.byTuple.clear();
    this.cookies.clear();
  }

  private drop(tuple: string): void {
    const e = this.byTuple.get(tuple);
    if (e === undefined) return;
    this.byTuple.delete(tuple);
    if (e.cookie !== undefined) this.cookies.delete(e.cookie);
  }
}

/** Counts per key, at most `max` keys; the rest are summed under `other`. */
export class BoundedCounts {
  private readonly counts = new Map<string, number>();
  other = 0;

  constructor(private readonly max: number) {}

  add(key: string): void {
    const n = this.counts.get(key);
    if (n !== undefined) this.counts.set(key, n + 1);
    else if (this.counts.size < this.max) this.counts.set(key, 1);
    else this.other++;
  }

  top(limit: number): { key: string; count: number }[] {
    return [...this.counts]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, limit)
      .map(([key, count]) => ({ key, count }));
  }

  clear(): void {
    this.counts.clear();
    this.other = 0;
  }
}

/** What TupleIndex keeps: something with a socket's endpoints. */
export interface HasEndpoints {
  readonly connection: { readonly local: Endpoint; readonly remote: Endpoint };
}

/**
 * Items by tupleKey() of their endpoints, at most one per tuple (the first added keeps it until
 * removed), without keeping the key strings: by the two ports (a small integer), then the
 * addresses compared as tupleKey() would. The tracker holds one entry per live socket and looks
 * up only the few sockets between-poll evidence names.
 */
export class TupleIndex<T extends HasEndpoints> {
  /** ports → the item, or the items whose tuples share those ports */
  private readonly byPorts = new Map<number, T | T[]>();

  /** adds `item` unless an item with its tuple is already there */
  addIfAbsent(item: T): void {
    const { local, remote } = item.connection;
    const key = portsKey(local, remote);
    const held = this.byPorts.get(key);
    if (held === undefined) {
      this.byPorts.set(key, item);
    } else if (Array.isArray(held)) {
      if (!held.some((h) => sameTupleKey(h.connection.local, h.connection.remote, local, remote))) held.push(item);
    } else if (!sameTupleKey(held.connection.local, held.connection.remote, local, remote)) {
      this.byPorts.set(key, [held, item]);
    }
  }

  get(local: Endpoint, remote: Endpoint): T | undefined {
    const held = this.byPorts.get(portsKey(local, remote));
    if (held === undefined) return undefined;
    if (!Array.isArray(held)) return sameTupleKey(held.connection.local, held.connection.remote, local, remote) ? held : undefined;
    return held.find((h) => sameTupleKey(h.connection.local, h.connection.remote, local, remote));
  }

  has(local: Endpoint, remote: Endpoint): boolean {
    return this.get(local, remote) !== undefined;
  }

  /** removes `item` itself, if it is the one held for its tuple */
  delete(item: T): void {
    const key = portsKey(item.connection.local, item.connection.remote);
    const held = this.byPorts.get(key);
    if (held === item) {
      this.byPorts.delete(key);
    } else if (Array.isArray(held)) {
      const i = held.indexOf(item);
      if (i < 0) return;
      held.splice(i, 1);
      if (held.length === 1) this.byPorts.set(key, held[0]!);
    }
  }

  clear(): void {
    this.byPorts.clear();
  }
}

/** both ports in one small integer (a tag for the map, not an identity: the tuple is compared) */
function portsKey(local: Endpoint, remote: Endpoint): number {
  return ((local.port & 0xffff) << 16) | (remote.port & 0xffff);
}

/** tupleKey(a, b) === tupleKey(c, d), without building either */
function sameTupleKey(a: Endpoint, b: Endpoint, c: Endpoint, d: Endpoint): boolean {
  return (
    samePort(a.port, c.port) &&
    samePort(b.port, d.port) &&
    plainAddress(a.address) === plainAddress(c.address) &&
    plainAddress(b.address) === plainAddress(d.address)
  );
}

/** String(x) === String(y) for numbers */
function samePort(x: number, y: number): boolean {
  return x === y || (Number.isNaN(x) && Number.isNaN(y));
}
