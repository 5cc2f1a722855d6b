// A real leak under the default --state (established): a client that never closes its sockets,
// against a server that times idle keep-alive connections out. The truth comes from the two
// programs themselves: how many sockets the server closed on the client (the client saw each
// peer FIN and did not close), and how many requests each connection carried.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as readline from 'node:readline';
import { ndjson, startCli } from '../helpers/cli';

const SERVER = String.raw`
const http = require('node:http');
const server = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok\n')); });
// idle keep-alive connections are closed by the server after this long
server.keepAliveTimeout = 400;
let timedOut = 0;
server.on('connection', (s) => s.on('end', () => undefined).on('close', () => { timedOut++; }));
server.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

// Opens LEAKS connections, one request each, reads the response, and never closes: allowHalfOpen
// keeps its end open after the server's FIN, so each socket sits in CLOSE_WAIT. Reports what it
// knows, then holds them HOLD_MS and exits.
const CLIENT = String.raw`
const net = require('node:net');
const [port, leaks, holdMs] = process.argv.slice(1).map(Number);
const sockets = [];
let peerClosed = 0;
let responses = 0;
function open(i) {
  const s = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => {
    s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
  });
  s.on('data', () => { responses++; });
  s.on('end', () => {
    peerClosed++;
    if (peerClosed === leaks) {
      process.stdout.write(JSON.stringify({ pid: process.pid, peerClosed, responses, localPorts: sockets.map((x) => x.localPort) }) + '\n');
      setTimeout(() => process.exit(0), holdMs);
    }
  });
  sockets.push(s);
}
process.stdout.write(JSON.stringify({ pid: process.pid }) + '\n');
process.stdin.once('data', () => { for (let i = 0; i < leaks; i++) setTimeout(() => open(i), i * 150); });
process.stdin.resume();
`;

const children: ChildProcess[] = [];
function child(script: string, args: string[]): { proc: ChildProcess; lines: AsyncIterableIterator<string> } {
  const proc = spawn(process.execPath, ['-e', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(proc);
  return { proc, lines: readline.createInterface({ input: proc.stdout! })[Symbol.asyncIterator]() };
}
async function nextJson(lines: AsyncIterableIterator<string>): Promise<Record<string, unknown>> {
  const r = await lines.next();
  if (r.done === true) throw new Error('child ended before reporting');
  return JSON.parse(r.value) as Record<string, unknown>;
}

type Ev = Record<string, unknown> & { type: string };

describe('a leaking client watched with the default --state', () => {
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('gives close_wait, no churn, and a summary that still lists it after the target exits', { timeout: 30_000 }, async () => {
    const LEAKS = 5;
    const HOLD_MS = 3000;
    const server = child(SERVER, []);
    const { port } = (await nextJson(server.lines)) as { port: number };
    const client = child(CLIENT, [String(port), String(LEAKS), String(HOLD_MS)]);
    const { pid } = (await nextJson(client.lines)) as { pid: number };

    const cli = startCli(['watch', String(pid), '--json', '--interval', '200ms']);
    await cli.waitFor(/"type":"start"/);
    client.proc.stdin!.write('go\n');
    const truth = (await nextJson(client.lines)) as { peerClosed: number; responses: number; localPorts: number[] };
    assert.equal(truth.peerClosed, LEAKS);
    const r = await cli.result; // the watch ends when the client exits
    assert.equal(r.code, 0, r.stderr);
    const events = ndjson(r.stdout) as Ev[];
    const start = events[0]!;
    assert.deepEqual(start.states, ['ESTABLISHED']);
    assert.equal(start.intervalMs, 200);
    const summary = events.at(-1)!;
    assert.equal(summary.type, 'summary');

    // each leaked socket: one open, the move to CLOSE_WAIT as a state event, its close only at the exit
    const conn = (e: Ev): { local: { port: number } } => e.connection as { local: { port: number } };
    const mine = (e: Ev): boolean => truth.localPorts.includes(conn(e).local.port);
    const opens = events.filter((e) => e.type === 'open' && mine(e));
    const moves = events.filter((e) => e.type === 'state' && mine(e) && e.to === 'CLOSE_WAIT');
    assert.equal(opens.length, LEAKS, r.stdout);
    assert.equal(moves.length, LEAKS, r.stdout);
    const exitAt = events.findIndex((e) => e.type === 'exit');
    assert.ok(exitAt > 0);
    // closed only as the client exits (a poll may catch its fds closing just before it is gone),
    // in CLOSE_WAIT to the end
    const closes = events.filter((e) => e.type === 'close' && mine(e));
    assert.equal(closes.length, LEAKS);
    const exitMs = Date.parse(events[exitAt]!.time as string);
    for (const c of closes) {
      const at = Date.parse(c.time as string);
      assert.ok(at <= exitMs && at >= exitMs - 500, `closed at ${c.time as string}, exit at ${events[exitAt]!.time as string}`);
      assert.equal((c.connection as { state: string }).state, 'CLOSE_WAIT');
    }

    const findings = summary.findings as (Record<string, unknown> & { kind: string; until: string | null })[];
    const cw = findings.find((f) => f.kind === 'close_wait');
    assert.ok(cw, JSON.stringify(findings));
    assert.equal(cw.count, truth.peerClosed);
    assert.equal(typeof cw.since, 'string');
    assert.equal(typeof cw.until, 'string', 'it held until the target exited');
    assert.equal(findings.some((f) => f.kind === 'churn'), false, JSON.stringify(findings));
    const raised = events.filter((e) => e.type === 'finding' && (e.finding as { kind: string }).kind === 'close_wait');
    assert.equal(raised[0]?.change, 'raised');
    assert.equal(raised.at(-1)?.change, 'cleared');
    // the counts see everything: opened all of them, closed by the exit
    assert.equal(summary.opened, LEAKS);
    assert.equal(summary.closed, LEAKS);
  });
});
