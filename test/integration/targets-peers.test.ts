// Grouping by peer on a real client talking to two servers: summary.peers (the CLI) and the TUI's
// `g` view (a fake terminal over a real source) give each server its own row, with the counts the
// client reports about itself.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { eventually, ndjson, startCli, sleep } from '../helpers/cli';
import { createTracker } from '../../src/core/tracker';
import { openTarget } from '../../src/sources/open-target';
import { runTui } from '../../src/views/tui/run-tui';
import { createFakeTerminal, screenText, testSession, waitFor } from '../helpers/fake-terminal';

// Opens to A one at a time (each closed before the next), and two held connections to B; prints
// what it did as JSON lines: the truth the test compares with.
const CLIENT = `
const net = require('net');
const [a, b, stepMs] = process.argv.slice(1).map(Number);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const open = (port) => new Promise((r) => { const s = net.connect(port, '127.0.0.1', () => r(s)); s.on('error', () => {}); });
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  // starts when told: the watch's first poll must come before the first connection
  await new Promise((r) => process.stdin.once('data', r));
  const counts = { a: { opened: 0, closed: 0 }, b: { opened: 0, closed: 0 } };
  const held = [];
  for (let i = 0; i < 2; i++) { held.push(await open(b)); counts.b.opened++; }
  for (let i = 0; i < 3; i++) {
    const s = await open(a); counts.a.opened++;
    await wait(stepMs);
    if (i < 2) { s.destroy(); counts.a.closed++; await wait(stepMs); } else held.push(s);
  }
  await wait(stepMs);
  say({ done: true, counts, live: { a: 1, b: 2 } });
  setInterval(() => {}, 1000);
})();
`;

interface Truth {
  counts: { a: { opened: number; closed: number }; b: { opened: number; closed: number } };
  live: { a: number; b: number };
}

const servers: net.Server[] = [];
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of servers) s.close();
});

async function server(): Promise<number> {
  const s = net.createServer((c) => c.on('error', () => undefined));
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as net.AddressInfo).port;
}

function startClient(a: number, b: number, stepMs: number): { child: ChildProcess; done: Promise<Truth>; go: () => void } {
  const child = spawn(process.execPath, ['-e', CLIENT, String(a), String(b), String(stepMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const done = new Promise<Truth>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('"done"'));
      if (line !== undefined) resolve(JSON.parse(line) as Truth);
    });
  });
  return { child, done, go: () => child.stdin!.write('go\n') };
}

describe('grouping by peer', () => {
  it('summary.peers: one row per server, with the client\'s own counts', async () => {
    const [a, b] = [await server(), await server()];
    const client = startClient(a, b, 300);
    const cli = startCli(['watch', String(client.child.pid), '--json', '--interval', '50ms']);
    await cli.waitFor(/"type":"start"/);
    client.go();
    const truth = await client.done;
    // stop once the watch has reported every connection the client made (an open, or a brief
    // close) and every close, however late its polls run on a loaded machine
    const reported = (port: number): { conns: number; closes: number } => {
      const text = cli.stdout();
      const events = ndjson(text.slice(0, text.lastIndexOf('\n') + 1)) as { type: string; brief?: boolean; connection?: { remote: { port: number } } }[];
      const to = events.filter((e) => e.connection?.remote.port === port);
      return { conns: to.filter((e) => e.type === 'open' || (e.type === 'close' && e.brief === true)).length, closes: to.filter((e) => e.type === 'close').length };
    };
    await eventually(() => {
      const [ra, rb] = [reported(a), reported(b)];
      return ra.conns === truth.counts.a.opened && ra.closes === truth.counts.a.closed && rb.conns === truth.counts.b.opened && rb.closes === truth.counts.b.closed;
    }, 'the watch to report the client\'s opens and closes', 30_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify({ a: reported(a), b: reported(b), truth })}\n${cli.stdout()}\n${cli.stderr()}`);
    });
    cli.child.kill('SIGINT');
    const r = await cli.result;
    assert.equal(r.code, 0, r.stderr);
    const summary = ndjson(r.stdout).find((o) => o.type === 'summary') as { peers: { peer: string; direction: string; live: number; opened: number; closed: number; lifetimeMs: { p50: number } | null }[] };
    const rowA = summary.peers.find((p) => p.peer === `127.0.0.1:${a}`);
    const rowB = summary.peers.find((p) => p.peer === `127.0.0.1:${b}`);
    assert.ok(rowA && rowB, JSON.stringify(summary.peers));
    assert.deepEqual([rowA.direction, rowA.opened, rowA.closed, rowA.live], ['out', truth.counts.a.opened, truth.counts.a.closed, truth.live.a]);
    assert.deepEqual([rowB.direction, rowB.opened, rowB.closed, rowB.live], ['out', truth.counts.b.opened, truth.counts.b.closed, truth.live.b]);
    // A's connections each lived one step (300 ms), within a poll either way
    assert.ok(rowA.lifetimeMs !== null && Math.abs(rowA.lifetimeMs.p50 - 300) <= 150, JSON.stringify(rowA));
    assert.equal(rowB.lifetimeMs, null);
    assert.equal(summary.peers.length, 2, 'nothing else: the client has no other connection');
  });

  it('the TUI\'s g view lists the same rows', async () => {
    const [a, b] = [await server(), await server()];
    const client = startClient(a, b, 300);
    const pid = client.child.pid!;
    const source = openTarget({ spec: { pids: [pid], children: false } });
    const session = testSession({ tracker: createTracker(), pid, intervalMs: 50, startedMs: Date.now() });
    const term = createFakeTerminal(120, 30);
    const tui = runTui(session, { exportDir: '/tmp', input: term.input, output: term.output, noColor: true });
    try {
      let truth: Truth | undefined;
      void client.done.then((t) => (truth = t));
      session.poll(await source.snapshot('all'), Date.now());
      client.go();
      while (truth === undefined) {
        session.poll(await source.snapshot('all'), Date.now());
        await sleep(50);
      }
      session.poll(await source.snapshot('all'), Date.now());
      await term.press('g');
      const row = (port: number): string | undefined => screenText(tui.screen).split('\n').find((l) => l.includes(`127.0.0.1:${port} `));
      await waitFor(() => /OPENED +CLOSED/.test(screenText(tui.screen)) && row(a) !== undefined && row(b) !== undefined, 'two peer rows');
      const text = screenText(tui.screen);
      assert.match(text, /DIR +PEER +LIVE +OPENED +CLOSED/);
      // DIR PEER LIVE OPENED CLOSED: out, the server, then the client's own counts
      const cells = (port: number): string[] => row(port)!.trim().split(/\s+/).slice(0, 5);
      assert.deepEqual(cells(a), ['out', `127.0.0.1:${a}`, String(truth.live.a), String(truth.counts.a.opened), String(truth.counts.a.closed)]);
      assert.deepEqual(cells(b), ['out', `127.0.0.1:${b}`, String(truth.live.b), String(truth.counts.b.opened), String(truth.counts.b.closed)]);
      await term.press('g');
      await waitFor(() => !/OPENED +CLOSED/.test(screenText(tui.screen)), 'back to connections');
    } finally {
      tui.destroy();
      source.close();
    }
  });
});
