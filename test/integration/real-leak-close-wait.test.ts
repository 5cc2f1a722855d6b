// Real software, case 5 of issue 9: a Go net/http client that never reads nor closes its
// response bodies, one request every 250 ms, against nginx with `keepalive_timeout 2s`. Each
// request needs a new connection (the old ones are never given back); nginx closes each after 2 s
// idle, and the client, which never reads them again, leaves them in CLOSE_WAIT until it exits.
// Watched at the defaults (no --state, 1 s) until the client exits. Truth: the client's counts,
// nginx's log, and `ss` listing the client's sockets in CLOSE_WAIT before it exits.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { sleep } from '../helpers/cli';
import { Checks } from '../helpers/checks';
import { killAllGoClients, startGoClient } from '../helpers/go-client';
import { readAccessLog, requestsPerConnection } from '../helpers/nginx-access-log';
import { startNginx, stopAllNginx } from '../helpers/nginx';
import { requireTools } from '../helpers/real-tools';
import { describeWatch, findingsSeen, startWatch, summaryFinding, summaryOf, stopAllWatches } from '../helpers/watch-events';

after(async () => {
  stopAllWatches();
  killAllGoClients();
  await stopAllNginx();
});

const REQUESTS = 16;

/** Local ports of the sockets in CLOSE_WAIT towards `remotePort`, as ss lists them. */
function closeWaitPorts(ss: string, remotePort: number): number[] {
  const out = execFileSync(ss, ['-tnH', 'state', 'close-wait', 'dport', '=', `:${remotePort}`], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => Number(/:(\d+)\s/.exec(l.trim().split(/\s+/).slice(-2).join(' '))?.[1]));
}

test('a Go client leaking bodies against a server timing idle connections out after 2 s, default --state: close_wait, never churn, kept in the summary after exit', async () => {
  const { ss } = requireTools('nginx', 'go', 'ss');
  const nginx = await startNginx({ keepaliveTimeoutS: 2 });
  // 16 requests over 4 s, then 3.5 s more alive: the last one is 2 s in CLOSE_WAIT when ss looks.
  const client = await startGoClient({ url: nginx.url('/'), mode: 'leak', intervalMs: 250, count: REQUESTS, holdMs: 3_500 });
  const watch = startWatch(client.pid, []);
  await watch.started;
  client.go();
  const done = await client.done;
  await sleep(2_600);
  const stuck = closeWaitPorts(ss, nginx.port);
  await client.exited;
  const { result, events } = await watch.finish();
  assert.equal(result.code, 0, result.stderr);

  // The truth: one connection per request, every one left in CLOSE_WAIT by the client.
  assert.deepEqual(client.errors, []);
  assert.equal(done.requests, REQUESTS);
  assert.equal(done.newConnections, REQUESTS, 'no connection was ever given back for reuse');
  const ports = new Set(client.requests.map((r) => r.localPort));
  assert.deepEqual(new Set(stuck.filter((p) => ports.has(p))), ports, `ss: every client connection in CLOSE_WAIT (${stuck.join(' ')})`);
  const perConn = requestsPerConnection(readAccessLog(nginx.accessLog));
  assert.equal(perConn.length, REQUESTS);

  const checks = new Checks();
  const exitAt = events.findIndex((e) => e.type === 'exit');
  checks.check(exitAt >= 0 && exitAt < events.length - 1, 'the watch saw the client exit, and the summary came after');
  summaryOf(events); // exactly one, and last
  checks.check(summaryFinding(events, 'close_wait') !== undefined, `a close_wait finding in the summary written after the exit (truth: ${REQUESTS} in CLOSE_WAIT per ss)`);
  const churn = findingsSeen(events).filter((f) => f.kind === 'churn');
  checks.check(churn.length === 0, `never churn (${churn.length}: ${JSON.stringify(churn.map((f) => f.data.message))})`);
  checks.assertAll(describeWatch(events));
});
