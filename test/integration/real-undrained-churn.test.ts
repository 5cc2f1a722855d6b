// Real software, case 3 of issue 9: a Go net/http client that closes every response body
// without reading it, every 250 ms. net/http cannot reuse such a connection, so each request
// opens a new one that lives well under a millisecond: between two polls at any interval.
// Truth: the client's httptrace (reused=false on every request, with its time) and nginx's log.
//
// The watch (`--duration 11s`) runs inside the client's loop, so the truth for the watched span is
// the client's connections whose request time falls inside it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sleep } from '../helpers/cli';
import { Checks } from '../helpers/checks';
import { killAllGoClients, startGoClient, type GoClient } from '../helpers/go-client';
import { readAccessLog, requestsPerConnection } from '../helpers/nginx-access-log';
import { startNginx, stopAllNginx, type Nginx } from '../helpers/nginx';
import { isRoot, NOBODY, requireTools } from '../helpers/real-tools';
import { findingSpan, ratePerMinute, watchSpan, within } from '../helpers/truth-window';
import { describeWatch, ownerUnknownCount, startWatch, summaryFinding, summaryOf, type SockEvent, stopAllWatches } from '../helpers/watch-events';

after(async () => {
  stopAllWatches();
  killAllGoClients();
  await stopAllNginx();
});

const INTERVAL_MS = 250;

async function churnUnderWatch(user?: { uid: number; gid: number }, extraArgs: string[] = []): Promise<{ nginx: Nginx; client: GoClient; events: SockEvent[] }> {
  requireTools('nginx', 'go');
  const nginx = await startNginx();
  const client = await startGoClient({ url: nginx.url('/'), mode: 'undrained', intervalMs: INTERVAL_MS, durationMs: 24_000, ...(user ? { user } : {}) });
  client.go();
  await sleep(600);
  const watch = startWatch(client.pid, ['--duration', '11s', ...extraArgs], user ? { user } : {});
  const { result, events } = await watch.finish();
  client.kill();
  await client.exited;
  assert.equal(result.code, 0, result.stderr);

  // The truth: every request had a connection of its own, which nginx saw carry one request.
  assert.deepEqual(client.errors, []);
  assert.ok(client.requests.length >= 40, `the client made ${client.requests.length} requests`);
  assert.ok(client.requests.every((r) => !r.reused), 'the client never reused a connection');
  // (local ports may repeat: the kernel can hand a closed connection's port to a later one when the
  // server closed first and no TIME_WAIT holds it; each request still had a new connection)
  const perConn = requestsPerConnection(readAccessLog(nginx.accessLog));
  assert.ok(perConn.every((c) => c.requests === 1), 'nginx saw one request per connection');
  return { nginx, client, events };
}

describe('a Go client closing undrained bodies every 250 ms (sub-millisecond connections)', { concurrency: 2 }, () => {
  it('as root with eBPF: churn at the client rate (±10 %), opened = its connections (±5 %)', async () => {
    assert.ok(isRoot(), 'this case needs root (eBPF); the test suite runs as root in CI');
    // --brief ebpf: fails rather than falling back to destroy notifications (owner unknown)
    const { client, events } = await churnUnderWatch(undefined, ['--brief', 'ebpf']);
    const checks = new Checks();
    const summary = summaryOf(events);
    const opens = client.requests.map((r) => r.atMs);
    const watched = ratePerMinute(opens, watchSpan(events));
    checks.check(within(summary.opened, watched.count, 0.05), `opened ${String(summary.opened)} vs ${watched.count} connections the client opened while watched`);
    const churn = summaryFinding(events, 'churn');
    if (churn === undefined) {
      checks.check(false, `a churn finding in the summary (truth: ${watched.perMinute.toFixed(0)}/min)`);
    } else {
      const span = findingSpan(churn, events);
      const truth = ratePerMinute(opens, span);
      checks.check(
        within(churn.perMinute, truth.perMinute, 0.1),
        `churn perMinute ${String(churn.perMinute)} vs ${truth.perMinute.toFixed(1)} (client connections over ${span.source})`,
      );
    }
    checks.assertAll(describeWatch(events));
  });

  it('without root: reported as brief connections of unknown owner to that remote (±5 %), not as the target\'s', async () => {
    const { nginx, client, events } = await churnUnderWatch(NOBODY);
    const checks = new Checks();
    const summary = summaryOf(events);
    const watched = ratePerMinute(client.requests.map((r) => r.atMs), watchSpan(events));
    // Without root no brief connection's owner is proven: each is either "owner unknown" or, once
    // the polls have seen the client talk to nginx, counted apart as likely the client's.
    const unknown = ownerUnknownCount(summary, { address: '127.0.0.1', port: nginx.port });
    const likely = typeof summary.likelyBrief === 'number' ? summary.likelyBrief : 0;
    checks.check(
      within((unknown ?? 0) + likely, watched.count, 0.05),
      `brief connections to 127.0.0.1:${nginx.port} of unknown owner (${String(unknown)}) or likely the client's (${likely}) vs ${watched.count} the client opened while watched`,
    );
    // A poll may catch one alive (then it is rightly the target's); the rest must not be counted.
    checks.check(
      typeof summary.opened === 'number' && summary.opened <= watched.count * 0.05,
      `opened ${String(summary.opened)}: brief connections nobody can attribute are not the target's`,
    );
    checks.assertAll(describeWatch(events));
  });
});
