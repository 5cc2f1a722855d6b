// The edges of a watch against real programs (issue 20 items 3 and 4): Node's http client, held
// at a gate until sockwatch has attached, does all its work within one poll and exits at once.
// Truth: the client's own report (the local port of every request's socket) and the server's
// (python's http.server: one line per request with the client's port).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot } from '../helpers/real-tools';
import { startPythonServer, stopRealHttp } from '../helpers/real-http';
import { killAllNodeClients, startNodeClient } from '../helpers/node-client';
import { describeWatch, startWatch, stopAllWatches, summaryOf, type SockEvent } from '../helpers/watch-events';

after(async () => {
  stopAllWatches();
  killAllNodeClients();
  await stopRealHttp();
});

type Finding = { kind: string; peer?: string; direction?: string };

function briefCloses(events: readonly SockEvent[]): { localPort: number; remotePort: number; exchanges?: number; closeTime: unknown }[] {
  return events.flatMap((e) => {
    if (e.type !== 'close' || e.brief !== true) return [];
    const c = e.connection as { local: { port: number }; remote: { port: number }; exchanges?: number };
    return [{ localPort: c.local.port, remotePort: c.remote.port, exchanges: c.exchanges, closeTime: e.closeTime }];
  });
}

describe('the edges of a watch, real programs, as root with eBPF', { concurrency: 1 }, () => {
  it('a client making 40 requests on a new connection each and exiting right after the last: opened 40, closed 40', async () => {
    assert.ok(isRoot(), 'this case needs root (eBPF names the owner of a brief connection)');
    const server = await startPythonServer();
    const client = await startNodeClient([`fresh:${server.port}:40`]);
    // --brief ebpf: the watch starts once the tracer is attached; a long interval puts all the
    // client's work between the first poll and the one that finds it gone
    const watch = startWatch(client.pid, ['--brief', 'ebpf', '--interval', '2s']);
    await watch.started;
    client.go();
    assert.equal(await client.exited, 0, client.stderr());
    const { result, events } = await watch.finish();
    assert.equal(result.code, 0, result.stderr);

    const truth = new Set(client.ports(0));
    assert.equal(client.ports(0).length, 40);
    assert.equal(truth.size, 40, 'the client used a new connection for every request');
    const served = server.requestsByClientPort();
    assert.deepEqual([...truth].map((p) => served.get(p)), Array(40).fill(1), 'the server answered one request per connection');

    const summary = summaryOf(events);
    assert.equal(summary.opened, 40, describeWatch(events));
    assert.equal(summary.closed, 40, describeWatch(events));
    const briefs = briefCloses(events).filter((b) => truth.has(b.localPort));
    assert.equal(briefs.length, 40, describeWatch(events));
    assert.ok(briefs.every((b) => b.closeTime === 'exact' && b.remotePort === server.port));
    // the evidence came before the exit was reported
    const iExit = events.findIndex((e) => e.type === 'exit');
    assert.ok(iExit > 0 && events.slice(iExit).every((e) => e.type !== 'close'), 'no close after the exit');
  });

  it('one window: 40 requests on a keep-alive agent, then 40 with agent:false — reuse and churn, each naming its peer', async () => {
    assert.ok(isRoot(), 'this case needs root (eBPF)');
    const pooled = await startPythonServer();
    const churned = await startPythonServer();
    const client = await startNodeClient([`keepalive:${pooled.port}:40`, `fresh:${churned.port}:40`]);
    const watch = startWatch(client.pid, ['--brief', 'ebpf', '--interval', '250ms']);
    await watch.started;
    client.go();
    assert.equal(await client.exited, 0, client.stderr());
    const { result, events } = await watch.finish();
    assert.equal(result.code, 0, result.stderr);

    // truth: one connection carried the 40 keep-alive requests, 40 connections one each
    assert.equal(new Set(client.ports(0)).size, 1);
    assert.equal(pooled.requestsByClientPort().get(client.ports(0)[0]!), 40);
    assert.equal(new Set(client.ports(1)).size, 40);

    const summary = summaryOf(events);
    const findings = (summary.findings ?? []) as Finding[];
    const reuse = findings.find((f) => f.kind === 'reuse');
    const churn = findings.find((f) => f.kind === 'churn');
    assert.ok(reuse, describeWatch(events));
    assert.ok(churn, describeWatch(events));
    assert.deepEqual([reuse.peer, reuse.direction], [`127.0.0.1:${pooled.port}`, 'out']);
    assert.deepEqual([churn.peer, churn.direction], [`127.0.0.1:${churned.port}`, 'out']);
    // and the peer rows agree
    const peers = (summary.peers ?? []) as { peer: string; findings: string[] }[];
    assert.ok(peers.find((p) => p.peer === `127.0.0.1:${pooled.port}`)?.findings.includes('reuse'));
    assert.ok(peers.find((p) => p.peer === `127.0.0.1:${churned.port}`)?.findings.includes('churn'));
    // brief connections carry their exchanges (one request each, by the client's account)
    const briefs = briefCloses(events).filter((b) => b.remotePort === churned.port);
    assert.ok(briefs.length > 0 && briefs.every((b) => b.exchanges === 1), JSON.stringify(briefs.slice(0, 5)));
  });
});
