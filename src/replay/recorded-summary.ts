// The part of a recording's `summary` line that replay and report read, copied out of the parsed
// line: counters, lifetime percentiles, the connections still live and the findings, each field a
// number, a short string or a list of ids. What a forged summary nests deeper (a million-level
// array under `opened`) or adds is left behind, so nothing later walks or stringifies it.
import { MAX_CHARS, MAX_FINDING_IDS, clip } from './recording-limits';

type Obj = Record<string, unknown>;

/** Keys copied from one summary object: the summary check compares a finding's fields by name. */
const MAX_KEYS = 32;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value with nothing under it: a finite number, a boolean, null, a string (cut), or a list of ids. */
function leaf(v: unknown): unknown {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') return clip(v, MAX_CHARS.text);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.slice(0, MAX_FINDING_IDS).map((x: string) => clip(x, MAX_CHARS.word));
  return undefined;
}

/** The leaves of `o` (all of them, or those named), never more than MAX_KEYS. */
function leaves(o: Obj, names?: readonly string[]): Obj {
  const out: Obj = {};
  let n = 0;
  for (const k of names ?? Object.keys(o)) {
    if (n >= MAX_KEYS) break;
    // own keys only: `__proto__` or `constructor` in the file are data, never the prototype
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    const v = leaf(o[k]);
    if (v === undefined) continue;
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    n++;
  }
  return out;
}

function connection(v: unknown): Obj | undefined {
  if (!isObj(v)) return undefined;
  const c = leaves(v, ['id', 'state', 'exchanges', 'lifetimeMs', 'preexisting']);
  if (isObj(v.tcp)) c.tcp = leaves(v.tcp, ['bytesSent', 'bytesReceived']);
  return c;
}

/** `maxItems`: connections and findings kept (no more than the events a recording may hold). */
export function recordedSummary(v: Obj, maxItems: number): Obj {
  const s = leaves(v, ['time', 'pid', 'opened', 'closed', 'peak', 'durationMs']);
  s.lifetimeMs = isObj(v.lifetimeMs) ? leaves(v.lifetimeMs, ['p50', 'p95', 'max']) : null;
  const list = (x: unknown, each: (e: unknown) => Obj | undefined): Obj[] =>
    (Array.isArray(x) ? x.slice(0, maxItems) : []).map(each).filter((e): e is Obj => e !== undefined);
  s.connections = list(v.connections, connection);
  s.findings = list(v.findings, (f) => (isObj(f) ? leaves(f) : undefined));
  return s;
}
