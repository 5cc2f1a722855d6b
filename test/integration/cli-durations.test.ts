// Durations beyond what a Node timer holds (2^31 - 1 ms): --duration chains timers, --interval
// is capped at 1h. Before: `--duration 1000h` ended the watch after ~1 ms; `--interval 1000h`
// polled back to back (~700 polls/s).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren, type LoopbackServer } from '../helpers/loopback';
import { ndjson, runCli, sleep, startCli } from '../helpers/cli';

describe('long durations', () => {
  let server: LoopbackServer;
  before(async () => {
    server = await startLoopbackServer();
  });
  after(() => stopLoopbackChildren());

  it('--duration 1000h keeps watching until SIGINT (exit 0, summary over ~1 s)', async () => {
    const client = await startLoopbackClient([]);
    const cli = startCli(['watch', String(client.pid), '--duration', '1000h', '--interval', '100ms', '--json', '--brief', 'none']);
    try {
      await cli.waitFor(/"type":"start"/);
      const t0 = Date.now();
      await sleep(1000);
      assert.equal(cli.child.exitCode, null, `the watch ended on its own:\n${cli.stdout()}`);
      cli.child.kill('SIGINT');
      const r = await cli.result;
      const heldMs = Date.now() - t0;
      assert.equal(r.code, 0, r.stderr);
      const summary = ndjson(r.stdout).at(-1) as { type: string; durationMs: number };
      assert.equal(summary.type, 'summary');
      assert.ok(summary.durationMs >= 900 && summary.durationMs <= heldMs + 500, `durationMs ${summary.durationMs}, held ${heldMs} ms`);
      // (a line saying polls are late may appear on a loaded machine; that is the lag notice)
      assert.doesNotMatch(r.stderr, /TimeoutOverflowWarning|overflow/i);
    } finally {
      cli.child.kill('SIGKILL');
      await client.kill();
    }
  });

  it('--interval 1000h is a one-line usage error, nothing polled', async () => {
    const r = await runCli(['watch', String(process.pid), '--interval', '1000h', '--json']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr.split('\n')[0]!, /--interval.*1000h.*must be at most 1h\.$/);
  });

  it('--interval 1h (the maximum) polls once, not in a loop: a connection opened after the start is not reported within 1 s', async () => {
    const client = await startLoopbackClient([]);
    const cli = startCli(['watch', String(client.pid), '--interval', '1h', '--json']);
    try {
      const start = JSON.parse(await cli.waitFor(/"type":"start"/)) as { intervalMs: number };
      assert.equal(start.intervalMs, 3_600_000);
      const [conn] = await client.open([{ host: '127.0.0.1', port: server.ipv4Port, count: 1 }]);
      await sleep(1000);
      assert.doesNotMatch(cli.stdout(), /"type":"open"/, `port ${conn!.localPort} was seen within 1 s, so a poll ran:\n${cli.stdout()}`);
      cli.child.kill('SIGINT');
      const r = await cli.result;
      assert.equal(r.code, 0, r.stderr);
      const events = ndjson(r.stdout);
      // the watch's one last poll when it stops sees it: two polls in all, no loop
      const summary = events.at(-1) as { lag: { polls: number }; connections: unknown[] };
      assert.equal(summary.lag.polls, 2, r.stdout);
      assert.equal(events.filter((e) => e.type === 'open').length, 1);
    } finally {
      cli.child.kill('SIGKILL');
      await client.kill();
    }
  });
});
