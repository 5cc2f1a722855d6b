// The metrics endpoint of the real CLI: what promtool thinks of the text, the paths it answers,
// a port already taken, and `serve` outliving its target.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { runCli, startCli, sleep, ndjson } from '../helpers/cli';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren } from '../helpers/loopback';
import { httpRequest, requireTool, startChurnClient, waitForAnnouncedUrl, type ChurnClient } from '../helpers/metrics-http';
import { parsePromText, seriesKey } from '../helpers/prom-text';
import { openedInEvents } from '../helpers/event-counts';

const churners: ChurnClient[] = [];
after(async () => {
  for (const c of churners) c.kill();
  await stopLoopbackChildren();
});

function stderrOf(cli: ReturnType<typeof startCli>): () => string {
  let err = '';
  cli.child.stderr?.on('data', (b: Buffer) => (err += b.toString('utf8')));
  return () => err;
}

async function refused(url: string): Promise<boolean> {
  return httpRequest(url).then(
    () => false,
    (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED',
  );
}

test('promtool accepts the scraped text; /metrics only; the port closes when the watch ends', async () => {
  requireTool('promtool', ['--version'], 'prometheus');
  const server = await startLoopbackServer();
  const churn = await startChurnClient('127.0.0.1', server.ipv4Port, 60, 150);
  churners.push(churn);
  const cli = startCli(['watch', String(churn.pid), '--json', '--interval', '50ms', '--metrics', '127.0.0.1:0', '--metrics-peers', '2']);
  const stderr = stderrOf(cli);
  try {
    const url = await waitForAnnouncedUrl(stderr);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    // a connection seen opening and closing (the first close may be of one that predates the watch)
    await cli.waitFor(/"type":"close".*"preexisting":false/);
    const res = await httpRequest(url);
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4; charset=utf-8$/);

    const check = spawnSync('promtool', ['check', 'metrics'], { input: res.body, encoding: 'utf8' });
    assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}\n--- text ---\n${res.body}`);

    const p = parsePromText(res.body);
    const t = { target: String(churn.pid) };
    const opened = p.samples.get(seriesKey('sockwatch_connections_opened_total', t)) ?? 0;
    const printedOpens = openedInEvents(ndjson(cli.stdout()));
    assert.ok(opened >= 1 && opened <= printedOpens, `opened_total ${opened} vs ${printedOpens} open events printed so far`);
    assert.equal(p.samples.get(seriesKey('sockwatch_target_up', t)), 1);
    assert.ok([...p.samples.keys()].some((k) => k.startsWith('sockwatch_peer_connections_opened_total{')), 'per-peer series with --metrics-peers');
    const peerLabels = new Set([...p.samples.keys()].filter((k) => k.startsWith('sockwatch_peer_connections_opened_total{')).map((k) => /peer="([^"]*)"/.exec(k)?.[1]));
    // The client's only peer is the server; its ephemeral local ports are not peers.
    for (const label of peerLabels) assert.ok(label === 'other' || label === `127.0.0.1:${server.ipv4Port}`, `unexpected peer ${String(label)}`);

    const base = url.replace(/\/metrics$/, '');
    for (const path of ['/', '/metricsx', '/metrics/', '/favicon.ico']) {
      assert.equal((await httpRequest(base + path)).status, 404, path);
    }
    assert.equal((await httpRequest(`${url}?name[]=x`)).status, 200, 'a query string is still /metrics');
    const post = await httpRequest(url, 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    const head = await httpRequest(url, 'HEAD');
    assert.deepEqual([head.status, head.body], [200, '']);

    cli.child.kill('SIGINT');
    const r = await cli.result;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(await refused(url), 'nothing listens once sockwatch has exited');
  } finally {
    cli.child.kill('SIGKILL');
    churn.kill();
    await server.stop();
  }
});

test('a port already in use: one line, exit 1, before anything else starts', async () => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  const port = (blocker.address() as net.AddressInfo).port;
  const client = await startLoopbackClient();
  try {
    for (const pid of [client.pid, 999_999_999]) {
      // With a PID that does not exist, the port is still what is reported: it is checked first.
      const r = await runCli(['watch', String(pid), '--no-tui', '--metrics', `:${port}`]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout, '', 'no start line, no events: nothing started');
      assert.equal(r.stderr, `sockwatch: cannot serve metrics on 127.0.0.1:${port}: the address is already in use\n`);
    }
    const s = await runCli(['serve', String(client.pid), '--metrics', `127.0.0.1:${port}`]);
    assert.equal(s.code, 1);
    assert.equal(s.stderr.split('\n').filter(Boolean).length, 1, s.stderr);
  } finally {
    blocker.close();
    await client.kill();
  }
});

test('usage errors: a bad address, --metrics-peers without --metrics (exit 2)', async () => {
  const bad = await runCli(['watch', '1', '--metrics', 'localhost']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /invalid metrics address "localhost"/);
  const peers = await runCli(['watch', '1', '--metrics-peers', '3']);
  assert.equal(peers.code, 2);
  assert.match(peers.stderr, /--metrics-peers needs --metrics/);
  const many = await runCli(['watch', '1', '--metrics', ':0', '--metrics-peers', '100000']);
  assert.equal(many.code, 2);
});

test('serve: no stdout, keeps serving after the target exits (target_up 0) until SIGTERM', async () => {
  const server = await startLoopbackServer();
  const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 2 }]);
  const cli = startCli(['serve', String(client.pid), '--interval', '50ms', '--metrics', '127.0.0.1:0']);
  const stderr = stderrOf(cli);
  try {
    const url = await waitForAnnouncedUrl(stderr);
    const t = { target: String(client.pid) };
    const scrape = async (): Promise<Map<string, number>> => parsePromText((await httpRequest(url)).body).samples;
    // The endpoint listens before the first poll: until then it has no target to show.
    let s = await scrape();
    for (const until = Date.now() + 5_000; s.get(seriesKey('sockwatch_target_up', t)) === undefined; s = await scrape()) {
      assert.ok(Date.now() < until, 'the first poll never showed');
      await sleep(20);
    }
    assert.equal(s.get(seriesKey('sockwatch_connections', { ...t, state: 'ESTABLISHED' })), 2, 'the two connections the client holds');
    assert.equal(s.get(seriesKey('sockwatch_target_up', t)), 1);

    await client.open([{ host: '127.0.0.1', port: server.ipv4Port, count: 1 }]);
    for (const until = Date.now() + 5_000; (s = await scrape()).get(seriesKey('sockwatch_connections', { ...t, state: 'ESTABLISHED' })) !== 3; ) {
      assert.ok(Date.now() < until, 'the third connection never showed');
      await sleep(20);
    }
    await client.exit();
    const until = Date.now() + 5_000;
    while ((s = await scrape()).get(seriesKey('sockwatch_target_up', t)) !== 0) {
      assert.ok(Date.now() < until, 'target_up never went to 0');
      await sleep(50);
    }
    assert.equal(s.get(seriesKey('sockwatch_connections_opened_total', t)), 1, 'the one opened while watched');
    assert.equal(s.get(seriesKey('sockwatch_connections_closed_total', t)), 3, 'all three closed by the exit');
    assert.equal(s.get(seriesKey('sockwatch_target_exits_total', t)), 1);
    assert.equal(s.get(seriesKey('sockwatch_connections', { ...t, state: 'ESTABLISHED' })), 0);
    assert.equal(s.get(seriesKey('sockwatch_target_info', { ...t, pid: String(client.pid), command: 'node', start_time: [...s.keys()].find((k) => k.startsWith('sockwatch_target_info'))?.match(/start_time="([^"]+)"/)?.[1] ?? '?' })), 1);

    await sleep(300);
    assert.equal(cli.child.exitCode, null, 'still running after the target exited');
    assert.equal((await httpRequest(url)).status, 200);
    cli.child.kill('SIGTERM');
    const r = await cli.result;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '', 'serve prints nothing on stdout without --json');
  } finally {
    cli.child.kill('SIGKILL');
    await client.kill();
    await server.stop();
  }
});
