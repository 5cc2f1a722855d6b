// A real Prometheus server scrapes sockwatch every second while sockwatch watches a churning
// client; what Prometheus stored must match the open events sockwatch printed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ndjson, sleep, startCli } from '../helpers/cli';
import { startLoopbackServer, stopLoopbackChildren } from '../helpers/loopback';
import { freePort, httpRequest, requireTool, startChurnClient, waitForAnnouncedUrl, type ChurnClient } from '../helpers/metrics-http';
import { openedInEvents } from '../helpers/event-counts';

const started: { kill(): void }[] = [];
after(async () => {
  for (const s of started) s.kill();
  await stopLoopbackChildren();
});

interface PromVector {
  status: string;
  data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(base: string, q: string): Promise<PromVector['data']['result']> {
  const r = await httpRequest(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
  assert.equal(r.status, 200, r.body);
  const v = JSON.parse(r.body) as PromVector;
  assert.equal(v.status, 'success', r.body);
  return v.data.result;
}

function startPrometheus(dir: string, port: number, scrapeTarget: string): { child: ChildProcess; log: () => string } {
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: sockwatch',
      '    static_configs:',
      `      - targets: ['${scrapeTarget}']`,
      '',
    ].join('\n'),
  );
  const child = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
  );
  let log = '';
  child.stderr?.on('data', (b: Buffer) => (log = (log + b.toString('utf8')).slice(-4000)));
  return { child, log: () => log };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(t);
}

test('Prometheus scrapes sockwatch: sockwatch_connections_opened_total equals the open events printed', { timeout: 90_000 }, async () => {
  requireTool('prometheus', ['--version'], 'prometheus');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-prom-'));
  const server = await startLoopbackServer();
  let churn: ChurnClient | undefined;
  let prom: ReturnType<typeof startPrometheus> | undefined;
  const cli = { current: undefined as ReturnType<typeof startCli> | undefined };
  try {
    churn = await startChurnClient('127.0.0.1', server.ipv4Port, 100, 150);
    started.push(churn);
    const watch = startCli(['watch', String(churn.pid), '--json', '--interval', '50ms', '--metrics', '127.0.0.1:0']);
    cli.current = watch;
    started.push({ kill: () => watch.child.kill('SIGKILL') });
    let stderr = '';
    watch.child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    const url = await waitForAnnouncedUrl(() => stderr);
    const scrapeTarget = new URL(url).host;

    const promPort = await freePort();
    prom = startPrometheus(dir, promPort, scrapeTarget);
    const p = prom;
    started.push({ kill: () => p.child.kill('SIGKILL') });
    const base = `http://127.0.0.1:${promPort}`;
    for (const until = Date.now() + 30_000; ; await sleep(200)) {
      const ready = await httpRequest(`${base}/-/ready`).catch(() => undefined);
      if (ready?.status === 200) break;
      assert.ok(Date.now() < until && p.child.exitCode === null, `prometheus did not become ready; its log:\n${p.log()}`);
    }

    // Churn on until Prometheus has stored a few scrapes with opens in them, and the counter
    // rising between two of them (rate() below needs that: a first scrape late under load can
    // already hold every open the test waits for).
    for (const until = Date.now() + 30_000; ; await sleep(250)) {
      const r = await query(base, 'sockwatch_connections_opened_total');
      const rising = Number((await query(base, 'changes(sockwatch_connections_opened_total[1m])'))[0]?.value[1] ?? 0) >= 1;
      if (r.length === 1 && Number(r[0]!.value[1]) >= 10 && rising) {
        assert.equal(r[0]!.metric.target, String(churn.pid));
        assert.equal(r[0]!.metric.job, 'sockwatch');
        break;
      }
      assert.ok(Date.now() < until, `no opens stored by prometheus; last result ${JSON.stringify(r)}; its log:\n${p.log()}\nsockwatch stderr:\n${stderr}`);
    }
    const up = await query(base, `up{job="sockwatch"}`);
    assert.equal(up[0]?.value[1], '1', 'prometheus reports the scrape target up');

    // Stop the churn, let sockwatch see the last closes, then count what it printed.
    const clientOpened = await churn.stop();
    await sleep(500);
    const printed = openedInEvents(ndjson(watch.stdout()));
    const countedAtSec = Date.now() / 1000;
    assert.ok(printed <= clientOpened && printed >= clientOpened / 2, `sockwatch saw ${printed} of the ${clientOpened} connections the client opened`);

    // A scrape taken after the count holds everything that was printed (nothing opens any more).
    let stored = NaN;
    for (const until = Date.now() + 15_000; ; await sleep(250)) {
      const ts = await query(base, 'timestamp(sockwatch_connections_opened_total)');
      if (ts.length === 1 && Number(ts[0]!.value[1]) > countedAtSec + 0.05) {
        stored = Number((await query(base, 'sockwatch_connections_opened_total'))[0]?.value[1]);
        break;
      }
      assert.ok(Date.now() < until, `prometheus stored no scrape after the count; its log:\n${p.log()}`);
    }
    assert.equal(stored, printed, `prometheus has ${stored}, sockwatch printed ${printed} open events`);

    // The lifetime histogram saw every close of a connection it saw open, and rate() works on it.
    const closes = ndjson(watch.stdout()).filter((e) => e.type === 'close' && (e.connection as { preexisting?: boolean }).preexisting !== true).length;
    const lifetimes = Number((await query(base, 'sockwatch_connection_lifetime_seconds_count'))[0]?.value[1]);
    assert.equal(lifetimes, closes);
    const rate = await query(base, 'rate(sockwatch_connections_opened_total[1m]) * 60');
    assert.ok(Number(rate[0]?.value[1]) > 0, `opened per minute: ${JSON.stringify(rate)}`);
  } finally {
    churn?.kill();
    if (cli.current) await stopChild(cli.current.child);
    if (prom) await stopChild(prom.child);
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
