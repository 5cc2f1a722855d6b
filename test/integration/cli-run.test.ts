// `sockwatch run -- CMD`: CMD is watched from before its first connection, its exit status is
// sockwatch's, and a signal to sockwatch reaches CMD.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { eventually, ndjson, processAlive, runCli, startCli } from '../helpers/cli';

const servers: net.Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

async function server(): Promise<number> {
  const s = net.createServer((c) => c.on('error', () => undefined));
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as net.AddressInfo).port;
}

/** connects at once, prints its local port, holds the connection `holdMs`, then exits with `code` (or kills itself) */
const CLIENT = `
const net = require('net');
const [port, holdMs, how] = process.argv.slice(1);
const s = net.connect(Number(port), '127.0.0.1', () => {
  process.stderr.write('client local port ' + s.localPort + '\\n');
  setTimeout(() => { if (how === 'kill') process.kill(process.pid, 'SIGKILL'); else process.exit(Number(how)); }, Number(holdMs));
});
`;

describe('sockwatch run', () => {
  it('the first connection of CMD is an open that is not preexisting; exit status 3 passes through', async () => {
    const port = await server();
    const r = await runCli(['run', '--json', '--interval', '50ms', '--', process.execPath, '-e', CLIENT, String(port), '600', '3']);
    assert.equal(r.code, 3, r.stderr);
    const localPort = Number(/client local port (\d+)/.exec(r.stderr)?.[1]);
    const events = ndjson(r.stdout);
    const open = events.find((e) => e.type === 'open') as { connection: { local: { port: number }; remote: { port: number }; preexisting: boolean; direction: string; pid: number } } | undefined;
    assert.ok(open, r.stdout);
    assert.equal(open.connection.local.port, localPort, 'the connection the client made');
    assert.equal(open.connection.remote.port, port);
    assert.equal(open.connection.preexisting, false);
    assert.equal(open.connection.direction, 'out');
    const summary = events.find((e) => e.type === 'summary') as { opened: number };
    assert.equal(summary.opened, 1);
    assert.ok(events.some((e) => e.type === 'exit'), 'the exit of CMD was seen');
  });

  it('killed by SIGKILL: 137', async () => {
    const port = await server();
    const r = await runCli(['run', '--no-tui', '--interval', '50ms', '--', process.execPath, '-e', CLIENT, String(port), '200', 'kill']);
    assert.equal(r.code, 137, r.stderr);
  });

  it('SIGINT to sockwatch stops CMD, and sockwatch ends with its status', async () => {
    const port = await server();
    const cli = startCli(['run', '--json', '--interval', '50ms', '--', process.execPath, '-e', CLIENT, String(port), '60000', '0']);
    const start = await cli.waitFor(/"type":"start"/);
    const pid = (JSON.parse(start) as { pid: number }).pid;
    await cli.waitFor(/"type":"open"/);
    cli.child.kill('SIGINT');
    const r = await cli.result;
    assert.equal(r.code, 130, r.stderr);
    await eventually(() => !processAlive(pid), `CMD (PID ${pid}) to be gone`);
  });

  it('a command that does not exist: one line, 127', async () => {
    const r = await runCli(['run', '--no-tui', '--', '/nonexistent/sockwatch-test-cmd']);
    assert.equal(r.code, 127);
    assert.match(r.stderr, /^sockwatch: cannot run "\/nonexistent\/sockwatch-test-cmd": command not found\n$/);
  });
});
