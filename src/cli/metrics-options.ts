// The metrics flags of `watch` and `serve` (src/views/metrics holds what they drive).
import { Command, InvalidArgumentError, Option } from 'commander';
import { isSockwatchError } from '../errors';
import { DEFAULT_METRICS_HOST, DEFAULT_METRICS_PORT, parseMetricsAddress, type MetricsAddress } from '../views/metrics/metrics-address';

/** Named peer series beyond this would defeat the point of bounding them. */
export const MAX_METRICS_PEERS = 1000;

export const DEFAULT_METRICS_ADDRESS = `${DEFAULT_METRICS_HOST}:${DEFAULT_METRICS_PORT}`;

export interface MetricsFlags {
  metrics?: MetricsAddress;
  metricsPeers?: number;
}

function addressArg(text: string): MetricsAddress {
  try {
    return parseMetricsAddress(text);
  } catch (e) {
    throw new InvalidArgumentError(isSockwatchError(e) ? `${e.message}.` : String(e));
  }
}

function peersArg(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > MAX_METRICS_PEERS) throw new InvalidArgumentError(`expected a whole number from 0 to ${MAX_METRICS_PEERS}.`);
  return n;
}

/** `serve`: the endpoint is the point, so it has a default address. */
export function metricsOptions(cmd: Command, serving = false): Command {
  const address = new Option('--metrics <addr>', `serve Prometheus metrics at http://<addr>/metrics: host:port, :port (host ${DEFAULT_METRICS_HOST}), [::1]:port; 0.0.0.0:port or [::]:port for all interfaces`).argParser(addressArg);
  if (serving) address.default(parseMetricsAddress(DEFAULT_METRICS_ADDRESS), DEFAULT_METRICS_ADDRESS);
  return cmd
    .addOption(address)
    .addOption(new Option('--metrics-peers <n>', 'also export per-peer series for up to n peers (remote endpoints), the rest as peer="other"').argParser(peersArg));
}

/** Options `serve` inherits from the watch options but has no use for (no screen). */
export function hideOptions(cmd: Command, longs: readonly string[]): Command {
  for (const o of cmd.options) if (o.long !== undefined && longs.includes(o.long)) o.hideHelp();
  return cmd;
}
