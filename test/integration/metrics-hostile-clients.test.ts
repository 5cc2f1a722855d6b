// The metrics endpoint of the real CLI against clients that try to take it down: a request target
// that is no URL, a slow client dripping its headers, thousands of idle connections under a low
// descriptor limit, and a limit lowered under a running serve so that its polls fail with EMFILE.
// Each time `serve` must go on, later scrapes must work, and the recording must still end with its
// summary. Descriptor limits are set with util-linux `prlimit` (argv, no shell).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, ndjson, sleep } from '../helpers/cli';
import { startLoopbackServer, stopLoopbackChildren } from '../helpers/loopback';
import { httpRequest, requireTool, startChurnClient, waitForAnnouncedUrl, type ChurnClient } from '../helpers/metrics-http';
import { parsePromText } from '../helpers/prom-text';

/** What sockwatch documents (docs/metrics.md); the tests check the behaviour, not these values. */
const MAX_CONNECTIONS = 64;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-hostile-'));
const churners: ChurnClient[] = [];
after(async () => {
  for (const c of churners) c.kill();
  await stopLoopbackChildren();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Serve {
  child: ChildProcess;
  url: string;
  port: number;
  record: string;
  stderr(): string;
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `sockwatch serve` of a churning client, recording; `nofile`: its RLIMIT_NOFILE, through prlimit. */
async function startServe(name: string, nofile?: number): Promise<Serve> {
  const server = await startLoopbackServer();
  const churn = await startChurnClient('127.0.0.1', server.ipv4Port, 60, 150);
  churners.push(churn);
  const record = path.join(tmp, `${name}.ndjson`);
  const argv = [process.execPath, CLI, 'serve', String(churn.pid), '--interval', '100ms', '--metrics', '127.0.0.1:0', '--record', record];
  if (nofile !== undefined) {
    requireTool('prlimit', ['--version'], 'util-linux');
    argv.unshift('prlimit', `--nofile=${nofile}:${nofile}`, '--');
  }
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString('utf8')));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('close', (code, signal) => r({ code, signal })));
  const url = await waitForAnnouncedUrl(() => err);
  return { child, url, port: Number(new URL(url).port), record, stderr: () => err, closed };
}

/** SIGTERM: serve ends with exit 0, one summary at the end of its recording, no stack trace. */
async function stopServe(s: Serve): Promise<void> {
  assert.equal(s.child.exitCode, null, `serve ended early:\n${s.stderr()}`);
  s.child.kill('SIGTERM');
  const r = await s.closed;
  assert.deepEqual(r, { code: 0, signal: null }, s.stderr());
  assert.doesNotMatch(s.stderr(), /\n\s+at |TypeError|RangeError/);
  const events = ndjson(fs.readFileSync(s.record, 'utf8'));
  assert.equal(events[0]?.type, 'start');
  assert.equal(events.at(-1)?.type, 'summary');
  assert.equal(events.filter((e) => e.type === 'summary').length, 1);
}

async function until<T>(what: string, timeoutMs: number, check: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Sends `bytes` on a new connection; resolves with all that came back once the server closed it. */
function rawExchange(port: number, bytes: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes, 'latin1'));
    let got = '';
    s.on('data', (b: Buffer) => (got += b.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(got)}`));
    }, timeoutMs);
  });
}

async function scrapeTargetUp(url: string, pid?: string): Promise<number | undefined> {
  const res = await httpRequest(url);
  assert.equal(res.status, 200);
  const samples = parsePromText(res.body).samples;
  const key = [...samples.keys()].find((k) => k.startsWith('sockwatch_target_up{') && (pid === undefined || k.includes(`"${pid}"`)));
  return key === undefined ? undefined : samples.get(key);
}

/** A client that connects and sends nothing; it reads, so that it sees the server close. */
function idleClient(port: number, onClose: () => void): net.Socket {
  const c = net.connect(port, '127.0.0.1');
  c.on('error', () => undefined);
  c.once('close', onClose);
  c.resume();
  return c;
}

/** The descriptor the process's next open would get: a soft limit of it leaves none to open. */
function lowestFreeFd(pid: number): number {
  const open = new Set(fs.readdirSync(`/proc/${pid}/fd`).map(Number));
  let fd = 0;
  while (open.has(fd)) fd++;
  return fd;
}

/** How many descriptors the process holds, from the kernel. */
function openFds(pid: number): number {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

test('a request target that is no URL is a 400; serve goes on and the next scrape works', async () => {
  const s = await startServe('bad-url');
  try {
    await until('the first poll', 10_000, async () => ((await scrapeTargetUp(s.url)) === 1 ? true : undefined));
    // curl --request-target 'http://[' sends exactly this request line
    for (const target of ['http://[', '[', 'http://[::1', '//[/metrics']) {
      const answer = await rawExchange(s.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      assert.match(answer, /^HTTP\/1\.1 400 /, `${target}: ${answer}`);
      assert.equal(s.child.exitCode, null, `serve died on ${target}:\n${s.stderr()}`);
    }
    // a request line the parser rejects outright: node's clientError, answered 400 by us
    assert.match(await rawExchange(s.port, 'GET /metrics HTTP/9.9\r\n\r\n'), /^HTTP\/1\.1 400 /);
    assert.match(await rawExchange(s.port, '\x00\x01\x02\r\n\r\n'), /^HTTP\/1\.1 400 /);
    // a client that resets mid-request
    const rst = net.connect(s.port, '127.0.0.1', () => {
      rst.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
      rst.resetAndDestroy();
    });
    rst.on('error', () => undefined);
    await new Promise((r) => rst.once('close', r));
    assert.equal(await scrapeTargetUp(s.url), 1);
    await stopServe(s);
  } finally {
    s.child.kill('SIGKILL');
  }
});

test('slow clients dripping their headers are cut off by the header timeout and block no scrape', async () => {
  const s = await startServe('slowloris');
  const slow: { socket: net.Socket; sent: number; closedAfterMs: number | undefined; answer: string }[] = [];
  const header = 'Host: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(40) + '\r\n\r\n';
  const drip: NodeJS.Timeout[] = [];
  try {
    await until('the first poll', 10_000, async () => ((await scrapeTargetUp(s.url)) === 1 ? true : undefined));
    const started = Date.now();
    for (let i = 0; i < 10; i++) {
      const c = { socket: net.connect(s.port, '127.0.0.1'), sent: 0, closedAfterMs: undefined as number | undefined, answer: '' };
      c.socket.on('error', () => undefined);
      c.socket.on('data', (b: Buffer) => (c.answer += b.toString('latin1')));
      c.socket.on('close', () => (c.closedAfterMs = Date.now() - started));
      c.socket.write('GET /metrics HTTP/1.1\r\n');
      // one byte a second: the whole header would take 60 s
      drip.push(setInterval(() => {
        if (c.closedAfterMs === undefined && c.sent < header.length) c.socket.write(header[c.sent++]!);
      }, 1000));
      slow.push(c);
    }
    let scrapes = 0;
    while (slow.some((c) => c.closedAfterMs === undefined)) {
      assert.ok(Date.now() - started < 30_000, 'the slow clients were never cut off');
      assert.equal(await scrapeTargetUp(s.url), 1, 'a scrape while slow clients hold connections');
      scrapes++;
      await sleep(100);
    }
    assert.ok(scrapes >= 5, `only ${scrapes} scrapes while the slow clients were connected`);
    for (const c of slow) {
      assert.ok(c.sent < header.length, `a slow client sent its whole header (${c.sent} bytes) before being cut off`);
      // told why (408) when the socket could still take it, else just closed
      assert.ok(c.answer === '' || c.answer.startsWith('HTTP/1.1 408 Request Timeout\r\n'), JSON.stringify(c.answer));
    }
    await stopServe(s);
  } finally {
    for (const d of drip) clearInterval(d);
    for (const c of slow) c.socket.destroy();
    s.child.kill('SIGKILL');
  }
});

test('2,000 idle connections under a 256-descriptor limit: serve goes on, holds at most the cap, scrapes resume', async () => {
  const s = await startServe('idle', 256);
  const pid = s.child.pid!;
  const idle: net.Socket[] = [];
  let closedIdle = 0;
  try {
    await until('the first poll', 10_000, async () => ((await scrapeTargetUp(s.url)) === 1 ? true : undefined));
    const baseFds = openFds(pid);
    // In batches that each complete their handshakes first: 2,000 SYNs at once would overflow the
    // kernel's accept queue, and a scrape's SYN would wait for a retransmission.
    for (let batch = 0; batch < 20; batch++) {
      const connected: Promise<unknown>[] = [];
      for (let i = 0; i < 100; i++) {
        const c = idleClient(s.port, () => closedIdle++);
        connected.push(new Promise((r) => (c.once('connect', r), c.once('close', r))));
        idle.push(c);
      }
      await Promise.all(connected);
    }
    // While they are connected or being refused: scrapes succeed or are refused cleanly (a reset,
    // never a hang), and sockwatch never holds more than the cap beyond what it held before.
    let maxFds = 0;
    let ok = 0;
    let refused = 0;
    const end = Date.now() + 40_000;
    while (closedIdle < idle.length && Date.now() < end) {
      assert.equal(s.child.exitCode, null, `serve ended:\n${s.stderr()}`);
      maxFds = Math.max(maxFds, openFds(pid));
      try {
        assert.equal(await scrapeTargetUp(s.url), 1);
        ok++;
      } catch (e) {
        assert.match(String((e as NodeJS.ErrnoException).code ?? (e as Error).message), /ECONNRESET|ECONNREFUSED|EPIPE|socket hang up/, `serve's stderr:\n${s.stderr()}`);
        refused++;
      }
      await sleep(100);
    }
    assert.ok(maxFds <= baseFds + MAX_CONNECTIONS + 8, `sockwatch held ${maxFds} descriptors (${baseFds} before the idle clients, cap ${MAX_CONNECTIONS})`);
    assert.ok(ok + refused > 0);
    await until('every idle connection closed by serve', 5_000, () => (closedIdle === idle.length ? true : undefined));
    assert.equal(await scrapeTargetUp(s.url), 1, 'a scrape once the idle clients are gone');
    assert.doesNotMatch(s.stderr(), /a poll failed/, 'the polls never ran out of descriptors');
    await stopServe(s);
  } finally {
    for (const c of idle) c.destroy();
    s.child.kill('SIGKILL');
  }
});

test('200 idle connections under a 60-descriptor limit: the cap shrinks to fit, no poll runs out of descriptors', async () => {
  const s = await startServe('tight', 60);
  const pid = s.child.pid!;
  const idle: net.Socket[] = [];
  let closedIdle = 0;
  try {
    await until('the first poll', 10_000, async () => ((await scrapeTargetUp(s.url)) === 1 ? true : undefined));
    for (let i = 0; i < 200; i++) idle.push(idleClient(s.port, () => closedIdle++));
    let maxFds = 0;
    await until('every idle connection closed by serve', 40_000, () => {
      maxFds = Math.max(maxFds, openFds(pid));
      return closedIdle === idle.length ? true : undefined;
    });
    assert.ok(maxFds < 60, `sockwatch reached ${maxFds} descriptors of 60`);
    assert.equal(s.child.exitCode, null, `serve ended:\n${s.stderr()}`);
    // The churning target's descriptor table changes every poll, so each poll opened its fd directory.
    assert.doesNotMatch(s.stderr(), /a poll failed/);
    assert.equal(await scrapeTargetUp(s.url), 1);
    await stopServe(s);
  } finally {
    for (const c of idle) c.destroy();
    s.child.kill('SIGKILL');
  }
});

test('polls failing with EMFILE (the limit lowered under a running serve) are one notice; the watch goes on', async () => {
  requireTool('prlimit', ['--version'], 'util-linux');
  const s = await startServe('emfile');
  const pid = s.child.pid!;
  const setSoftLimit = (n: number | string): void => {
    const r = spawnSync('prlimit', ['--pid', String(pid), `--nofile=${n}:`], { encoding: 'utf8' });
    assert.equal(r.status, 0, `prlimit: ${r.stderr}`);
  };
  const soft = /^Max open files\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1];
  assert.ok(soft !== undefined);
  const sample = async (name: string): Promise<number | undefined> =>
    [...parsePromText((await httpRequest(s.url)).body).samples.entries()].find(([k]) => k.startsWith(`${name}{`))?.[1];
  try {
    await until('the first poll', 10_000, async () => ((await sample('sockwatch_target_up')) === 1 ? true : undefined));
    // No descriptor left to open: the churning target's table changes every poll, so each poll
    // opens its fd directory, and fails.
    // Applied again at every check until a poll fails: a descriptor the serve closes after the
    // limit is set (a scrape's connection, under load) leaves a hole below it that a poll can use.
    await until('a notice of a failed poll', 20_000, () => {
      if (/sockwatch: a poll failed \(.*EMFILE.*\); retrying every 100ms\n/.test(s.stderr())) return true;
      setSoftLimit(lowestFreeFd(pid));
      return undefined;
    });
    await sleep(500); // several intervals of failed polls
    assert.equal(s.child.exitCode, null, `serve ended:\n${s.stderr()}`);
    setSoftLimit(soft);
    await until('the polls resuming', 10_000, () => (/sockwatch: polls resumed after \d+ failed\n/.test(s.stderr()) ? true : undefined));
    assert.equal(s.stderr().match(/a poll failed/g)?.length, 1, `one notice for the whole streak:\n${s.stderr()}`);
    const failed = Number(/polls resumed after (\d+) failed/.exec(s.stderr())?.[1]);
    assert.ok(failed >= 2, s.stderr());
    const errors = await sample('sockwatch_poll_errors_total');
    assert.ok(errors !== undefined && errors >= failed, `sockwatch_poll_errors_total ${String(errors)}, ${failed} failed polls`);
    assert.equal(await sample('sockwatch_target_up'), 1);
    // the polls go on: the churning client's opens keep being counted
    const before = (await sample('sockwatch_connections_opened_total')) ?? 0;
    await until('more opens counted after the failures', 10_000, async () => (((await sample('sockwatch_connections_opened_total')) ?? 0) > before ? true : undefined));
    await stopServe(s);
  } finally {
    s.child.kill('SIGKILL');
  }
});
