// When the netlink source dumps the host's TCP table: unix sockets never make it dump (they are
// told apart by unix_diag), a TCP socket that is not in the table yet does until it is settled,
// and the periodic refresh dumps only while such a socket exists. Truth from a Python target
// that reports its own sockets.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as net from 'node:net';
import { once } from 'node:events';
import { createNetlinkSource } from '../../src/sources/netlink/netlink-source';

const TARGET = String.raw`
import json, socket, sys
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(8)
cli = socket.create_connection(srv.getsockname()); acc, _ = srv.accept()
pair = socket.socketpair()                  # unix sockets
late = socket.socket()                      # TCP, in no table until it connects
def say(**o): print(json.dumps(o), flush=True)
say(ready=True, port=srv.getsockname()[1], cli=cli.getsockname()[1], lateFd=late.fileno())
for line in sys.stdin:
    cmd = line.strip()
    if cmd == 'connect':                    # to the test's server: no new socket in this process
        late.connect(('127.0.0.1', int(sys.argv[1]))); say(late=late.getsockname()[1])
    elif cmd == 'close-late':
        late.close(); say(closed=True)
`;

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

test('unix sockets cause no dumps; an unsettled TCP socket is found by the periodic refresh, which dumps only while one exists', async () => {
  const server = net.createServer((s) => s.on('error', () => undefined));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  after(() => server.close());
  const child = spawn('python3', ['-c', TARGET, String((server.address() as net.AddressInfo).port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  child.once('error', () => undefined);
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, number>> => {
    const r = await lines.next();
    assert.ok(!r.done, 'python3 is needed for this test (the target is a Python script) and must print its sockets');
    return JSON.parse(String(r.value)) as Record<string, number>;
  };
  const ask = async (cmd: string): Promise<Record<string, number>> => {
    child.stdin!.write(`${cmd}\n`);
    return next();
  };
  const hello = await next();

  let now = 0;
  const source = await createNetlinkSource(child.pid!, { nowMs: () => now, fullRefreshMs: 30_000 });
  try {
    const ports = async (): Promise<number[]> => (await source.snapshot('all')).connections.map((c) => c.local.port).sort();
    const dumps = (): number => source.counters().dumps;

    assert.deepEqual(await ports(), [hello.port!, hello.port!, hello.cli!].sort());
    assert.equal(dumps(), 1);
    now = 1000;
    await ports();
    assert.equal(dumps(), 2, 'the unconnected TCP socket was missing from one dump: one more');
    now = 2000;
    await ports();
    assert.equal(dumps(), 2, 'settled; the unix pair never asks for a dump');

    const { late } = await ask('connect');
    now = 3000;
    assert.ok(!(await ports()).includes(late!), 'a settled socket that connects is not looked for before the periodic refresh');
    now = 31_000;
    assert.ok((await ports()).includes(late!), 'the periodic refresh dumps while an unsettled socket exists, and finds it');
    assert.equal(dumps(), 3);

    await ask('close-late');
    now = 32_000;
    assert.ok(!(await ports()).includes(late!));
    now = 62_000;
    const fds = source.counters();
    assert.deepEqual(await ports(), [hello.port!, hello.port!, hello.cli!].sort());
    assert.equal(dumps(), fds.dumps, 'every socket is known TCP or unix: the periodic refresh needs no dump');
    assert.ok(source.counters().readlinks >= 6, 'but it reads every fd link again');
  } finally {
    source.close();
  }
});
