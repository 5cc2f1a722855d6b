// Where koffi cannot load, netlink (requests and destroy notifications alike run on koffi) is not
// offered: the CLI runs with a preload that makes require('koffi') throw, and must report the
// target's connections through procfs, saying once on stderr why.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren, type LoopbackServer } from '../helpers/loopback';
import { ndjson, runCli, startCli } from '../helpers/cli';

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

  const NOTICE = /^sockwatch: the netlink source needs koffi, which cannot load here \(.*koffi refused by the test.*\); using procfs$/m;

  for (const preload of [true, false]) {
    for (const forced of [false, true]) {
      const how = `${preload ? 'with koffi refused' : 'with koffi'}${forced ? ', --source netlink' : ''}`;
      it(`snapshot --format json ${how}: the client's own ports, from ${preload ? 'procfs' : 'netlink'}`, async () => {
        const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 5 }]);
        const refused = path.join(dir, `refused-${preload}-${forced}`);
        const env = { ...process.env, SOCKWATCH_TEST_REFUSED: refused, NODE_OPTIONS: preload ? `--require ${path.join(dir, 'no-koffi.js')}` : '' };
        const r = await runCli(['snapshot', String(client.pid), '--format', 'json', ...(forced ? ['--source', 'netlink'] : [])], { env });
        assert.equal(r.code, 0, r.stderr);
        const snap = JSON.parse(r.stdout) as { source: string; connections: { local: { port: number }; tcp?: { cookie: string } }[] };
        assert.equal(snap.source, preload ? 'procfs' : 'netlink');
        // the CLI did ask for koffi, and went on without it, saying why in one line
        assert.equal(fs.existsSync(refused), preload);
        if (preload) assert.match(r.stderr, NOTICE);
        else assert.equal(r.stderr, '');
        assert.equal(r.stderr.split('\n').filter((l) => l !== '').length, preload ? 1 : 0, r.stderr);
        const expected = client.connections.map((c) => c.localPort).sort();
        assert.deepEqual(snap.connections.map((c) => c.local.port).sort(), expected);
        await client.kill();
      });
    }
  }

  it('watch --json with koffi refused sees a connection open and close through procfs, and says why destroy notifications are off', async () => {
    const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 2 }]);
    const refused = path.join(dir, 'refused-watch');
    const env = { ...process.env, SOCKWATCH_TEST_REFUSED: refused, NODE_OPTIONS: `--require ${path.join(dir, 'no-koffi.js')}` };
    const watch = startCli(['watch', String(client.pid), '--json', '--source', 'netlink', '--interval', '100ms', '--duration', '3s'], { env });
    await watch.waitFor(/"type":"open"/);
    const [closed] = await client.close([client.connections[0]!.localPort]);
    const r = await watch.result;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.existsSync(refused));
    assert.match(r.stderr, NOTICE);
    const events = ndjson(r.stdout);
    const start = events.find((e) => e.type === 'start') as { source: string; briefConnections: { facility: string; reason: string } };
    assert.equal(start.source, 'procfs');
    assert.notEqual(start.briefConnections.facility, 'destroy_notifications');
    assert.match(start.briefConnections.reason, /koffi/);
    const closes = events.filter((e) => e.type === 'close').map((e) => (e.connection as { local: { port: number } }).local.port);
    assert.ok(closes.includes(closed!), `close of ${closed} not in ${JSON.stringify(closes)}`);
    await client.kill();
  });
});
