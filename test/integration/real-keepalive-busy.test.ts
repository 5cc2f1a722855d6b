// Real software, case 2 of issue 9: one keep-alive connection carrying ≥ 200 requests/s. A Go
// net/http client (draining bodies) loops at 400 requests/s through nginx, which forwards each
// request to a backend nginx over its upstream keep-alive pool. Two watches run at once at the
// default interval: one on the client, one on the front nginx (one process: master_process off),
// which holds both the accepted client connection and its upstream connections. Truth: nginx's
// $connection_requests on the front (client connection) and on the backend (upstream connections,
// matched by port), and the client's own counts.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { killAllGoClients, startGoClient } from '../helpers/go-client';
import { readAccessLog, requestsPerConnection, type ConnectionRequests } from '../helpers/nginx-access-log';
import { startNginx, stopAllNginx } from '../helpers/nginx';
import { requireTools } from '../helpers/real-tools';
import {
  connectionsSeen,
  describeWatch,
  exchangesTolerance,
  findingsSeen,
  startWatch,
  stopAllWatches,
  summaryFinding,
  tupleKey,
  type SockEvent,
} from '../helpers/watch-events';
import { runAb } from '../helpers/ab';
import { Checks } from '../helpers/checks';

after(async () => {
  stopAllWatches();
  killAllGoClients();
  await stopAllNginx();
});

const RATE_PER_S = 400;
const LOOP_MS = 5_000;

function checkExchanges(checks: Checks, events: SockEvent[], key: string, truth: ConnectionRequests, what: string): void {
  const seen = connectionsSeen(events).get(key);
  checks.check(
    seen?.exchanges !== undefined && Math.abs(seen.exchanges - truth.requests) <= exchangesTolerance(truth.requests),
    `${what} ${key}: exchanges ${seen ? String(seen.exchanges) : '(connection not reported)'} vs ${truth.requests} requests (nginx $connection_requests)`,
  );
}

function checkReuseNotChurn(checks: Checks, events: SockEvent[], who: string): void {
  checks.check(summaryFinding(events, 'reuse') !== undefined, `${who}: a reuse finding in the summary`);
  const churn = findingsSeen(events).filter((f) => f.kind === 'churn');
  checks.check(churn.length === 0, `${who}: never churn (${churn.length} churn findings: ${JSON.stringify(churn.map((f) => f.data.message))})`);
}

describe('connections carrying ≥ 200 req/s: exchanges within ±10 % of nginx $connection_requests on every connection, reuse, never churn', { concurrency: 2 }, () => {
  it('a Go client at 400 req/s through nginx and its upstream keep-alive pool (client and nginx watched)', async () => {
    requireTools('nginx', 'go');
    const backend = await startNginx({ masterProcess: false });
    const front = await startNginx({ masterProcess: false, upstream: { port: backend.port, keepalive: 4 } });
    const client = await startGoClient({
      url: front.url('/proxy/'),
      mode: 'keepalive',
      intervalMs: 1000 / RATE_PER_S,
      durationMs: LOOP_MS,
      holdMs: 1_500,
      quiet: true,
    });
    const onClient = startWatch(client.pid, []);
    const onNginx = startWatch(front.pid, []);
    await Promise.all([onClient.started, onNginx.started]);
    client.go();
    const done = await client.done;
    await client.exited;
    await onNginx.polledAfter(Date.now()); // one more poll of nginx after the client left
    onNginx.interrupt();
    const [c, n] = await Promise.all([onClient.finish(), onNginx.finish()]);
    assert.equal(c.result.code, 0, c.result.stderr);
    assert.equal(n.result.code, 0, n.result.stderr);

    // The truth: one client connection, busy enough, and nginx's per-connection counts on both hops.
    assert.deepEqual(client.errors, []);
    assert.equal(done.newConnections, 1, 'the client kept one connection');
    const perSecond = done.requests / ((done.endMs - done.startMs) / 1000);
    assert.ok(perSecond >= 200, `the client made ${perSecond.toFixed(0)} requests/s, the case needs ≥ 200`);
    const frontConns = requestsPerConnection(readAccessLog(front.accessLog));
    assert.equal(frontConns.length, 1, 'nginx accepted one client connection');
    const clientConn = frontConns[0] as ConnectionRequests;
    assert.equal(clientConn.requests, done.requests, "nginx's count agrees with the client's");
    const upstreamConns = requestsPerConnection(readAccessLog(backend.accessLog));
    assert.ok(upstreamConns.length >= 1);
    assert.equal(upstreamConns.reduce((s, u) => s + u.requests, 0), done.requests, 'every request went upstream');

    // The client's view of its connection, then nginx's view of both hops.
    const ep = (port: number) => ({ address: '127.0.0.1', port });
    const checks = new Checks();
    checkExchanges(checks, c.events, tupleKey(ep(clientConn.remotePort), ep(front.port)), clientConn, 'watching the client: its connection');
    checkExchanges(checks, n.events, tupleKey(ep(front.port), ep(clientConn.remotePort)), clientConn, 'watching nginx: the accepted connection');
    for (const u of upstreamConns) {
      checkExchanges(checks, n.events, tupleKey(ep(u.remotePort), ep(backend.port)), u, 'watching nginx: upstream connection');
    }
    checkReuseNotChurn(checks, c.events, 'watching the client');
    checkReuseNotChurn(checks, n.events, 'watching nginx');
    checks.assertAll(`watching the client:\n${describeWatch(c.events)}\n\nwatching nginx:\n${describeWatch(n.events)}`);
  });

  it('ab -k -c 2 at 500 req/s against a watched nginx (250 req/s per connection)', async () => {
    requireTools('nginx', 'ab');
    const nginx = await startNginx({ masterProcess: false, requestsPerSecond: 500 });
    const watch = startWatch(nginx.pid, []);
    await watch.started;
    const ab = await runAb({ url: nginx.url('/'), requests: 2500, concurrency: 2, keepAlive: true });
    await watch.polledAfter(Date.now()); // one more poll after ab's last request
    watch.interrupt();
    const { result, events } = await watch.finish();
    assert.equal(result.code, 0, result.stderr);

    assert.equal(ab.completeRequests, 2500, ab.stdout);
    assert.equal(ab.failedRequests, 0, ab.stdout);
    assert.equal(ab.keepAliveRequests, 2500, ab.stdout);
    const conns = requestsPerConnection(readAccessLog(nginx.accessLog));
    assert.equal(conns.length, 2, 'ab kept two connections');
    for (const c of conns) {
      const perSecond = c.requests / ((c.lastMs - c.firstMs) / 1000);
      assert.ok(perSecond >= 200, `a connection carried ${perSecond.toFixed(0)} requests/s, the case needs ≥ 200`);
    }

    const ep = (port: number) => ({ address: '127.0.0.1', port });
    const checks = new Checks();
    for (const c of conns) checkExchanges(checks, events, tupleKey(ep(nginx.port), ep(c.remotePort)), c, 'watching nginx: accepted connection');
    checkReuseNotChurn(checks, events, 'watching nginx');
    checks.assertAll(describeWatch(events));
  });
});
