// The HTML report as text: one element per connection, everything from the recording escaped,
// nothing that would load from the network, and small enough for 10,000 connections.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRecording } from '../../src/replay/recording-reader';
import { renderReport } from '../../src/report/write-report';
import { syntheticRecording } from '../helpers/synthetic-recording';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'recordings');

function tmpFile(name: string, text: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-report-')), name);
  fs.writeFileSync(file, text);
  return file;
}

function connectionIds(ndjson: string): Set<string> {
  const ids = new Set<string>();
  for (const l of ndjson.split('\n')) {
    if (!l) continue;
    const o = JSON.parse(l) as { type: string; connection?: { id: string } };
    if (o.connection && (o.type === 'open' || o.type === 'close' || o.type === 'state')) ids.add(o.connection.id);
  }
  return ids;
}

function elementIds(html: string): string[] {
  return [...html.matchAll(/data-connection-id="([^"]*)"/g)].map((m) => m[1]!);
}

describe('HTML report', () => {
  it('has one data-connection-id element per connection of the recording', async () => {
    for (const name of ['demo.ndjson', 'watch-netlink.ndjson', 'watch-procfs.ndjson']) {
      const file = path.join(FIXTURES, name);
      const html = renderReport(await readRecording(file));
      const ids = elementIds(html);
      assert.deepEqual(new Set(ids), connectionIds(fs.readFileSync(file, 'utf8')), name);
      assert.equal(ids.length, new Set(ids).size, `${name}: one element each`);
    }
  });

  it('escapes what the recording holds and loads nothing', async () => {
    const lines = fs.readFileSync(path.join(FIXTURES, 'watch-procfs.ndjson'), 'utf8').split('\n').filter(Boolean);
    const evil = '<script>alert(1)</script>"\'&';
    const start = JSON.parse(lines[0]!) as { process: { cmdline: string; command: string } };
    start.process.cmdline = evil;
    start.process.command = '</title><img src=http://example.invalid/x>';
    const out = [JSON.stringify(start)];
    for (const l of lines.slice(1)) {
      const o = JSON.parse(l) as { type: string; connection?: { id: string; remote: { address: string } } };
      if (o.connection) {
        o.connection.remote.address = '<b>x</b>';
        o.connection.id = `${o.connection.id}"><svg onload=alert(2)>`;
      }
      out.push(JSON.stringify(o));
    }
    const html = renderReport(await readRecording(tmpFile('evil.ndjson', out.join('\n'))));
    assert.ok(!html.includes('<script>alert'), 'cmdline escaped');
    assert.ok(!html.includes('<img'), 'command escaped');
    assert.ok(!html.includes('<b>x'), 'address escaped');
    assert.ok(!html.includes('<svg onload'), 'id escaped');
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    // The only scripts are ours; the JSON block cannot be closed early.
    assert.equal(html.match(/<script/g)?.length, 2);
    assert.ok(!/<[^>]*\b(src|href)\s*=\s*["']?(https?:|\/\/)/i.test(html), 'no external URL in a tag');
  });

  it('10,000 connections make a report of a few hundred KiB', async () => {
    const text = syntheticRecording({ churn: 9700, leak: 299 });
    const file = tmpFile('big.ndjson', text);
    const html = renderReport(await readRecording(file));
    assert.equal(elementIds(html).length, 10_000);
    const kib = Buffer.byteLength(html) / 1024;
    assert.ok(kib < 1024, `${Math.round(kib)} KiB`);
    process.stdout.write(`# 10,000-connection report: ${Math.round(kib)} KiB\n`);
  });
});
