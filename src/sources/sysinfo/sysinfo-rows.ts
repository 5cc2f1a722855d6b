import type { Systeminformation } from 'systeminformation';
import { TCP_STATES, type Connection, type Endpoint, type Protocol, type TcpState } from '../../model';
import { formatIpv4Bytes, formatIpv6Groups, parseIpv4Text, parseIpv6Text } from '../procfs/ip-format';

// Pure mapping of systeminformation.networkConnections() rows to the model. Its rows come from
// `netstat -tunap` or, failing that, `ss -tunap` (Linux/BSD), `netstat -natvln` (macOS) or
// `netstat -nao` (Windows), each with its own spellings, normalised here:
// - protocol: 'tcp' | 'tcp6' (netstat), 'tcp' for both families (ss), 'tcp4' | 'tcp6' | 'tcp46' (macOS);
// - addresses: ss brackets IPv6 ("[::1]"), macOS may add a zone ("fe80::1%lo0"), wildcards are "*";
// - states: ESTAB, FIN-WAIT-1 (ss), FIN_WAIT_1, SYN_RECEIVED, CLOSED, LISTENING (macOS, Windows).
// Linux netstat prints IPv4-mapped addresses as plain IPv4 under 'tcp6'; they become
// ::ffff:a.b.c.d again, as procfs reports them. ss prints a dual-stack listener as "*", which is
// indistinguishable from an IPv4 one and becomes 0.0.0.0.
// Linux netstat without -W truncates long IPv6 addresses; such rows keep the text they have.

const STATE_ALIASES: Readonly<Record<string, TcpState>> = {
  ESTAB: 'ESTABLISHED',
  SYN_RECEIVED: 'SYN_RECV',
  FIN_WAIT_1: 'FIN_WAIT1',
  FIN_WAIT_2: 'FIN_WAIT2',
  CLOSED: 'CLOSE',
  LISTENING: 'LISTEN',
};

const KNOWN_STATES: ReadonlySet<string> = new Set(TCP_STATES);

function isTcpState(name: string): name is TcpState {
  return KNOWN_STATES.has(name);
}

/** Any of the spellings above → our state name; undefined for UNKNOWN and the like. */
export function tcpStateFromName(name: string): TcpState | undefined {
  const n = name.trim().toUpperCase().replace(/-/g, '_');
  return isTcpState(n) ? n : STATE_ALIASES[n];
}

function parsePort(text: string): number | undefined {
  if (text === '*' || text === '') return 0;
  if (!/^\d+$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 0xffff ? port : undefined;
}

type Family = 4 | 6 | 'wildcard';

function endpoint(
  address: string,
  portText: string,
  v4IsMapped: boolean,
): { endpoint: Endpoint; family: Family } | undefined {
  const port = parsePort(portText);
  if (port === undefined) return undefined;
  const text = address.trim();
  if (text === '*' || text === '') return { endpoint: { address: text, port }, family: 'wildcard' };
  const v4 = parseIpv4Text(text);
  if (v4) {
    const dotted = formatIpv4Bytes(v4[0], v4[1], v4[2], v4[3]);
    return v4IsMapped
      ? { endpoint: { address: `::ffff:${dotted}`, port }, family: 6 }
      : { endpoint: { address: dotted, port }, family: 4 };
  }
  const v6 = parseIpv6Text(text);
  // unparseable (truncated) text is kept rather than dropping the connection
  return { endpoint: { address: v6 ? formatIpv6Groups(v6) : text, port }, family: 6 };
}

function resolveWildcard(e: Endpoint, protocol: Protocol): Endpoint {
  if (e.address !== '*' && e.address !== '') return e;
  return { address: protocol === 'tcp6' ? '::' : '0.0.0.0', port: e.port };
}

/** One row → a Connection (inode 0, fd and kernel details absent); undefined for non-TCP rows. */
export function connectionFromSysinfo(row: Systeminformation.NetworkConnectionsData): Connection | undefined {
  const proto = String(row.protocol ?? '').toLowerCase();
  if (!proto.startsWith('tcp')) return undefined;
  const state = tcpStateFromName(String(row.state ?? ''));
  const v4IsMapped = proto === 'tcp6';
  const local = endpoint(String(row.localAddress ?? ''), String(row.localPort ?? ''), v4IsMapped);
  const remote = endpoint(String(row.peerAddress ?? ''), String(row.peerPort ?? ''), v4IsMapped);
  if (!state || !local || !remote) return undefined;
  // the address decides the family (ss says 'tcp' for both); '*' falls back to the protocol name
  const family = local.family !== 'wildcard' ? local.family : remote.family !== 'wildcard' ? remote.family : undefined;
  const protocol: Protocol = family === 6 || (family === undefined && proto.endsWith('6')) ? 'tcp6' : 'tcp';
  return {
    protocol,
    local: resolveWildcard(local.endpoint, protocol),
    remote: resolveWildcard(remote.endpoint, protocol),
    state,
    // systeminformation cannot tell the inode; the model requires one, and connectionKey stays
    // unique through the 4-tuple (a TCP 4-tuple names one connection at a time)
    inode: 0,
  };
}
