import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren, type LoopbackServer } from '../helpers/loopback';
import { ndjson, runCli, sleep, startCli } from '../helpers/cli';
import { createNetlinkSource } from '../../src/sources/netlink/netlink-source';
import { createProcfsSource } from '../../src/sources/procfs/procfs-source';
import { withFallback } from '../../src/sources/fallback-source';
import { connectionKey } from '../../src/model';
import { SockwatchError } from '../../src/errors';

interface Conn {
  local: { port: number };
  remote: { port: number };
  timer?: { kind: string };
  tcp?: { bytesSent: number; bytesReceived: number; lastSendMs: number; cookie: string; segmentsSent?: number; segmentsReceived?: number };
  exchanges?: number;
}
type Ev = Record<string, unknown> & { type: string; connection?: Conn; connections?: Conn[]; findings?: { kind: string; message: string }[] };
const ESTABLISHED = new Set(['ESTABLISHED'] as const);

describe('TCP internals on a real keep-alive loop', () => {
  let server: LoopbackServer;
  before(async () => {
    server = await startLoopbackServer();
  });
  after(() => stopLoopbackChildren());

  it('a request every 500 ms watched at 100 ms for 5 s: 10 ± 1 exchanges, bytes grow', async () => {
    const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 1 }], { request: false });
    const cli = startCli(['watch', String(client.pid), '--source', 'netlink', '--interval', '100ms', '--duration', '5s', '--json']);
    await cli.waitFor(/"type":"open"/);
    const t0 = Date.now();
    let sent = 0;
    while (Date.now() - t0 < 4800) {
      await client.request();
      sent++;
      await sleep(500 - ((Date.now() - t0) % 500));
    }
    const r = await cli.result;
    assert.equal(r.code, 0, r.stderr);
    const events = ndjson(r.stdout) as Ev[];
    const open = events.find((e) => e.type === 'open')!.connection!;
    const live = events.at(-1)!.connections!;
    assert.equal(live.length, 1);
    assert.ok(open.tcp, 'netlink gives tcp internals');
    assert.ok(live[0]!.tcp!.bytesSent > open.tcp!.bytesSent, 'bytes sent grew');
    assert.ok(live[0]!.tcp!.bytesReceived > open.tcp!.bytesReceived, 'bytes received grew');
    assert.equal(live[0]!.tcp!.cookie, open.tcp!.cookie);
    assert.ok(sent >= 9 && sent <= 11, `the loop sent ${sent}`);
    // each request is one small write on an otherwise quiet connection: one data segment
    assert.equal(live[0]!.tcp!.segmentsSent, sent, 'tcp.segmentsSent');
    assert.ok(live[0]!.tcp!.segmentsReceived! >= sent, `tcp.segmentsReceived ${live[0]!.tcp!.segmentsReceived} for ${sent} replies`);
    const ex = live[0]!.exchanges!;
    assert.ok(Math.abs(ex - 10) <= 1, `exchanges ${ex} for ${sent} requests`);
  });

  it('a socket with TCP keep-alive shows a keepalive timer (procfs and netlink)', async () => {
    // The loopback client calls setKeepAlive(true) on each socket, as Go's HTTP client does.
    const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 2 }]);
    for (const source of ['procfs', 'netlink']) {
      const r = await runCli(['snapshot', String(client.pid), '--format', 'json', '--source', source]);
      assert.equal(r.code, 0, r.stderr);
      const conns = (JSON.parse(r.stdout) as { connections: Conn[] }).connections;
      assert.equal(conns.length, 2);
      for (const c of conns) assert.equal(c.timer?.kind, 'keepalive', `${source}: ${JSON.stringify(c.timer)}`);
    }
    await client.kill();
  });

  it('when netlink fails, the fallback answers from procfs with the same connection set', async () => {
    const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 3 }]);
    const netlink = await createNetlinkSource(client.pid);
    const before = (await netlink.snapshot(ESTABLISHED)).connections.map(connectionKey).sort();
    assert.equal(before.length, 3);
    const failing = { ...netlink, name: netlink.name, snapshot: () => Promise.reject(new SockwatchError('io_error', 'forced failure')) };
    let switched: unknown;
    const source = withFallback(failing, () => createProcfsSource(client.pid), (e) => (switched = e));
    assert.equal(source.name, 'netlink');
    const snap = await source.snapshot(ESTABLISHED);
    assert.equal(source.name, 'procfs');
    assert.match(String(switched), /forced failure/);
    assert.deepEqual(snap.connections.map(connectionKey).sort(), before);
    source.close();
    await client.kill();
  });

  it('the fallback does not hide the target’s own errors', async () => {
    const client = await startLoopbackClient([]);
    const source = withFallback(await createNetlinkSource(client.pid), () => createProcfsSource(client.pid));
    await client.exit();
    await assert.rejects(source.snapshot(ESTABLISHED), (e: unknown) => e instanceof SockwatchError && e.code === 'no_such_process');
    assert.equal(source.name, 'netlink');
    source.close();
  });
});

describe('verdicts on the demo loops', () => {
  let summary: Ev;
  let ports: Record<string, string>;
  before(async () => {
    const r = await runCli(['demo', '--duration', '10s', '--json'], { timeoutMs: 40_000 });
    assert.equal(r.code, 0, r.stderr);
    const events = ndjson(r.stdout) as Ev[];
    summary = events.at(-1)!;
    assert.equal(summary.type, 'summary');
    // With --json the demo's banner goes to stderr, keeping stdout pure NDJSON.
    ports = {};
    for (const [, port, loop] of r.stderr.matchAll(/remote port (\d+) = (\w+):/g)) ports[loop!] = port!;
    assert.deepEqual(Object.keys(ports).sort(), ['churn', 'keepalive', 'leak']);
  });

  it('reuse: the keep-alive loop', () => {
    const f = summary.findings!.find((x) => x.kind === 'reuse');
    assert.ok(f, JSON.stringify(summary.findings));
    assert.match(f.message, new RegExp(`→127\\.0\\.0\\.1:${ports.keepalive} carried \\d+ exchanges .* keep-alive is working`));
  });
  it('churn: the loop that abandons bodies', () => {
    const f = summary.findings!.find((x) => x.kind === 'churn');
    assert.ok(f, JSON.stringify(summary.findings));
    assert.match(f.message, /new connections per minute to \S+, median lifetime/);
  });
  it('growth: the leak loop', () => {
    assert.ok(summary.findings!.some((x) => x.kind === 'growth'), JSON.stringify(summary.findings));
  });
  it('close_wait: leaked connections the server gave up on', () => {
    assert.ok(summary.findings!.some((x) => x.kind === 'close_wait'), JSON.stringify(summary.findings));
  });
});
