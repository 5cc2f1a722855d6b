// Replay of real recordings (test/fixtures/recordings, made by capture.ts from real runs): the
// tracker fed from a recording arrives at the summary the live watch wrote; damaged and foreign
// files are handled as the README says.
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRecording } from '../../src/replay/recording-reader';
import { analyzeRecording } from '../../src/replay/replay-analysis';
import { compareSummaries } from '../../src/replay/summary-check';
import { Replayer } from '../../src/replay/replayer';
import { isSockwatchError } from '../../src/errors';

const FIXTURES = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'recordings');
const FILES = ['demo.ndjson', 'watch-netlink.ndjson', 'watch-procfs.ndjson'];

function tmpFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-replay-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function lines(name: string): string[] {
  return fs.readFileSync(path.join(FIXTURES, name), 'utf8').split('\n').filter((l) => l !== '');
}

describe('replay of real recordings', () => {
  for (const name of FILES) {
    it(`${name}: the replayed summary is the recorded one`, async () => {
      const rec = await readRecording(path.join(FIXTURES, name));
      assert.deepEqual(rec.warnings, []);
      assert.ok(rec.summary, 'fixture has a summary');
      const a = analyzeRecording(rec);
      for (const k of ['opened', 'closed', 'peak', 'durationMs', 'lifetimeMs']) assert.deepEqual(a.summary[k], rec.summary[k], k);
      const ids = (v: unknown): string[] => (v as { id: string }[]).map((c) => c.id).sort();
      assert.deepEqual(ids(a.summary.connections), ids(rec.summary.connections));
      const kinds = (v: unknown): string[] => (v as { kind: string }[]).map((f) => f.kind).sort();
      assert.deepEqual(kinds(a.summary.findings), kinds(rec.summary.findings));
      assert.deepEqual(compareSummaries(rec.summary, a.summary), []);
    });
  }

  it('the demo recording shows reuse and churn, and the leak as growth or close_wait', async () => {
    const a = analyzeRecording(await readRecording(path.join(FIXTURES, 'demo.ndjson')));
    const kinds = a.spans.map((s) => s.kind);
    assert.ok(kinds.includes('reuse') && kinds.includes('churn'), kinds.join());
    assert.ok(kinds.includes('growth') || kinds.includes('close_wait'), kinds.join());
  });

  it('ids given by the replayed tracker match the recording', async () => {
    const rec = await readRecording(path.join(FIXTURES, 'watch-netlink.ndjson'));
    const r = new Replayer(rec);
    const opened: string[] = [];
    while (!r.done) for (const e of r.next()) if (e.type === 'open') opened.push(e.conn.id);
    const recorded = rec.events.flatMap((e) => (e.type === 'open' ? [e.conn.id] : []));
    assert.deepEqual(opened, recorded);
  });
});

describe('damaged and foreign recordings', () => {
  it('a truncated line is reported with its line number and skipped; the rest replays', async () => {
    const l = lines('watch-procfs.ndjson');
    const cut = l[3]!.slice(0, Math.floor(l[3]!.length / 2));
    const file = tmpFile('cut.ndjson', [...l.slice(0, 3), cut, 'not json at all', ...l.slice(4)].join('\n') + '\n');
    const warnings: string[] = [];
    const rec = await readRecording(file, { onWarning: (w) => warnings.push(w) });
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /^cut\.ndjson:4: not valid JSON/);
    assert.match(warnings[1]!, /^cut\.ndjson:5: not valid JSON/);
    const full = await readRecording(path.join(FIXTURES, 'watch-procfs.ndjson'));
    assert.equal(rec.events.length, full.events.length - 1);
    assert.ok(analyzeRecording(rec).marks.length > 0);
  });

  it('a recording cut mid-line at the end (a crash) still replays, without a summary', async () => {
    const l = lines('demo.ndjson');
    const file = tmpFile('crash.ndjson', l.slice(0, -1).join('\n') + '\n' + l[l.length - 1]!.slice(0, 40));
    const warnings: string[] = [];
    const rec = await readRecording(file, { onWarning: (w) => warnings.push(w) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`:${l.length}: `));
    assert.equal(rec.summary, undefined);
    assert.ok(analyzeRecording(rec).spans.length > 0);
  });

  for (const schema of ['sockwatch.event/0', 'sockwatch.event/2', 'something.else/1']) {
    it(`schema ${schema} is refused with a one-line error naming it`, async () => {
      const l = lines('watch-procfs.ndjson');
      const file = tmpFile('other.ndjson', [l[0]!.replace('sockwatch.event/1', schema), ...l.slice(1)].join('\n'));
      await assert.rejects(readRecording(file), (e: unknown) => {
        assert.ok(isSockwatchError(e));
        assert.equal(e.exitCode, 1);
        assert.ok(e.message.includes(JSON.stringify(schema)), e.message);
        assert.ok(!e.message.includes('\n'));
        return true;
      });
    });
  }

  it('a file that is not a recording is refused', async () => {
    await assert.rejects(readRecording(tmpFile('x.ndjson', '{"type":"open","time":"2024-01-01T00:00:00Z"}\n')), /no sockwatch.event\/1 start line/);
    await assert.rejects(readRecording(path.join(os.tmpdir(), 'sockwatch-no-such-file.ndjson')), /cannot read .*no such/);
  });

  it('unknown event types and fields, finding events and brief closes do not break replay', async () => {
    const l = lines('watch-netlink.ndjson');
    const start = JSON.parse(l[0]!) as { time: string; pid: number };
    const t = start.time;
    const extra = [
      JSON.stringify({ type: 'mystery', time: t, pid: start.pid, what: 1 }),
      JSON.stringify({ type: 'finding', time: t, pid: start.pid, finding: { kind: 'reuse', message: 'm', since: t, until: t } }),
      JSON.stringify({
        type: 'close', time: t, pid: start.pid, brief: true, lifetimeMs: 3,
        connection: { protocol: 'tcp', local: { address: '127.0.0.1', port: 1 }, remote: { address: '127.0.0.1', port: 2 }, state: 'ESTABLISHED', inode: 0, id: 'b1', pid: 7, direction: 'outbound', firstSeen: t },
      }),
    ];
    const withNew = l.map((x, i) => (i === 1 ? JSON.stringify({ ...(JSON.parse(x) as object), lag: 3, newField: { a: 1 } }) : x));
    const file = tmpFile('new.ndjson', [withNew[0], ...extra, ...withNew.slice(1)].join('\n'));
    const rec = await readRecording(file);
    assert.deepEqual(rec.warnings, []);
    assert.ok(rec.events.some((e) => e.type === 'close' && e.brief && e.conn.id === 'b1' && e.conn.pid === 7));
    const a = analyzeRecording(rec);
    // the brief close is replayed (it counts), and it was slipped in after the watch wrote its
    // summary: the check names that disagreement and nothing else
    const s = rec.summary as { opened: number; closed: number };
    assert.deepEqual(compareSummaries(rec.summary!, a.summary), [`opened: recorded ${s.opened}, replayed ${s.opened + 1}`, `closed: recorded ${s.closed}, replayed ${s.closed + 1}`]);
  });
});

test('summary check: a live connection\'s age within the millisecond a recorded ISO time cannot hold agrees; a full millisecond does not', () => {
  const rec = { connections: [{ id: 'c1', state: 'ESTABLISHED', lifetimeMs: 3986.401 }] };
  assert.deepEqual(compareSummaries(rec, { connections: [{ id: 'c1', state: 'ESTABLISHED', lifetimeMs: 3987 }] }), []);
  assert.deepEqual(compareSummaries(rec, { connections: [{ id: 'c1', state: 'ESTABLISHED', lifetimeMs: 3988 }] }), ['connections[c1].lifetimeMs: recorded 3986.401, replayed 3988']);
});
