import { TCP_STATES, type StateFilter, type TcpState } from '../model';

/**
 * "established", "all", or a comma list of state names, case-insensitive. Throws an Error whose
 * message is the usage error's text. Free of commander, so the snapshot fast path can use it.
 */
export function parseStateList(text: string): StateFilter {
  const parts = text.split(',').map((s) => s.trim().toUpperCase().replace(/-/g, '_')).filter(Boolean);
  if (parts.length === 0) throw new Error('expected "all" or a comma list of TCP states.');
  if (parts.includes('ALL')) return 'all';
  const set = new Set<TcpState>();
  for (const p of parts) {
    const known = TCP_STATES.find((s) => s === p);
    if (!known) throw new Error(`unknown state "${p}" (known: all, ${TCP_STATES.join(', ').toLowerCase()}).`);
    set.add(known);
  }
  return set;
}
