// A full disk, made real: a 64 KiB tmpfs in a private mount namespace (unshare -m), so nothing
// outside this test sees it. A recording that hits ENOSPC is cut back to its last complete line.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren, type LoopbackClient } from '../helpers/loopback';
import { ndjson } from '../helpers/cli';
import { oneErrorLine, runFault, smallDisk, type SmallDisk } from '../helpers/fault-run';

// Each open event is several hundred bytes: 300 of them cannot fit in 64 KiB.
const CONNECTIONS = 300;

describe('ENOSPC on a 64 KiB tmpfs', () => {
  let client: LoopbackClient;
  let disk: SmallDisk;

  before(async () => {
    disk = smallDisk('64k');
    const server = await startLoopbackServer();
    client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: CONNECTIONS }], { request: false, timeoutMs: 30_000 });
  });
  after(async () => {
    await stopLoopbackChildren();
    disk.cleanup();
  });

  it('--record onto a full device at start: one line, exit 1, nothing printed', async () => {
    const rec = path.join(disk.dir, 'start.ndjson');
    const r = await runFault(['watch', String(client.pid), '--json', '--duration', '3s', '--record', rec], { wrapper: disk.wrapper('full') });
    assert.notEqual(r.code, 97, `could not mount a tmpfs: ${r.stderr}`);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(oneErrorLine(r), `sockwatch: cannot write ${rec}: no space left on device`);
    assert.equal(r.stdout, '');
    assert.ok(r.elapsedMs < 3000, `took ${r.elapsedMs} ms`);
    const left = path.join(disk.out, 'start.ndjson');
    if (fs.existsSync(left)) assert.equal(fs.readFileSync(left, 'utf8'), '', 'no fragment left behind');
  });

  it('disk full in the middle of a recording: every line complete JSON, one line on stderr, exit 1', async () => {
    const rec = path.join(disk.dir, 'mid.ndjson');
    const r = await runFault(['watch', String(client.pid), '--json', '--duration', '3s', '--record', rec], { wrapper: disk.wrapper('empty') });
    assert.notEqual(r.code, 97, `could not mount a tmpfs: ${r.stderr}`);
    assert.equal(r.signal, null);
    assert.equal(r.code, 1, r.stderr);
    const text = fs.readFileSync(path.join(disk.out, 'mid.ndjson'), 'utf8');
    assert.ok(text.endsWith('\n'), 'ends with a complete line');
    const recorded = ndjson(text); // throws on a fragment
    assert.ok(recorded.length > 1, 'some events fit before the disk filled');
    assert.equal(recorded[0]!.type, 'start');
    assert.ok(recorded.length < CONNECTIONS, `${recorded.length} events cannot all have fit`);
    assert.equal(
      oneErrorLine(r),
      `sockwatch: recording stopped: cannot write ${rec}: no space left on device (the ${recorded.length} events recorded before are intact, each line complete)`,
    );
    // the watch ended there: stdout got the events up to then and the summary
    const printed = ndjson(r.stdout);
    assert.equal(printed.at(-1)!.type, 'summary');
    assert.ok(r.elapsedMs < 3000, `the watch should stop at the failure, took ${r.elapsedMs} ms`);
  });

  it('snapshot --output onto a full device: one line, exit 1, no temp file left', async () => {
    const out = path.join(disk.dir, 'snap.json');
    const r = await runFault(['snapshot', String(client.pid), '--format', 'json', '--output', out], { wrapper: disk.wrapper('full') });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(oneErrorLine(r), `sockwatch: cannot write ${out}: no space left on device`);
    assert.deepEqual(fs.readdirSync(disk.out).filter((f) => f.startsWith('.snap.json')), []);
  });
});
