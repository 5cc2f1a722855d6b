// Forged recordings through the real CLI: `replay --no-tui` and `report -o` as child processes,
// each run under GNU time for its peak resident memory (helpers/peak-memory.ts). Whatever the file,
// the outcome is exit 0, or exit 1 with one line saying why; stderr never holds a stack trace, and
// the process never grows past 600 MiB (docs/report.md states the bound).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { once } from 'node:events';
import fc from 'fast-check';
import { hostileRecording } from '../helpers/hostile-recordings';
import { runCliMeasured, type MeasuredResult } from '../helpers/peak-memory';

const LIMIT_MIB = 600;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-hostile-cli-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const T0 = Date.parse('2026-01-01T12:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const START = JSON.stringify({ schema: 'sockwatch.event/1', type: 'start', time: iso(T0), pid: 7, process: { pid: 7, command: 'node', cmdline: 'node x.js', user: 'u' }, intervalMs: 250, source: 'procfs', states: ['ESTABLISHED'] });

/** Writes `lines()` through a stream, waiting on drain: a big file is never one string here either. */
async function writeLines(name: string, lines: Iterable<string>): Promise<string> {
  const file = path.join(dir, name);
  const out = fs.createWriteStream(file);
  for (const l of lines) if (!out.write(l)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  return file;
}

function assertContained(r: MeasuredResult, what: string): void {
  const context = `${what}: exit ${r.code} signal ${r.signal}, ${r.peakMiB.toFixed(0)} MiB\n${r.stderr.slice(0, 2000)}`;
  assert.equal(r.signal, null, context);
  assert.ok(r.code === 0 || r.code === 1, context);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `a stack trace: ${context}`);
  // warnings (`sockwatch: file:N: …`), the one error line, and report's last word: nothing else
  for (const l of r.stderr.split('\n').filter(Boolean)) assert.match(l, /^(sockwatch: |report written to )/, context);
  if (r.code === 1) assert.doesNotMatch(r.stderr.split('\n').filter(Boolean).pop()!, /^sockwatch: [^:]+:\d+: /, `the last line is the error, not a warning: ${context}`);
  assert.ok(r.peakMiB < LIMIT_MIB, `peak ${r.peakMiB.toFixed(0)} MiB: ${context}`);
}

async function replayAndReport(file: string, timeoutMs = 120_000): Promise<[MeasuredResult, MeasuredResult]> {
  const replay = await runCliMeasured(['replay', '--no-tui', file], timeoutMs);
  assertContained(replay, `replay ${path.basename(file)}`);
  const report = await runCliMeasured(['report', file, '-o', `${file}.html`], timeoutMs);
  assertContained(report, `report ${path.basename(file)}`);
  return [replay, report];
}

describe('forged recordings through replay and report', () => {
  it('fast-check forged recordings (absurd numbers, control characters, deep nesting): contained', async () => {
    const samples = fc.sample(hostileRecording, { numRuns: 6, seed: 21 });
    for (const [i, lines] of samples.entries()) await replayAndReport(await writeLines(`forged-${i}.ndjson`, lines.map((l) => l + '\n')));
  });

  it('intervalMs 1e-9 over an hour (the 561-byte file that grew to 4.6 GB): replayed at 20ms, exit 0', async () => {
    const start = START.replace('"intervalMs":250', '"intervalMs":1e-9');
    const summary = JSON.stringify({ type: 'summary', time: iso(T0 + 3_600_000), pid: 7, opened: 0, closed: 0, peak: 0, durationMs: 3_600_000, connections: [], findings: [] });
    const file = await writeLines('tiny-interval.ndjson', [start + '\n', summary + '\n']);
    const [replay, report] = await replayAndReport(file);
    assert.equal(replay.code, 0);
    assert.equal(report.code, 0);
    assert.match(replay.stderr, /tiny-interval\.ndjson:1: interval 1e-9ms is outside what --interval accepts, replayed as 20ms/);
    assert.match(replay.stdout, /every 20ms/);
  });

  it('a 600 MB single-line file (a RangeError before): one line, exit 1, memory bounded', async () => {
    const chunk = 'a'.repeat(1 << 20);
    const file = await writeLines('huge-line.ndjson', (function* () {
      yield '{"schema":"sockwatch.event/1","type":"start","x":"';
      for (let i = 0; i < 600; i++) yield chunk;
      yield '"}';
    })());
    assert.ok(fs.statSync(file).size > 600 * (1 << 20));
    const [replay, report] = await replayAndReport(file);
    for (const r of [replay, report]) {
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'sockwatch: huge-line.ndjson: no sockwatch.event/1 start line: not a sockwatch recording (line 1: longer than 16 MiB, skipped)\n');
    }
    fs.rmSync(file);
  });

  it('a 600 MB line between events is skipped by number; the events around it replay', async () => {
    const ev = (i: number, type: 'open' | 'close'): string =>
      JSON.stringify({ type, time: iso(T0 + 1000 * i), pid: 7, connection: { protocol: 'tcp', local: { address: '127.0.0.1', port: 40000 + i }, remote: { address: '127.0.0.1', port: 80 }, state: 'ESTABLISHED', inode: 1, id: 'c1' }, lifetimeMs: 1000 }) + '\n';
    const chunk = '7'.repeat(1 << 20);
    const file = await writeLines('huge-middle.ndjson', (function* () {
      yield START + '\n';
      yield ev(1, 'open');
      yield '[';
      for (let i = 0; i < 600; i++) yield chunk;
      yield ']\n';
      yield ev(2, 'close');
    })());
    const [replay] = await replayAndReport(file);
    assert.equal(replay.code, 0);
    assert.match(replay.stderr, /huge-middle\.ndjson:3: longer than 16 MiB, skipped/);
    assert.match(replay.stdout, /opened 1, closed 1/);
    fs.rmSync(file);
  });

  it('more events than kept (60,000, long strings everywhere): the first 50,000 replayed, memory bounded', async () => {
    const long = (c: string, n: number): string => c.repeat(n);
    const file = await writeLines('many-events.ndjson', (function* () {
      yield START.replace('"cmdline":"node x.js"', `"cmdline":"${long('ü', 200_000)}"`) + '\n';
      // 300 connections a poll, each closed the poll after: few live at a time, many events
      for (let i = 0; i < 30_000; i++) {
        const poll = Math.floor(i / 300);
        const id = `${long('ö', 300)}${i}`;
        const conn = { protocol: 'tcp6', local: { address: `${long('f', 100)}${i}`, port: i % 65536 }, remote: { address: `${long('e', 100)}${i}`, port: 443 }, state: 'ESTABLISHED', inode: i, fd: i, id, direction: long('d', 500), tcp: { bytesSent: 1e308, bytesReceived: -5, rttMs: 1, rttVarMs: 1, retransmits: 0, lastSendMs: 0, lastReceiveMs: 0, cookie: long('9', 500) }, exchanges: 1e300, firstSeen: iso(T0 + 250 * poll) };
        yield JSON.stringify({ type: 'open', time: iso(T0 + 250 * poll), pid: 7, connection: conn }) + '\n';
        yield JSON.stringify({ type: 'close', time: iso(T0 + 250 * (poll + 1)), pid: 7, connection: conn, lifetimeMs: 250 }) + '\n';
      }
    })());
    const [replay, report] = await replayAndReport(file, 300_000);
    for (const r of [replay, report]) {
      assert.equal(r.code, 0);
      assert.match(r.stderr, /many-events\.ndjson:50002: the recording holds more than 50000 events; replayed up to here, the rest is not read/);
    }
  });
});
