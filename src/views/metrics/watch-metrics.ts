// The metrics endpoint of one watch, as the CLI plugs it in: listen first, wrap the source to time
// its polls, follow the session, close on the way out.
import { performance } from 'node:perf_hooks';
import type { Source } from '../../sources/source';
import type { WatchSession } from '../session-types';
import { SockwatchMetrics } from './sockwatch-metrics';
import { instrumentSource } from './instrumented-source';
import { startMetricsServer } from './metrics-server';
import type { MetricsAddress } from './metrics-address';

export interface WatchMetricsOptions {
  /** the `target` label */
  target: string;
  address: MetricsAddress;
  /** named per-peer series (0: none) */
  peers: number;
  /** one line about the endpoint itself (connections refused at the cap) */
  notice?: (text: string) => void;
}

export interface WatchMetrics {
  readonly metrics: SockwatchMetrics;
  /** where it answers, e.g. http://127.0.0.1:9464/metrics */
  readonly url: string;
  /** the source, timed for sockwatch_poll_duration_seconds */
  instrument(source: Source): Source;
  /** follow the session; subscribe before other views so their work is not counted as the poll's */
  attach(session: WatchSession): void;
  close(): Promise<void>;
}

/** Resolves once listening; rejects (one line) when the address is taken, before anything else has started. */
export async function startWatchMetrics(o: WatchMetricsOptions): Promise<WatchMetrics> {
  const metrics = new SockwatchMetrics({ target: o.target, peers: o.peers });
  const server = await startMetricsServer(o.address, metrics, o.notice ? { notice: o.notice } : {});
  let detach: (() => void) | undefined;
  return {
    metrics,
    url: server.url,
    instrument: (source) => instrumentSource(source, metrics, () => performance.now()),
    attach(session) {
      detach?.();
      detach = metrics.attach(session);
    },
    async close() {
      detach?.();
      await server.close();
    },
  };
}
