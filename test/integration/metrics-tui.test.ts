// The metrics endpoint answers while the full-screen TUI runs (the real CLI in tmux), and goes away with it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, sleep } from '../helpers/cli';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren } from '../helpers/loopback';
import { announcedUrl, httpRequest, requireTool } from '../helpers/metrics-http';
import { parsePromText, seriesKey } from '../helpers/prom-text';

const SOCKET = `sockwatch-metrics-tui-${process.pid}`;
const SESSION = 'tui';
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });

after(async () => {
  try {
    tmux('kill-server');
  } catch {
    // never started, or already gone
  }
  await stopLoopbackChildren();
});

async function until<T>(get: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('watch --metrics with the TUI on screen: scrapes answer with the live connections; q closes the port', async () => {
  requireTool('tmux', ['-V'], 'tmux');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-metrics-tui-'));
  const server = await startLoopbackServer();
  const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 3 }]);
  const errFile = path.join(dir, 'stderr');
  const exitFile = path.join(dir, 'exit-code');
  const q = JSON.stringify;
  const cmd = `LANG=C.UTF-8 ${q(process.execPath)} ${q(CLI)} watch ${client.pid} --interval 200ms --metrics 127.0.0.1:0 2>${q(errFile)}; echo $? > ${q(exitFile)}; sleep 30`;
  tmux('new-session', '-d', '-s', SESSION, '-x', '100', '-y', '30', cmd);
  try {
    const screen = (): string => tmux('capture-pane', '-p', '-t', SESSION);
    await until(() => (screen().includes(`PID ${client.pid}`) ? true : undefined), 'the TUI');
    const url = await until(() => announcedUrl(fs.existsSync(errFile) ? fs.readFileSync(errFile, 'utf8') : ''), 'the metrics URL');

    const t = { target: String(client.pid) };
    const live = async (): Promise<number | undefined> =>
      parsePromText((await httpRequest(url)).body).samples.get(seriesKey('sockwatch_connections', { ...t, state: 'ESTABLISHED' }));
    // the first scrapes may come before the first poll has shown the connections: wait for them
    const held = client.connections.length;
    await until(async () => ((await live()) === held ? true : undefined), `a scrape showing the ${held} connections`);

    await client.open([{ host: '127.0.0.1', port: server.ipv4Port, count: 2 }]);
    await until(async () => ((await live()) === 5 ? true : undefined), 'the two new connections in the metrics');
    // the TUI draws the poll a moment after the metrics take it in (a render tick): wait for it
    await until(() => (/now 5 /.test(screen()) ? true : undefined), 'the TUI to draw the same poll', 5_000).catch(() => undefined);
    assert.match(screen(), /now 5 /, 'the TUI shows them too: both views follow one session');

    tmux('send-keys', '-t', SESSION, 'q');
    const code = await until(() => (fs.existsSync(exitFile) ? fs.readFileSync(exitFile, 'utf8').trim() || undefined : undefined), 'the exit');
    assert.equal(code, '0', fs.readFileSync(errFile, 'utf8'));
    await assert.rejects(httpRequest(url), (e: NodeJS.ErrnoException) => e.code === 'ECONNREFUSED');
  } finally {
    await client.kill();
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
