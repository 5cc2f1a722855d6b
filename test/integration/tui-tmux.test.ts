// The real CLI's TUI in a real terminal: tmux runs `sockwatch watch <pid>` against a loopback
// client whose sockets we know; keys go in with send-keys, the screen comes back with capture-pane.
// Uses a private tmux server (-L) so it never touches the user's sessions. Skipped without tmux.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI } from '../helpers/cli';
import { requireTools } from '../helpers/real-tools';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren } from '../helpers/loopback';
import { syntheticRecording } from '../helpers/synthetic-recording';

const SOCKET = `sockwatch-tui-test-${process.pid}`;
const SESSION = 'tui';

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

const screen = (session = SESSION): string => tmux('capture-pane', '-p', '-t', session);

async function until(check: (text: string) => boolean, what: string, timeoutMs = 10_000, session = SESSION): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = screen(session);
    if (check(text)) return text;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; screen:\n${text}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const keys = (...k: string[]): void => void tmux('send-keys', '-t', SESSION, ...k);
const keysTo = (session: string, ...k: string[]): void => void tmux('send-keys', '-t', session, ...k);

after(async () => {
  try {
    tmux('kill-server');
  } catch {
    // already gone
  }
  await stopLoopbackChildren();
});

test('sockwatch <pid> in tmux: rows, pause, filter, export, help, live updates, q restores the terminal', async () => {
  // a missing tmux fails naming its package (docs/testing.md: never a skip)
  requireTools('tmux');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-tmux-'));
  const server = await startLoopbackServer();
  const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 3 }]);
  const exitFile = path.join(dir, 'exit-code');
  const cmd = `LANG=C.UTF-8 ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} watch ${client.pid} --interval 200ms --export-dir ${JSON.stringify(dir)}; echo $? > ${JSON.stringify(exitFile)}; sleep 30`;
  tmux('new-session', '-d', '-s', SESSION, '-x', '80', '-y', '24', cmd);
  try {
    let text = await until((t) => t.includes(`PID ${client.pid}`) && client.connections.every((c) => t.includes(`:${c.localPort}`)), 'the connections');
    const lines = text.split('\n');
    assert.ok(lines.length >= 24 && lines.every((l) => l.length <= 80));
    assert.match(text, /FD. +(DIR +)?LOCAL +REMOTE +STATE/);
    assert.ok(text.includes(`127.0.0.1:${server.ipv4Port}`));
    assert.match(text, /now 3 /);

    keys('Space');
    await until((t) => t.includes('PAUSED'), 'the PAUSED banner');
    keys('Space');
    await until((t) => !t.includes('PAUSED:'), 'resume');

    const one = client.connections[0];
    assert.ok(one);
    keys('/', ...String(one.localPort).split(''), 'Enter');
    text = await until((t) => /1-1\/1 \(of 3\)/.test(t), 'the filtered table');
    keys('/', 'Escape');
    await until((t) => /1-3\/3/.test(t), 'the filter cleared');

    keys('e');
    text = await until((t) => /exported JSON: \S+/.test(t), 'the export path');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.equal(files.length, 1);

    await client.open([{ host: '127.0.0.1', port: server.ipv4Port, count: 1 }]);
    await until((t) => /now 4 /.test(t) && / open  127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+/.test(t), 'the new connection and its open event');

    keys('?');
    await until((t) => t.includes('sockwatch keys'), 'the help overlay');
    keys('x');
    await until((t) => !t.includes('sockwatch keys'), 'help closed');

    // The target exits: the screen keeps its data under a banner until the user quits.
    await client.exit();
    await until((t) => /EXITED/i.test(t), 'the exited banner');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(fs.existsSync(exitFile), false, 'still on screen after the target exited');

    keys('q');
    await until(() => fs.existsSync(exitFile), 'sockwatch to exit');
    assert.equal(fs.readFileSync(exitFile, 'utf8').trim(), '0');
    // Back on the normal screen: the TUI is gone and the CLI's summary is there.
    text = screen();
    assert.doesNotMatch(text, /\? help  q quit/);
    assert.match(text, /summary/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('replay in tmux: q leaves the replayed summary on the normal screen', async () => {
  // a missing tmux fails naming its package (docs/testing.md: never a skip)
  requireTools('tmux');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-tmux-replay-'));
  const file = path.join(dir, 'run.ndjson');
  fs.writeFileSync(file, syntheticRecording({ churn: 20, leak: 2 }));
  const exitFile = path.join(dir, 'exit-code');
  // What the same recording replays to without the screen: the summary the TUI must leave behind.
  const noTui = execFileSync(process.execPath, [CLI, 'replay', file, '--no-tui'], { encoding: 'utf8' });
  const summary = noTui.split('\n').find((l) => l.startsWith('summary:'));
  assert.ok(summary, noTui);
  const session = 'replay';
  const cmd = `LANG=C.UTF-8 ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} replay ${JSON.stringify(file)}; echo $? > ${JSON.stringify(exitFile)}; sleep 30`;
  tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', cmd);
  try {
    await until((t) => t.includes('REPLAY'), 'the replay screen', 10_000, session);
    // as fast as possible, to the end of the recording
    for (let n = 0; n < 5; n++) keysTo(session, '+');
    await until((t) => t.includes('end of recording'), 'the end of the recording', 20_000, session);
    keysTo(session, 'q');
    await until(() => fs.existsSync(exitFile), 'replay to exit', 10_000, session);
    assert.equal(fs.readFileSync(exitFile, 'utf8').trim(), '0');
    const text = screen(session).split('\n').map((l) => l.trimEnd()).join('\n');
    assert.doesNotMatch(text, /\? help  q quit/);
    assert.match(text, /replayed run\.ndjson: \S+ of \S+/);
    // tmux wraps at 100 columns: compare the summary's first 90 characters
    assert.ok(text.includes(summary.slice(0, 90)), `missing ${summary}\n---\n${text}`);
  } finally {
    try {
      tmux('kill-session', '-t', session);
    } catch {
      // already gone
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
