// Real software, case 1 of issue 9: a Go net/http client that drains and closes every body,
// one request every 500 ms, watched at the default interval (1 s). Truth: the client's own
// httptrace (one new connection, the rest reused) and nginx's $connection_requests.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { killAllGoClients, startGoClient } from '../helpers/go-client';
import { readAccessLog, requestsPerConnection } from '../helpers/nginx-access-log';
import { startNginx, stopAllNginx } from '../helpers/nginx';
import { requireTools } from '../helpers/real-tools';
import { Checks } from '../helpers/checks';
import {
  connectionsSeen,
  describeWatch,
  exchangesTolerance,
  startWatch,
  stopAllWatches,
  summaryFinding,
  summaryOf,
} from '../helpers/watch-events';

after(async () => {
  stopAllWatches();
  killAllGoClients();
  await stopAllNginx();
});

const REQUESTS = 16;

test('Go keep-alive client at 2 req/s, default --interval: one connection, exchanges = its requests (±1), a reuse finding', async () => {
  requireTools('nginx', 'go');
  const nginx = await startNginx();
  // After the last request the client closes its idle connection, then stays 1.5 s so sockwatch
  // sees the close (with its exchanges) before the exit.
  const client = await startGoClient({ url: nginx.url('/'), mode: 'keepalive', intervalMs: 500, count: REQUESTS, holdMs: 1_500 });
  const watch = startWatch(client.pid, []);
  await watch.started;
  client.go();
  const done = await client.done;
  await client.exited;
  const { result, events } = await watch.finish();
  assert.equal(result.code, 0, result.stderr);

  // The truth, from the client and from nginx.
  assert.deepEqual(client.errors, []);
  assert.equal(done.requests, REQUESTS);
  assert.equal(done.newConnections, 1, 'the client reused its one connection');
  assert.equal(done.dials, 1);
  const clientPort = client.requests[0]?.localPort;
  assert.ok(client.requests.every((r) => r.localPort === clientPort));
  const perConn = requestsPerConnection(readAccessLog(nginx.accessLog));
  assert.equal(perConn.length, 1, 'nginx saw one connection');
  assert.equal(perConn[0]?.remotePort, clientPort);
  const truth = perConn[0]?.requests ?? 0;
  assert.equal(truth, REQUESTS, "nginx's $connection_requests");

  // What sockwatch said.
  const summary = summaryOf(events);
  const toNginx = [...connectionsSeen(events).values()].filter((c) => c.remote.port === nginx.port);
  const conn = toNginx[0];
  const checks = new Checks();
  checks.check(toNginx.length === 1 && conn?.local.port === clientPort, `connections to nginx: ${toNginx.length} vs 1 (the client's, port ${String(clientPort)})`);
  checks.check(summary.opened === 1, `opened ${String(summary.opened)} vs 1`);
  checks.check(
    conn?.exchanges !== undefined && Math.abs(conn.exchanges - truth) <= exchangesTolerance(truth),
    `exchanges ${String(conn?.exchanges)} vs ${truth} requests (nginx $connection_requests)`,
  );
  checks.check(summaryFinding(events, 'reuse') !== undefined, 'a reuse finding in the summary');
  checks.assertAll(describeWatch(events));
});
