// `exchanges` against real HTTP software (issue 9, part 2): within ±10 % of the requests a
// connection carried (±1 below 20), at the default 1 s interval, at 2 requests/s and at
// thousands, for a client's connection and for a server's accepted one. The truth is what the
// programs report about themselves: the clients' own request counts (Go's httptrace GotConn
// names the connection of each request), http.server's per-request log, nginx's
// $connection_requests.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ndjson, sleep, startCli, type RunningCli } from '../helpers/cli';
import {
  closeEnough,
  exchangesOf,
  goClientReport,
  parsePythonReport,
  start,
  startPythonServer,
  stopRealHttp,
  FIXTURES,
  type ClientReport,
} from '../helpers/real-http';
import { killAllGoClients, startGoClient } from '../helpers/go-client';
import { startNginx, stopAllNginx, type Nginx } from '../helpers/nginx';
import { readAccessLog, requestsPerConnection } from '../helpers/nginx-access-log';
import { pythonPath, requireTools } from '../helpers/real-tools';
import * as path from 'node:path';

/** Watches `pid` at the default interval until it exits or `stop()`; resolves with the events. */
function watch(pid: number): { cli: RunningCli; events(): Promise<Record<string, unknown>[]>; stop(): void } {
  const cli = startCli(['watch', String(pid), '--json', '--duration', '60s']);
  return {
    cli,
    stop: () => cli.child.kill('SIGINT'),
    events: async () => {
      const r = await cli.result;
      assert.equal(r.code, 0, r.stderr);
      return ndjson(r.stdout);
    },
  };
}

interface Row {
  what: string;
  truth: number;
  measured: number | undefined;
}

/** Each connection the client reported, against sockwatch's exchanges on the client's side. */
function clientRows(name: string, report: ClientReport, events: Record<string, unknown>[], remotePort: number): Row[] {
  assert.ok(report.byLocalPort.size > 0, `${name} reported no connection`);
  return [...report.byLocalPort].map(([port, truth]) => ({
    what: `${name}, client side :${port}`,
    truth,
    measured: exchangesOf(events, (c) => c.local.port === port && c.remote.port === remotePort),
  }));
}

/** Each connection the server reported, against sockwatch's exchanges on the server's side. */
function serverRows(name: string, byClientPort: Map<number, number>, events: Record<string, unknown>[], localPort: number): Row[] {
  assert.ok(byClientPort.size > 0, `${name} reported no request`);
  return [...byClientPort].map(([port, truth]) => ({
    what: `${name}, accepted from :${port}`,
    truth,
    measured: exchangesOf(events, (c) => c.remote.port === port && c.local.port === localPort),
  }));
}

const table: Row[] = [];

/** Every row within the requirement; the message shows them all. */
function assertClose(rows: Row[]): void {
  table.push(...rows);
  const text = rows.map((r) => `${r.what}: truth ${r.truth}, sockwatch ${r.measured}`).join('\n');
  for (const r of rows) assert.ok(closeEnough(r.measured, r.truth), `${r.what} is off:\n${text}`);
}

/** nginx's own account: requests per connection, by client port, of the requests to `serverPort` */
function nginxRequests(nginx: Nginx, serverPort: number, clientPorts?: ReadonlySet<number>): Map<number, number> {
  const conns = requestsPerConnection(readAccessLog(nginx.accessLog)).filter((c) => c.serverPort === serverPort && (clientPorts === undefined || clientPorts.has(c.remotePort)));
  return new Map(conns.map((c) => [c.remotePort, c.requests]));
}

describe('exchanges on real HTTP software, at the default 1 s interval', { concurrency: true }, () => {
  after(async () => {
    killAllGoClients();
    await stopAllNginx();
    await stopRealHttp();
    for (const r of table) console.log(`${r.what}: truth ${r.truth}, sockwatch ${r.measured}`);
  });

  it('2 requests/s on one keep-alive connection: a Go client, a Python client, and http.server accepting both', async () => {
    const server = await startPythonServer();
    // 16 requests at 2/s; each client keeps its connection open 2.5 s after its last request so a
    // poll sees its final counters before it closes.
    const go = await startGoClient({ url: `http://127.0.0.1:${server.port}/`, mode: 'keepalive', intervalMs: 500, count: 16, holdMs: 2500, keepOpen: true });
    const py = start(pythonPath(), [path.join(FIXTURES, 'http-client.py'), String(server.port), '16', '2', '2500']);
    const [goWatch, pyWatch, serverWatch] = [watch(go.pid), watch(py.pid), watch(server.program.pid)];
    await goWatch.cli.waitFor(/"type":"start"/);
    go.go();
    const goReport = goClientReport(go, await go.done);
    const pyReport = parsePythonReport(await py.line(/^\{/, 20_000));
    assert.equal(goReport.requests, 16);
    assert.equal(goReport.byLocalPort.size, 1, 'Go reused one connection for every request');
    await Promise.all([go.exited, py.exited]);
    await sleep(1500); // the server's side of both connections closes after the clients'
    serverWatch.stop();
    const [goEvents, pyEvents, serverEvents] = await Promise.all([goWatch.events(), pyWatch.events(), serverWatch.events()]);
    await server.served(goReport.requests + pyReport.requests);
    const served = server.requestsByClientPort();
    assert.deepEqual([...served.keys()].sort(), [...goReport.byLocalPort.keys(), ...pyReport.byLocalPort.keys()].sort());
    assertClose([
      ...clientRows('Go net/http, 2/s', goReport, goEvents, server.port),
      ...clientRows('Python http.client, 2/s', pyReport, pyEvents, server.port),
      ...serverRows('Python http.server', served, serverEvents, server.port),
    ]);
  });

  it('thousands of requests/s: a Go client at 400/s to nginx, ab -k through nginx to an upstream keep-alive pool', async () => {
    const { ab } = requireTools('ab');
    // Two single-process nginx: the front serves / itself and proxies /proxy/ to the backend
    // through a pool of 8 keep-alive connections; each logs which connection carried each request.
    const backend = await startNginx({ masterProcess: false });
    const front = await startNginx({ masterProcess: false, upstream: { port: backend.port, keepalive: 8 } });
    const [frontWatch, backendWatch] = [watch(front.pid), watch(backend.pid)];
    await Promise.all([frontWatch.cli.waitFor(/"type":"start"/), backendWatch.cli.waitFor(/"type":"start"/)]);
    const go = await startGoClient({ url: front.url('/'), mode: 'keepalive', intervalMs: 2.5, count: 1200, holdMs: 2500, keepOpen: true });
    const goWatch = watch(go.pid);
    await goWatch.cli.waitFor(/"type":"start"/);
    go.go();
    // ab's own connections close the moment it is done (between polls); the upstream connections
    // nginx opened for them stay in its keep-alive pool, and those are the ones compared.
    const abRun = start(ab, ['-k', '-q', '-c', '4', '-n', '8000', front.url('/proxy/')]);
    assert.equal(await abRun.exited, 0, `ab: ${abRun.lines().join('\n')}`);
    const abDone = abRun.lines().find((l) => /^Complete requests:\s+8000$/.test(l));
    assert.ok(abDone, `ab did not complete its 8000 requests: ${abRun.lines().join('\n')}`);
    const goReport = goClientReport(go, await go.done);
    assert.equal(goReport.requests, 1200);
    await go.exited;
    await sleep(1500);
    frontWatch.stop();
    backendWatch.stop();
    const [goEvents, frontEvents, backendEvents] = await Promise.all([goWatch.events(), frontWatch.events(), backendWatch.events()]);

    const upstream = nginxRequests(backend, backend.port);
    assert.equal([...upstream.values()].reduce((a, b) => a + b, 0), 8000, 'every proxied request reached the backend');
    const direct = front.port;
    assertClose([
      ...clientRows('Go net/http, 400/s', goReport, goEvents, direct),
      // the front's log also has ab's connections: only the Go client's are compared
      ...serverRows('nginx, from Go at 400/s', nginxRequests(front, direct, new Set(goReport.byLocalPort.keys())), frontEvents, direct),
      // the same upstream connections seen from both ends: the front's pool and the backend's accepts
      ...clientRows('nginx upstream (ab -k -c 4)', { requests: 8000, byLocalPort: upstream }, frontEvents, backend.port),
      ...serverRows('nginx backend (ab -k -c 4)', upstream, backendEvents, backend.port),
    ]);
  });
});
