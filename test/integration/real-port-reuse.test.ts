// A client that reuses its local port, as ab does against a server that closes first: the server
// keeps TIME_WAIT, the client's port is free again at once, and the next connection has the very
// same tuple. Found when a CI run of real-ab-server counted 1,847 of ab's 2,000 connections as
// root: eBPF's ends of sockets no dump had seen carried no kernel cookie, so every connection
// after the first on a tuple looked like a late word about that one and was dropped.
// Here curl is made to reuse one port (`--local-port P`) against Python's http.server, which
// closes first on an HTTP/1.0 request (http-server.py), in two bursts a poll apart. Truth: curl's
// own %{local_port} and the server's "request <client port>" lines (one request per connection).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort } from '../helpers/free-port';
import { startPythonServer, stopRealHttp } from '../helpers/real-http';
import { isRoot, NOBODY, requireTools } from '../helpers/real-tools';
import { sleep } from '../helpers/cli';
import { describeWatch, startWatch, stopAllWatches, summaryOf } from '../helpers/watch-events';

const run = promisify(execFile);

after(async () => {
  stopAllWatches();
  await stopRealHttp();
});

const PER_BURST = 12;

async function curlsFromOnePort(watchArgs: string[], user?: { uid: number; gid: number }): Promise<void> {
  const { curl } = requireTools('curl', 'python3');
  const server = await startPythonServer(user);
  const url = `http://127.0.0.1:${server.port}/`;
  const watch = startWatch(server.program.pid, watchArgs, user ? { user } : {});
  await watch.started;
  const port = await freePort();
  const ports: number[] = [];
  for (let burst = 0; burst < 2; burst++) {
    if (burst > 0) await sleep(1300); // the second burst after at least one poll
    for (let i = 0; i < PER_BURST; i++) {
      const { stdout } = await run(curl, ['-s', '-o', '/dev/null', '--http1.0', '--local-port', String(port), '-w', '%{local_port}', url]);
      ports.push(Number(stdout));
    }
  }
  await watch.polledAfter(Date.now());
  watch.interrupt();
  const { result, events } = await watch.finish();
  assert.equal(result.code, 0, result.stderr);

  // the truth: curl used that one port every time, and the server answered that many requests
  // from it, one per connection (HTTP/1.0, closed by the server)
  assert.deepEqual(ports, Array(2 * PER_BURST).fill(port), 'curl reports its local port');
  await server.served(2 * PER_BURST);
  assert.deepEqual([...server.requestsByClientPort()], [[port, 2 * PER_BURST]], 'the server: every request from that port');
  const truth = 2 * PER_BURST;

  const closes = events.filter((e) => e.type === 'close' && (e.connection as { remote: { port: number } }).remote.port === port);
  const summary = summaryOf(events);
  const why = describeWatch(events);
  assert.equal(closes.length, truth, `closes from port ${port}: sockwatch ${closes.length}, server ${truth}\n${why}`);
  assert.equal(summary.opened, truth, `opened ${String(summary.opened)} vs ${truth}\n${why}`);
}

describe('a client reusing its local port against a watched Python http.server', { concurrency: 2 }, () => {
  it('as root (eBPF): every connection on the reused tuple counted', async () => {
    assert.ok(isRoot(), 'this case needs root (eBPF); the test suite runs as root in CI');
    await curlsFromOnePort(['--brief', 'ebpf']);
  });
  it('as uid 65534 (destroy notifications): every connection on the reused tuple counted', async () => {
    await curlsFromOnePort([], NOBODY);
  });
});
