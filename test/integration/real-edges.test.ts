// The cases of issue 20's table on real programs nobody here wrote the networking of: Go's
// net/http over TLS (HTTP/1.1 and HTTP/2, net/http's own server with a self-signed certificate),
// a Go client running as another user, and a shell forking curl — watched as root with eBPF, by
// PID and through `sockwatch run`. Truth from the programs: the client's httptrace GotConn (reused
// or not, the local port of every request), the server's account of the connections it accepted
// and the requests each carried, curl's own local port and the shell's `$!`.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ndjson, runCli } from '../helpers/cli';
import { Checks } from '../helpers/checks';
import { buildGoClient, goClientArgs, goClientOutput, killAllGoClients, startGoClient, type GoClient, type GoClientOptions, type GoDone, type GoRequest } from '../helpers/go-client';
import { startTlsServer, type TlsServer } from '../helpers/go-tls-server';
import { startPythonServer, stopRealHttp } from '../helpers/real-http';
import { isRoot, NOBODY, requireTools } from '../helpers/real-tools';
import { connectionsSeen, describeWatch, exchangesTolerance, startWatch, stopAllWatches, summaryOf, type SockEvent } from '../helpers/watch-events';

after(async () => {
  stopAllWatches();
  killAllGoClients();
  await stopRealHttp();
});

const EBPF = ['--brief', 'ebpf', '--interval', '250ms'];

interface CloseSeen {
  localPort: number;
  /** the connection's owner (`connection.pid`) */
  pid: unknown;
  /** the event's `pid`: the watched process the event is about, not necessarily the owner */
  eventPid: unknown;
  closeTime: unknown;
  brief: boolean;
  exchanges?: number;
}

/** Every `close` sockwatch wrote for a connection to `serverPort`. */
function closesTo(events: readonly SockEvent[], serverPort: number): CloseSeen[] {
  return events.flatMap((e) => {
    if (e.type !== 'close') return [];
    const c = e.connection as { local: { port: number }; remote: { port: number }; pid?: number; exchanges?: number };
    if (c.remote.port !== serverPort) return [];
    return [{ localPort: c.local.port, pid: c.pid, eventPid: e.pid, closeTime: e.closeTime, brief: e.brief === true, exchanges: c.exchanges }];
  });
}

/** The exchanges sockwatch last reported for the connection from `localPort` to `serverPort`. */
function exchangesSeen(events: readonly SockEvent[], localPort: number, serverPort: number): number | undefined {
  for (const c of connectionsSeen(events).values()) if (c.local.port === localPort && c.remote.port === serverPort) return c.exchanges;
  return undefined;
}

/** The client's and the server's accounts agree on one connection carrying `n` requests; its local port. */
function oneConnectionTruth(requests: readonly GoRequest[], done: GoDone, server: TlsServer, n: number, proto: string): number {
  assert.equal(done.requests, n, 'the client made every request');
  assert.equal(done.failures, 0);
  assert.equal(done.dials, 1, 'the client dialed one TCP connection');
  assert.equal(done.newConnections, 1, 'GotConn: one fresh connection, every other request reused it');
  assert.equal(requests.length, n);
  assert.ok(requests.every((r) => r.proto === proto), `every request went over ${proto}: ${[...new Set(requests.map((r) => r.proto))].join(',')}`);
  const ports = new Set(requests.map((r) => r.localPort));
  assert.equal(ports.size, 1, 'every request on the same local port');
  const port = requests[0]!.localPort;
  assert.deepEqual(server.accepted(), [port], 'the server accepted that one connection and no other');
  assert.equal(server.requestsByClientPort().get(port), n, 'the server answered every request on it');
  return port;
}

/** sockwatch against one connection carrying `n` requests that was closed by the client (or its exit). */
function checkOneConnection(checks: Checks, events: readonly SockEvent[], serverPort: number, port: number, n: number): void {
  const summary = summaryOf(events);
  checks.check(summary.opened === 1, `opened: sockwatch ${String(summary.opened)} vs truth 1`);
  checks.check(summary.closed === 1, `closed: sockwatch ${String(summary.closed)} vs truth 1`);
  const closes = closesTo(events, serverPort);
  checks.check(closes.length === 1 && closes[0]!.localPort === port, `closes to the server: sockwatch ${JSON.stringify(closes)} vs truth one, from local port ${port}`);
  const close = closes.find((c) => c.localPort === port);
  checks.check(close?.closeTime === 'exact', `closeTime: sockwatch ${String(close?.closeTime)} vs exact (the kernel saw the close)`);
  const ex = exchangesSeen(events, port, serverPort);
  checks.check(ex !== undefined && Math.abs(ex - n) <= exchangesTolerance(n), `exchanges: sockwatch ${String(ex)} vs truth ${n} (±${exchangesTolerance(n)})`);
  const iExit = events.findIndex((e) => e.type === 'exit');
  checks.check(iExit >= 0 && events.slice(iExit).every((e) => e.type !== 'close'), 'no close after the exit');
}

/** Watches a gated Go client by PID from before its first request to its exit. */
async function watchedFromStart(client: GoClient): Promise<{ done: GoDone; events: SockEvent[] }> {
  const watch = startWatch(client.pid, EBPF);
  await watch.started;
  client.go();
  const done = await client.done;
  assert.equal(await client.exited, 0);
  const { result, events } = await watch.finish();
  assert.equal(result.code, 0, result.stderr);
  return { done, events };
}

/**
 * A Go client over TLS making `count` requests on one connection (`proto`), gated until a watch of
 * its PID has attached, then exiting: the truth from both ends, then sockwatch against it.
 */
async function goClientWatchedByPid(o: Omit<GoClientOptions, 'url' | 'mode' | 'count'>, count: number, proto: string): Promise<void> {
  assert.ok(isRoot(), 'this case needs root (eBPF)');
  const server = await startTlsServer();
  const client = await startGoClient({ ...o, url: server.url, mode: 'keepalive', count, tls: true });
  const { done, events } = await watchedFromStart(client);
  await server.served(count);
  const port = oneConnectionTruth(client.requests, done, server, count, proto);

  const checks = new Checks();
  checkOneConnection(checks, events, server.port, port, count);
  console.log(checks.lines.join('\n'));
  checks.assertAll(describeWatch(events));
}

describe('Go net/http over TLS, watched by PID and through run, as root with eBPF', { concurrency: 1 }, () => {
  it('HTTP/2: 400 requests back to back on one connection, then exits (watched by PID)', async () => {
    await goClientWatchedByPid({ intervalMs: 0, h2: true }, 400, 'HTTP/2.0');
  });

  it('HTTP/2: 400 requests back to back on one connection, then exits (sockwatch run)', async () => {
    assert.ok(isRoot(), 'this case needs root (eBPF)');
    const server = await startTlsServer();
    const args = goClientArgs({ url: server.url, mode: 'keepalive', intervalMs: 0, count: 400, tls: true, h2: true });
    const r = await runCli(['run', '--json', ...EBPF, '--', buildGoClient(), ...args], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    // CMD's stdout goes to sockwatch's stderr when not on a terminal
    const out = goClientOutput(r.stderr);
    assert.ok(out.done, `the client's report: ${r.stderr.slice(0, 2000)}`);
    await server.served(400);
    const port = oneConnectionTruth(out.requests, out.done, server, 400, 'HTTP/2.0');

    const events = ndjson(r.stdout) as SockEvent[];
    const checks = new Checks();
    checkOneConnection(checks, events, server.port, port, 400);
    console.log(checks.lines.join('\n'));
    checks.assertAll(describeWatch(events));
  });

  it('HTTP/2 paced: 400 requests 20 ms apart on one connection, exits with it open (watched by PID)', async () => {
    await goClientWatchedByPid({ intervalMs: 20, h2: true, keepOpen: true }, 400, 'HTTP/2.0');
  });

  it('HTTP/1.1 over TLS: 30 requests on one connection, exits without closing its pool (watched by PID)', async () => {
    await goClientWatchedByPid({ intervalMs: 50, keepOpen: true }, 30, 'HTTP/1.1');
  });
});

describe('short commands and other users, as root with eBPF', { concurrency: 1 }, () => {
  it('run of a 1-second command making 3 requests on one keep-alive connection: 1 connection with 3 exchanges, 3 tries of 3', async () => {
    assert.ok(isRoot(), 'this case needs root (eBPF)');
    const checks = new Checks();
    const context: string[] = [];
    for (let run = 1; run <= 3; run++) {
      const server = await startPythonServer();
      // requests at 0, 400 and 800 ms, the pool closed, gone at about 1 s
      const args = goClientArgs({ url: `http://127.0.0.1:${server.port}/`, mode: 'keepalive', intervalMs: 400, count: 3, holdMs: 150 });
      const r = await runCli(['run', '--json', ...EBPF, '--', buildGoClient(), ...args], { timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stderr);
      const out = goClientOutput(r.stderr);
      assert.ok(out.done, r.stderr);
      assert.deepEqual([out.done.requests, out.done.dials, out.done.newConnections], [3, 1, 1], 'the client: 3 requests, 1 connection');
      const port = out.requests[0]!.localPort;
      assert.ok(out.requests.every((q) => q.localPort === port));
      await server.served(3);
      assert.deepEqual([...server.requestsByClientPort()], [[port, 3]], 'the server: 3 requests on that one connection');

      const events = ndjson(r.stdout) as SockEvent[];
      const summary = summaryOf(events);
      const closes = closesTo(events, server.port);
      const ex = exchangesSeen(events, port, server.port);
      checks.check(summary.opened === 1 && summary.closed === 1, `run ${run}: opened/closed: sockwatch ${String(summary.opened)}/${String(summary.closed)} vs truth 1/1`);
      checks.check(closes.length === 1 && closes[0]!.localPort === port, `run ${run}: closes: sockwatch ${JSON.stringify(closes)} vs truth one from port ${port}`);
      checks.check(ex !== undefined && Math.abs(ex - 3) <= exchangesTolerance(3), `run ${run}: exchanges: sockwatch ${String(ex)} vs truth 3`);
      context.push(`run ${run}: ${describeWatch(events, 1500)}`);
    }
    console.log(checks.lines.join('\n'));
    checks.assertAll(context.join('\n'));
  });

  it('a client running as uid 65534, closing undrained bodies every 250 ms, watched from its start: 40 connections, each with its PID', async () => {
    assert.ok(isRoot(), 'this case needs root (eBPF)');
    const server = await startPythonServer();
    // held at its gate (-wait-stdin) until the watch has attached: `run` cannot start another user
    const client = await startGoClient({ url: `http://127.0.0.1:${server.port}/`, mode: 'undrained', intervalMs: 250, count: 40, user: NOBODY });
    const { done, events } = await watchedFromStart(client);

    assert.deepEqual([done.requests, done.failures, done.dials, done.newConnections], [40, 0, 40, 40], 'the client: 40 requests, a new connection for each');
    await server.served(40);
    // (a local port may come back for a later connection when no TIME_WAIT holds it)
    const truthPorts = new Set(client.requests.map((q) => q.localPort));
    const closes = closesTo(events, server.port);
    const summary = summaryOf(events);
    const checks = new Checks();
    checks.check(summary.opened === 40, `opened: sockwatch ${String(summary.opened)} vs truth 40`);
    checks.check(summary.closed === 40, `closed: sockwatch ${String(summary.closed)} vs truth 40`);
    checks.check(closes.length === 40, `closes to the server: sockwatch ${closes.length} vs truth 40`);
    const strangers = closes.filter((c) => !truthPorts.has(c.localPort));
    checks.check(strangers.length === 0, `closes from ports the client never used: ${JSON.stringify(strangers)}`);
    // the owner is the connection's `pid` (the event's `pid` names the watched process, whoever owns the socket)
    const wrongPid = closes.filter((c) => c.pid !== client.pid);
    checks.check(wrongPid.length === 0, `closes whose connection.pid is not the client's ${client.pid}: ${wrongPid.length} (${JSON.stringify(wrongPid.slice(0, 3))})`);
    const inexact = closes.filter((c) => c.closeTime !== 'exact');
    checks.check(inexact.length === 0, `closes not stamped exact: ${inexact.length}`);
    console.log(checks.lines.join('\n'));
    checks.assertAll(describeWatch(events));
  });

  it('run of a shell forking 5 curls one after another: 5 connections, each owned by its curl', async () => {
    assert.ok(isRoot(), 'this case needs root (eBPF)');
    const { curl } = requireTools('curl');
    const server = await startPythonServer();
    // `$!` is the forked child that execs curl: the PID that owns its connection
    const script = `for i in 1 2 3 4 5; do ${curl} -s -o /dev/null -w 'curl port %{local_port}\\n' http://127.0.0.1:${server.port}/ & echo "curl pid $!"; wait; done`;
    const r = await runCli(['run', '--json', ...EBPF, '--', '/bin/sh', '-c', script], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    const curlPids = [...r.stderr.matchAll(/^curl pid (\d+)$/gm)].map((m) => Number(m[1]));
    const curlPorts = [...r.stderr.matchAll(/^curl port (\d+)$/gm)].map((m) => Number(m[1]));
    assert.equal(curlPids.length, 5, r.stderr);
    assert.equal(curlPorts.length, 5, r.stderr);
    await server.served(5);
    assert.deepEqual([...server.requestsByClientPort().keys()].sort(), [...curlPorts].sort(), 'the server saw the connections curl says it made');

    const events = ndjson(r.stdout) as SockEvent[];
    const summary = summaryOf(events);
    const closes = closesTo(events, server.port);
    const checks = new Checks();
    checks.check(summary.opened === 5, `opened: sockwatch ${String(summary.opened)} vs truth 5`);
    checks.check(summary.closed === 5, `closed: sockwatch ${String(summary.closed)} vs truth 5`);
    const seen = closes.map((c) => `${c.localPort}/${String(c.pid)}`).sort();
    const truth = curlPorts.map((p, i) => `${p}/${curlPids[i]!}`).sort();
    checks.check(JSON.stringify(seen) === JSON.stringify(truth), `closes (port/pid): sockwatch ${JSON.stringify(seen)} vs truth ${JSON.stringify(truth)}`);
    console.log(checks.lines.join('\n'));
    checks.assertAll(describeWatch(events));
  });
});
