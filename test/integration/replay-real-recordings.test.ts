// Recordings of real watches replay to the summary the watch wrote, field for field (issue 22):
// a `demo --record`, a watched server whose clients' connections are all brief (destroy
// notifications, exact close times), and a watch that ends in PID reuse. The replay feeds the
// recorded events to the watch state; nothing is rebuilt or invented, so any difference the check
// prints would be a real one.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ndjson, runCli, startCli } from '../helpers/cli';
import { startPythonServer, stopRealHttp } from '../helpers/real-http';
import { killAllNodeClients, startNodeClient } from '../helpers/node-client';
import { runHarness } from '../helpers/pid-reuse';
import { isRoot } from '../helpers/real-tools';

after(async () => {
  killAllNodeClients();
  await stopRealHttp();
});

function tmp(name: string): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-replay-real-')), name);
}

type Obj = Record<string, unknown>;

/** the summary fields a replay must reproduce (the lag is the watch's own, not its events') */
const SUMMARY_FIELDS = ['opened', 'closed', 'closedPreexisting', 'brief', 'likelyBrief', 'peak', 'listening', 'lifetimeMs', 'durationMs', 'findings', 'unattributedBrief', 'peers'];
/**
 * of each live connection: what its events say. Its counters, timer and queues are the last poll's
 * in the summary and the last event's in a recording (a recording holds no snapshot per poll).
 */
const CONNECTION_FIELDS = ['id', 'state', 'exchanges', 'lifetimeMs', 'preexisting', 'firstSeen', 'local', 'remote', 'direction', 'pid'];

function connectionsOf(summary: Obj): Obj[] {
  return (summary.connections as Obj[]).map((c) => Object.fromEntries(CONNECTION_FIELDS.map((k) => [k, c[k]])));
}

/** `replay --no-tui` says the recorded summary agrees, and `replay --json` ends with the same summary. */
async function assertReplays(file: string): Promise<{ recorded: Obj; events: Obj[] }> {
  const events = ndjson(fs.readFileSync(file, 'utf8'));
  const recorded = events.at(-1)!;
  assert.equal(recorded.type, 'summary', 'the recording ends with its summary');
  const lines = await runCli(['replay', file, '--no-tui'], { timeoutMs: 60_000 });
  assert.equal(lines.code, 0, lines.stderr);
  assert.match(lines.stdout, /^check: the recorded summary agrees with the replay$/m, lines.stdout.split('\n').slice(-30).join('\n'));
  const json = await runCli(['replay', file, '--json'], { timeoutMs: 60_000 });
  assert.equal(json.code, 0, json.stderr);
  const replayed = ndjson(json.stdout);
  assert.equal(replayed[0]!.type, 'start');
  const summary = replayed.at(-1)!;
  assert.equal(summary.type, 'summary');
  for (const f of SUMMARY_FIELDS) assert.deepEqual(summary[f], recorded[f], `summary.${f}`);
  assert.deepEqual(connectionsOf(summary), connectionsOf(recorded));
  // the replay's stream is the watch's: the same connection events, in the same order
  const conn = (l: readonly Obj[]): string[] => l.filter((e) => e.type === 'open' || e.type === 'close' || e.type === 'state').map((e) => `${String(e.type)} ${String((e.connection as Obj).id)} ${String(e.time)}`);
  assert.deepEqual(conn(replayed), conn(events));
  return { recorded, events };
}

describe('replaying recordings of real watches', { concurrency: 1 }, () => {
  it('demo --record: the replay reproduces the summary', async () => {
    const file = tmp('demo.ndjson');
    const r = await runCli(['demo', '--no-tui', '--interval', '100ms', '--duration', '4s', '--record', file], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const { recorded, events } = await assertReplays(file);
    assert.ok(events.some((e) => e.type === 'poll'), 'the recording has poll events');
    assert.ok((recorded.opened as number) > 0, JSON.stringify(recorded));
  });

  it('a server whose clients connect and close between polls: brief closes at exact times replay exactly', async () => {
    assert.ok(isRoot(), 'destroy notifications of other users’ sockets need root');
    const server = await startPythonServer();
    const client = await startNodeClient([`fresh:${server.port}:40`]);
    const file = tmp('brief.ndjson');
    // a long interval: the clients' connections open and close between two polls
    const watch = startCli(['watch', String(server.program.child.pid), '--no-tui', '--brief', 'destroy', '--interval', '2s', '--record', file]);
    await watch.waitFor(/^TIME /, 15_000);
    client.go();
    assert.equal(await client.exited, 0, client.stderr());
    assert.equal([...server.requestsByClientPort().values()].reduce((a, b) => a + b, 0), 40, 'the server answered 40 requests');
    // wait for the poll that takes in the destroy notifications of all 40
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (watch.stdout().match(/ brief/g)?.length ?? 0) < 40) await new Promise((res) => setTimeout(res, 50));
    watch.child.kill('SIGINT');
    const result = await watch.result;
    assert.equal(result.code, 0, result.stderr);
    const { recorded, events } = await assertReplays(file);
    const briefs = events.filter((e) => e.type === 'close' && e.brief === true);
    assert.equal(briefs.length, 40, `brief closes recorded: ${briefs.length}`);
    assert.ok(briefs.every((e) => e.closeTime === 'exact'));
    assert.equal(recorded.brief, 40);
  });

  it('a watch that ends in PID reuse replays to the original’s summary', async () => {
    assert.ok(isRoot(), 'PID reuse is forced in a PID namespace (root)');
    const r = await runHarness('procfs', 400);
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.b.pid, r.a.pid, 'the harness did not get A’s PID for B: the test proves nothing');
    assert.ok(r.swapMs < 200, `the swap took ${r.swapMs} ms: a poll may have seen the PID free`);
    assert.equal(r.sockwatch.code, 0, r.sockwatch.stderr);
    const file = tmp('reuse.ndjson');
    fs.writeFileSync(file, r.sockwatch.stdout);
    const { events } = await assertReplays(file);
    assert.ok(events.some((e) => e.type === 'exit' && e.reason === 'pid_reused'), r.sockwatch.stdout);
  });
});
