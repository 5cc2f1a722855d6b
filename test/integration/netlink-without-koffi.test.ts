// Where koffi cannot load (an unsupported platform, a broken install), the netlink source must
// still work through the `netlink` package's addon: the CLI runs with a preload that makes
// require('koffi') throw, and must still report the target's connections over netlink.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren, type LoopbackServer } from '../helpers/loopback';
import { ndjson, runCli } from '../helpers/cli';

const NO_KOFFI = `
const Module = require('module');
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === 'koffi' || request.startsWith('@koromix/')) {
    require('fs').appendFileSync(process.env.SOCKWATCH_TEST_REFUSED, request + '\\n');
    throw new Error('koffi refused by the test');
  }
  return load.call(this, request, ...rest);
};
`;

describe('netlink without koffi', () => {
  let server: LoopbackServer;
  let dir: string;
  before(async () => {
    server = await startLoopbackServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-nokoffi-'));
    fs.writeFileSync(path.join(dir, 'no-koffi.js'), NO_KOFFI);
  });
  after(async () => {
    await stopLoopbackChildren();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const preload of [true, false]) {
    it(`snapshot --format json ${preload ? 'with koffi refused falls back to the addon' : 'with koffi'}: the client's own ports`, async () => {
      const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 5 }]);
      const refused = path.join(dir, `refused-${preload}`);
      const env = { ...process.env, SOCKWATCH_TEST_REFUSED: refused, NODE_OPTIONS: preload ? `--require ${path.join(dir, 'no-koffi.js')}` : '' };
      const r = await runCli(['snapshot', String(client.pid), '--format', 'json', '--source', 'netlink'], { env });
      assert.equal(r.code, 0, r.stderr);
      const snap = JSON.parse(r.stdout) as { source: string; connections: { local: { port: number }; tcp?: { cookie: string } }[] };
      assert.equal(snap.source, 'netlink');
      // the CLI did ask for koffi, and went on without it
      assert.equal(fs.existsSync(refused), preload);
      const expected = client.connections.map((c) => c.localPort).sort();
      assert.deepEqual(snap.connections.map((c) => c.local.port).sort(), expected);
      // tcp_info came through exact lookups on whichever socket was used
      assert.ok(snap.connections.every((c) => typeof c.tcp?.cookie === 'string'));
      await client.kill();
    });
  }

  it('watch --json with koffi refused sees a connection open and close', async () => {
    const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 2 }]);
    const refused = path.join(dir, 'refused-watch');
    const env = { ...process.env, SOCKWATCH_TEST_REFUSED: refused, NODE_OPTIONS: `--require ${path.join(dir, 'no-koffi.js')}` };
    const watch = runCli(['watch', String(client.pid), '--json', '--source', 'netlink', '--interval', '100ms', '--duration', '2s', '--brief', 'none'], { env });
    await new Promise((r) => setTimeout(r, 700));
    const [closed] = await client.close([client.connections[0]!.localPort]);
    const r = await watch;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(refused));
    const events = ndjson(r.stdout);
    const closes = events.filter((e) => e.type === 'close').map((e) => (e.connection as { local: { port: number } }).local.port);
    assert.ok(closes.includes(closed!), `close of ${closed} not in ${JSON.stringify(closes)}`);
    await client.kill();
  });
});
