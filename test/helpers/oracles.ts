// Whole-input versions of src's incremental functions, for tests to compare against: sockwatch
// itself never needs them (it counts exchanges poll by poll and decodes only the rows it wants).
import type { Connection, Protocol } from '../../src/model';
import { firstExchangeState, nextExchangeState, type ExchangeSample, type ExchangeState } from '../../src/core/exchanges';
import { parseNetTcpLine } from '../../src/sources/procfs/parse-net-tcp';
import { formatIpv4Bytes, formatIpv6Groups, parseIpv4Text, parseIpv6Text } from '../../src/sources/procfs/ip-format';

/** Exchanges in a series of samples (one per poll), as the tracker counts them. */
export function countExchanges(samples: readonly ExchangeSample[]): number {
  let state: ExchangeState | undefined;
  for (const s of samples) state = state === undefined ? firstExchangeState(s) : nextExchangeState(state, s);
  return state?.count ?? 0;
}

/** Every row of a /proc/net/tcp{,6} table. */
export function parseNetTcp(text: string, protocol: Protocol): Connection[] {
  const rows: Connection[] = [];
  for (const line of text.split('\n')) {
    const conn = parseNetTcpLine(line, protocol);
    if (conn) rows.push(conn);
  }
  return rows;
}

/** Any address text → the model's spelling; unparseable text is returned as is. */
export function normalizeAddressText(text: string): string {
  const v4 = parseIpv4Text(text);
  if (v4) return formatIpv4Bytes(v4[0], v4[1], v4[2], v4[3]);
  const v6 = parseIpv6Text(text);
  return v6 ? formatIpv6Groups(v6) : text;
}
