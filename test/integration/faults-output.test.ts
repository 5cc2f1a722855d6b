// stdout under faults: a reader that starts late gets everything (more than a pipe's 64 KiB),
// and a stdout that fails (`> /dev/full`) is one line and exit 1, never a stack trace or a native
// abort, with the recording still ending in its summary.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren, type LoopbackClient } from '../helpers/loopback';
import { ndjson } from '../helpers/cli';
import { oneErrorLine, runFault } from '../helpers/fault-run';

const CONNECTIONS = 300;
const endpoints = (list: { local: { port: number }; remote: { port: number } }[]): string[] =>
  list.map((c) => `${c.local.port}>${c.remote.port}`).sort();

describe('stdout: nothing lost, every write error handled', () => {
  let client: LoopbackClient;
  let truth: string[];
  let tmp: string;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-out-'));
    const server = await startLoopbackServer();
    client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: CONNECTIONS }], { request: false, timeoutMs: 30_000 });
    truth = client.connections.map((c) => `${c.localPort}>${c.remotePort}`).sort();
    assert.equal(truth.length, CONNECTIONS);
  });
  after(async () => {
    await stopLoopbackChildren();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('snapshot to a reader that starts 1.5 s late: the whole document (> 64 KiB) arrives', async () => {
    const r = await runFault(['snapshot', String(client.pid), '--format', 'json'], { readAfterMs: 1500 });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.length > 64 * 1024, `only ${r.stdout.length} bytes: the target must be large enough to pass a pipe's 64 KiB`);
    const doc = JSON.parse(r.stdout) as { connections: { local: { port: number }; remote: { port: number } }[] };
    assert.deepEqual(endpoints(doc.connections), truth);
  });

  it('watch --json --duration 1s to a reader that starts 2 s late: every line and the summary arrive', async () => {
    const r = await runFault(['watch', String(client.pid), '--json', '--duration', '1s'], { readAfterMs: 2000 });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.length > 64 * 1024, `only ${r.stdout.length} bytes`);
    assert.ok(r.stdout.endsWith('\n'));
    const events = ndjson(r.stdout);
    assert.equal(events[0]!.type, 'start');
    assert.equal(events.at(-1)!.type, 'summary');
    const opens = events.filter((e) => e.type === 'open').map((e) => e.connection as { local: { port: number }; remote: { port: number } });
    assert.deepEqual(endpoints(opens), truth);
  });

  it('snapshot > /dev/full: one line, exit 1', async () => {
    const full = fs.openSync('/dev/full', 'w');
    try {
      for (const format of ['table', 'json']) {
        const r = await runFault(['snapshot', String(client.pid), '--format', format], { stdout: full });
        assert.equal(r.code, 1, `--format ${format}: ${r.stderr}`);
        assert.equal(oneErrorLine(r), 'sockwatch: cannot write to stdout: no space left on device');
      }
    } finally {
      fs.closeSync(full);
    }
  });

  it('--help and --version > /dev/full: one line, exit 1, no stack trace', async () => {
    const full = fs.openSync('/dev/full', 'w');
    try {
      for (const flag of ['--help', '--version']) {
        const r = await runFault([flag], { stdout: full });
        assert.equal(r.code, 1, `${flag}: ${r.stderr}`);
        assert.equal(oneErrorLine(r), 'sockwatch: cannot write to stdout: no space left on device');
      }
    } finally {
      fs.closeSync(full);
    }
  });

  for (const source of ['netlink', 'procfs']) {
    it(`watch --source ${source} > /dev/full: exit 1, one line, no abort; the recording ends with its summary`, async () => {
      const rec = path.join(tmp, `full-${source}.ndjson`);
      const full = fs.openSync('/dev/full', 'w');
      let r;
      try {
        r = await runFault(['watch', String(client.pid), '--json', '--source', source, '--brief', 'none', '--duration', '3s', '--record', rec], { stdout: full });
      } finally {
        fs.closeSync(full);
      }
      assert.equal(r.signal, null);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(oneErrorLine(r), 'sockwatch: cannot write to stdout: no space left on device');
      const events = ndjson(fs.readFileSync(rec, 'utf8'));
      assert.equal(events[0]!.type, 'start');
      assert.equal(events.at(-1)!.type, 'summary');
      // it stopped at the first failed write, not at --duration
      assert.ok(r.elapsedMs < 3000, `took ${r.elapsedMs} ms`);
    });
  }
});
