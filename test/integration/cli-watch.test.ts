import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren, type LoopbackServer } from '../helpers/loopback';
import { eventually, ndjson, processAlive, runCli, sleep, startCli } from '../helpers/cli';

type Ev = Record<string, unknown> & { type: string; connection?: { local: { port: number }; remote: { port: number }; preexisting: boolean; exchanges?: number } };

describe('sockwatch watch on real processes', () => {
  let server: LoopbackServer;
  let tmp: string;
  before(async () => {
    server = await startLoopbackServer();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-watch-'));
  });
  after(async () => {
    await stopLoopbackChildren();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a keep-alive client looping every 200 ms: one open, no close', async () => {
    const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 1 }]);
    const cli = startCli(['watch', String(client.pid), '--interval', '100ms', '--duration', '3s', '--json']);
    await cli.waitFor(/"type":"start"/);
    const deadline = Date.now() + 2800;
    while (Date.now() < deadline) {
      await client.request();
      await sleep(200);
    }
    const r = await cli.result;
    assert.equal(r.code, 0, r.stderr);
    const events = ndjson(r.stdout) as Ev[];
    assert.equal(events[0]!.type, 'start');
    assert.equal(events[0]!.schema, 'sockwatch.event/1');
    assert.equal(events.at(-1)!.type, 'summary');
    const opens = events.filter((e) => e.type === 'open');
    assert.equal(opens.length, 1);
    assert.equal(opens[0]!.connection!.local.port, client.connections[0]!.localPort);
    assert.equal(events.filter((e) => e.type === 'close').length, 0);
    const summary = events.at(-1)! as Ev & { connections: { lifetimeMs: number; exchanges?: number }[]; opened: number };
    assert.equal(summary.connections.length, 1);
    assert.ok(summary.connections[0]!.lifetimeMs >= 2500);
    await client.kill();
  });

  it('a new connection per request, held ~300 ms: an open and a close each, lifetimes within one interval', async () => {
    const intervalMs = 100;
    const client = await startLoopbackClient([]);
    const cli = startCli(['watch', String(client.pid), '--interval', `${intervalMs}ms`, '--json']);
    await cli.waitFor(/"type":"start"/);
    const truth = new Map<number, number>();
    for (let i = 0; i < 4; i++) {
      const [conn] = await client.open([{ host: '127.0.0.1', port: server.ipv4Port, count: 1 }]);
      const t0 = Date.now();
      await sleep(300);
      await client.close([conn!.localPort]);
      truth.set(conn!.localPort, Date.now() - t0);
      // the next connection only once a poll has reported this one closed
      await cli.waitFor(new RegExp(`"type":"close".*"port":${conn!.localPort}[,}]`));
    }
    cli.child.kill('SIGINT');
    const r = await cli.result;
    assert.equal(r.code, 0, r.stderr);
    const events = ndjson(r.stdout) as Ev[];
    const opens = events.filter((e) => e.type === 'open').map((e) => e.connection!.local.port).sort();
    const closes = events.filter((e) => e.type === 'close') as (Ev & { lifetimeMs: number })[];
    assert.deepEqual(opens, [...truth.keys()].sort());
    assert.deepEqual(closes.map((e) => e.connection!.local.port).sort(), [...truth.keys()].sort());
    for (const c of closes) {
      const real = truth.get(c.connection!.local.port)!;
      // One interval each way, plus slack for the test's own IPC round trips.
      assert.ok(Math.abs(c.lifetimeMs - real) <= intervalMs + 60, `lifetime ${c.lifetimeMs} vs truth ${real}`);
      assert.equal(c.connection!.preexisting, false);
    }
    assert.equal(events.at(-1)!.type, 'summary');
    await client.kill();
  });

  it('a target that exits: close, exit, summary and status 0 without waiting for --duration', async () => {
    const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 2 }]);
    const started = Date.now();
    const cli = startCli(['watch', String(client.pid), '--interval', '100ms', '--duration', '60s', '--json']);
    await cli.waitFor(/"type":"open"/);
    await client.exit();
    const r = await cli.result;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - started < 15_000);
    // (each poll, and the exit, also writes a `poll` event: data for a replay, left out here)
    const types = (ndjson(r.stdout) as Ev[]).map((e) => e.type).filter((t) => t !== 'poll');
    assert.deepEqual(types, ['start', 'open', 'open', 'close', 'close', 'exit', 'summary']);
  });

  it('--record plus SIGINT leaves a valid NDJSON file ending in summary', async () => {
    const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 1 }]);
    const file = path.join(tmp, 'rec.ndjson');
    const cli = startCli(['watch', String(client.pid), '--interval', '50ms', '--record', file]);
    await cli.waitFor(/ open /);
    const [second] = await client.open([{ host: '127.0.0.1', port: server.ipv4Port, count: 1 }]);
    await cli.waitFor(new RegExp(` open .*:${second!.localPort} `));
    cli.child.kill('SIGINT');
    const r = await cli.result;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^watching PID \d+ \(node\)/);
    assert.match(r.stdout, /\nsummary: watched /);
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.endsWith('\n'));
    const events = ndjson(text) as Ev[];
    assert.equal(events[0]!.type, 'start');
    assert.equal(events.at(-1)!.type, 'summary');
    assert.equal(events.filter((e) => e.type === 'open').length, 2);
    for (const e of events) assert.match(String(e.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await client.kill();
  });

  it('--record to an unwritable path fails before watching (exit 1, one line)', async () => {
    const r = await runCli(['watch', String(process.pid), '--record', path.join(tmp, 'nope', 'x.ndjson'), '--duration', '1s']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^sockwatch: cannot write .*x\.ndjson: no such directory\n$/);
  });

  it('a failed start (no such process) leaves no recording behind', async () => {
    let pid = 4_000_000;
    while (fs.existsSync(`/proc/${pid}`)) pid++;
    const file = path.join(tmp, 'never.ndjson');
    const r = await runCli(['watch', String(pid), '--record', file]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `sockwatch: no process with PID ${pid}\n`);
    assert.equal(fs.existsSync(file), false);
  });
});

describe('sockwatch demo', () => {
  it('--duration 3s in a pipe prints events of all three loops and leaves no child behind', async () => {
    const r = await runCli(['demo', '--duration', '3s'], { timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const m = /^demo: PID (\d+) is an HTTP client; its servers run in PID (\d+)/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    const ports: Record<string, string> = {};
    for (const [, port, loop] of r.stdout.matchAll(/remote port (\d+) = (\w+):/g)) ports[loop!] = port!;
    assert.deepEqual(Object.keys(ports).sort(), ['churn', 'keepalive', 'leak']);
    const lines = r.stdout.split('\n');
    const eventsTo = (loop: string, type: string): number =>
      lines.filter((l) => new RegExp(`^\\S+ ${type}\\s.*127\\.0\\.0\\.1:${ports[loop]}\\s`).test(l)).length;
    assert.equal(eventsTo('keepalive', 'open'), 1, 'keep-alive: one connection');
    assert.equal(eventsTo('keepalive', 'close'), 0);
    assert.ok(eventsTo('churn', 'open') >= 2, 'churn: a connection per request');
    assert.ok(eventsTo('churn', 'close') >= 1);
    assert.ok(eventsTo('leak', 'open') >= 1, 'leak: connections pile up');
    assert.equal(eventsTo('leak', 'close'), 0);
    assert.match(r.stdout, /^summary: /m);
    await eventually(() => !processAlive(Number(m[1])) && !processAlive(Number(m[2])), 'the demo client and server to stop');
  });

  it('a reader that goes away (| head) ends it quietly with status 0, children stopped', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-epipe-'));
    const file = path.join(dir, 'rec.ndjson');
    const cli = startCli(['demo', '--interval', '50ms', '--record', file]);
    const banner = await cli.waitFor(/^demo: PID \d+/);
    const pids = [...banner.matchAll(/PID (\d+)/g)].map((m) => Number(m[1]));
    cli.child.stdout!.destroy();
    const r = await cli.result;
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /EPIPE|Error/);
    await eventually(() => pids.every((pid) => !processAlive(pid)), `demo children ${pids.join(', ')} to stop`);
    const events = ndjson(fs.readFileSync(file, 'utf8')) as Ev[];
    assert.equal(events.at(-1)!.type, 'summary', 'the recording still ends with its summary');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
