// The CLI end to end: `watch --report` on a real client, `report` and `replay` on recordings,
// including damaged and foreign ones. Truth about the connections comes from the client itself.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { runCli } from '../helpers/cli';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren } from '../helpers/loopback';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'recordings');

function tmp(name: string): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-cli-report-')), name);
}

/** the hover rows of a report: [addr index, local port, peer index, fd, …] */
function hoverRows(html: string): { addr: string[]; peer: string[]; rows: number[][] } {
  const b64 = /<script type="application\/octet-stream" id="data">([^<]*)<\/script>/.exec(html)![1]!;
  return JSON.parse(gunzipSync(Buffer.from(b64, 'base64')).toString('utf8')) as { addr: string[]; peer: string[]; rows: number[][] };
}

describe('watch --report, report, replay', () => {
  after(stopLoopbackChildren);

  it('watch --report writes a report holding every connection the client held', async () => {
    const server = await startLoopbackServer();
    const client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 3 }]);
    const file = tmp('watch.html');
    const r = await runCli(['watch', String(client.pid), '--interval', '100ms', '--duration', '800ms', '--no-tui', '--report', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /report written to .*watch\.html/);
    const html = fs.readFileSync(file, 'utf8');
    const data = hoverRows(html);
    const seen = data.rows.map((row) => `${data.addr[row[0]!]}:${row[1]}>${data.peer[row[2]!]}`).sort();
    const truth = client.connections.map((c) => `${c.localAddress}:${c.localPort}>${c.remoteAddress}:${c.remotePort}`).sort();
    assert.deepEqual(seen, truth);
    assert.equal(html.match(/data-connection-id=/g)?.length, 3);
  });

  it('report refuses a missing output option (usage) and writes a report otherwise', async () => {
    const usage = await runCli(['report', path.join(FIXTURES, 'demo.ndjson')]);
    assert.equal(usage.code, 2);
    const file = tmp('demo.html');
    const r = await runCli(['report', path.join(FIXTURES, 'demo.ndjson'), '-o', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(fs.statSync(file).size > 1000);
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['demo.html'], 'no temp file left behind');
  });

  it('replay --no-tui prints the events, the summary and that it agrees with the recording', async () => {
    const r = await runCli(['replay', path.join(FIXTURES, 'watch-netlink.ndjson'), '--no-tui']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^replaying watch-netlink\.ndjson: watched PID \d+/);
    assert.match(r.stdout, / open /);
    assert.match(r.stdout, / exit  PID \d+/);
    assert.match(r.stdout, /^summary: watched/m);
    assert.match(r.stdout, /^check: the recorded summary agrees with the replay$/m);
  });

  it('replay reports a corrupt line by number and says where the recorded summary differs', async () => {
    const lines = fs.readFileSync(path.join(FIXTURES, 'watch-procfs.ndjson'), 'utf8').split('\n').filter(Boolean);
    const openAt = lines.findIndex((l) => l.includes('"type":"open"'));
    const file = tmp('cut.ndjson');
    fs.writeFileSync(file, lines.map((l, i) => (i === openAt ? l.slice(0, 30) : l)).join('\n') + '\n');
    const r = await runCli(['replay', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, `sockwatch: cut.ndjson:${openAt + 1}: not valid JSON (truncated or corrupt), skipped\n`);
    assert.match(r.stdout, /^check: the recorded summary differs from the replay in \d+ fields?:$/m);
    // The first open is a preexisting connection: one close fewer, a lower peak.
    assert.match(r.stdout, /^ {2}closed: recorded (\d+), replayed (\d+)$/m);
  });

  it('replay refuses another schema in one line, exit 1', async () => {
    const file = tmp('old.ndjson');
    fs.writeFileSync(file, fs.readFileSync(path.join(FIXTURES, 'demo.ndjson'), 'utf8').replace('sockwatch.event/1', 'sockwatch.event/0'));
    const r = await runCli(['replay', file]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'sockwatch: old.ndjson: schema "sockwatch.event/0" is not a recording this sockwatch reads (it reads sockwatch.event/1)\n');
  });
});
