// The poll loop tested whole: a scripted source on a fake clock, the NDJSON stream a recording
// gets, and the TUI on a fake terminal with its keys. What is recorded and summarized must not
// depend on anything pressed on screen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import type { Connection, StateFilter, TcpState } from '../../src/model';
import { EventStream } from '../../src/watch/event-stream';
import { runTui } from '../../src/views/tui/run-tui';
import { LAG_MIN_GAPS } from '../../src/watch/poll-cadence';
import { createFakeTerminal, screenText, waitFor } from '../helpers/fake-terminal';
import { testConn, testSnapshot } from '../helpers/snapshots';
import { startFakeWatch, type ScriptedPoll } from '../helpers/fake-watch';
import type { SocketEnded } from '../../src/core/lifecycle-types';
import { remoteKey } from '../../src/core/lifecycle-match';

const ESTABLISHED: StateFilter = new Set<TcpState>(['ESTABLISHED']);
const listener = testConn(0, { state: 'LISTEN', local: { address: '0.0.0.0', port: 8080 }, remote: { address: '0.0.0.0', port: 0 } });
const c = (i: number, state: TcpState = 'ESTABLISHED'): Connection => testConn(i, { state });

function briefEnd(port: number, atMs: number): SocketEnded {
  return { kind: 'ended', atMs, protocol: 'tcp', local: { address: '127.0.0.1', port: 8080 }, remote: { address: '127.0.0.1', port }, state: 'FIN_WAIT1' };
}

/** A target with a listener, a leak, a connect in SYN_SENT, short connections, brief ones, then it exits. */
function script(t0: number): ScriptedPoll[] {
  const s = (conns: Connection[], lifecycle?: SocketEnded[]): ScriptedPoll => ({ snapshot: testSnapshot([listener, ...conns]), lifecycle });
  return [
    s([c(1)]),
    s([c(1), c(2, 'SYN_SENT')]),
    s([c(1), c(2)]),
    s([c(1, 'CLOSE_WAIT'), c(2), c(3)]),
    s([c(1, 'CLOSE_WAIT'), c(2)], [briefEnd(51000, t0 + 3500)]),
    s([c(1, 'CLOSE_WAIT'), c(2), c(4)]),
    s([c(1, 'CLOSE_WAIT'), c(2)]),
    s([c(1, 'CLOSE_WAIT'), c(2), c(5, 'SYN_SENT')]),
    s([c(1, 'CLOSE_WAIT'), c(2, 'FIN_WAIT1')], [briefEnd(51001, t0 + 7600)]),
    s([c(1, 'CLOSE_WAIT')]),
    { snapshot: undefined },
  ];
}

const T0 = 1_700_000_000_000;

async function recordRun(keys: Record<number, string[]>): Promise<{ ndjson: string[]; lines: string[]; asked: StateFilter[]; screens: string[] }> {
  const ndjson: string[] = [];
  const lines: string[] = [];
  let stream!: EventStream;
  const w = await startFakeWatch({
    script: script(T0),
    states: ESTABLISHED,
    t0: T0,
    attach: (session, first) => {
      stream = new EventStream(session, { json: (o) => ndjson.push(JSON.stringify(o)), line: (l) => lines.push(l) });
      stream.start(first.process, T0);
    },
  });
  const term = createFakeTerminal(120, 40);
  const tui = Object.keys(keys).length > 0 ? runTui(w.session, { exportDir: os.tmpdir(), input: term.input, output: term.output }) : undefined;
  const screens: string[] = [];
  try {
    await w.run(async (n) => {
      for (const k of keys[n] ?? []) {
        await term.press(k);
        if (tui) {
          await new Promise((r) => setTimeout(r, 120)); // the redraw throttle
          screens.push(screenText(tui.screen));
        }
      }
    });
    await w.session.ended;
    const summary = stream.summary(w.clock.nowMs);
    ndjson.push(JSON.stringify(summary.json));
    lines.push(...summary.lines);
  } finally {
    stream.dispose();
    tui?.destroy();
  }
  return { ndjson, lines, asked: w.source.asked, screens };
}

test('f, space and r leave the recorded events and the summary unchanged; every poll asks for all states', async () => {
  const plain = await recordRun({});
  const pressed = await recordRun({ 2: ['f'], 4: [' '], 6: ['r'], 7: [' '], 8: ['f', 'r'] });
  assert.deepEqual(pressed.ndjson, plain.ndjson);
  assert.deepEqual(pressed.lines, plain.lines);
  assert.ok(plain.asked.length >= 11);
  assert.ok(plain.asked.every((s) => s === 'all'));
  assert.ok(pressed.asked.every((s) => s === 'all'));
  // the keys did act on the screen
  assert.match(pressed.screens[0] ?? '', /states all/);
  assert.match(pressed.screens[1] ?? '', /PAUSED: screen frozen/);
  // r while the screen is frozen moves the baseline; the screen shows it once it runs again
  assert.doesNotMatch(pressed.screens[0] ?? '', /since r/);
  assert.doesNotMatch(pressed.screens[3] ?? '', /PAUSED/);
  assert.match(pressed.screens[3] ?? '', /since r/);
});

test('the recording of that run: one open per shown connection, leak as a state change, close_wait kept after exit', async () => {
  const { ndjson } = await recordRun({});
  const events = ndjson.map((l) => JSON.parse(l) as Record<string, unknown> & { type: string });
  assert.equal(events[0]?.type, 'start');
  assert.equal(events[0]?.intervalMs, 1000);
  assert.deepEqual(events[0]?.briefConnections, { facility: 'none', reason: 'the source has no between-poll evidence' });
  const conn = (e: Record<string, unknown>): Record<string, unknown> => e.connection as Record<string, unknown>;
  const byType = (t: string): Record<string, unknown>[] => events.filter((e) => e.type === t);
  // listener and SYN_SENT-only connections are never written under the default lens
  assert.ok(byType('open').every((e) => conn(e).state === 'ESTABLISHED'));
  // c2: SYN_SENT first, then ESTABLISHED → one open; later FIN_WAIT1 is a state event
  const opens = byType('open').map((e) => conn(e).inode);
  assert.deepEqual(opens, [100001, 100002, 100003, 100004]);
  assert.deepEqual(byType('state').map((e) => [conn(e).inode, e.from, e.to]), [
    [100001, 'ESTABLISHED', 'CLOSE_WAIT'],
    [100002, 'ESTABLISHED', 'FIN_WAIT1'],
  ]);
  // each close has its open; no close for the CLOSE_WAIT move
  const closes = byType('close');
  for (const e of closes) if (e.brief !== true) assert.ok(opens.includes(conn(e).inode as number));
  // the two ends on the listening port are brief connections of the target, one close each
  assert.deepEqual(closes.filter((e) => e.brief === true).map((e) => (conn(e).remote as { port: number }).port), [51000, 51001]);
  assert.deepEqual(closes.filter((e) => e.brief !== true).map((e) => conn(e).inode), [100003, 100004, 100002, 100001]); // the last closed by the exit
  const summary = events.at(-1)!;
  assert.equal(summary.type, 'summary');
  const findings = summary.findings as { kind: string; until: string | null }[];
  const cw = findings.find((f) => f.kind === 'close_wait');
  assert.ok(cw, JSON.stringify(findings));
  assert.equal(typeof cw.until, 'string');
  const findingEvents = byType('finding').map((e) => [(e.finding as { kind: string }).kind, e.change]);
  assert.deepEqual(findingEvents.filter(([k]) => k === 'close_wait'), [['close_wait', 'raised'], ['close_wait', 'cleared']]);
  // times are observation times: the scripted reads take 20 ms after each poll's start
  for (const e of byType('open').slice(1)) assert.equal((Date.parse(e.time as string) - T0) % 1000, 20);
  assert.equal(events.at(-2)?.type, 'exit');
});

test('a slow source: the watch says once that it lags, and the summary measures the real gaps', async () => {
  const script: ScriptedPoll[] = [];
  for (let i = 0; i < 20; i++) script.push({ snapshot: testSnapshot([testConn(1)]), readMs: 150 });
  script.push({ snapshot: undefined });
  const lines: string[] = [];
  let stream!: EventStream;
  const w = await startFakeWatch({ script, intervalMs: 100, states: ESTABLISHED, attach: (session) => (stream = new EventStream(session, { json: () => undefined, line: (l) => lines.push(l) })) });
  await w.run();
  await w.session.ended;
  const lag = w.session.lag();
  assert.equal(lag.intervalMs, 100);
  assert.ok(lag.polls >= 20);
  assert.ok(lag.late >= lag.polls - 2, JSON.stringify(lag));
  assert.ok(lag.medianGapMs !== null && Math.abs(lag.medianGapMs - 150) <= 2, JSON.stringify(lag));
  assert.equal(lag.lagging, true);
  const lagLines = lines.filter((l) => / lag {3}polls are late for the 100ms interval/.test(l));
  assert.equal(lagLines.length, 1, lines.join('\n'));
  const summary = stream.summary(w.clock.nowMs);
  const sl = summary.json.lag as Record<string, unknown>;
  assert.deepEqual(Object.keys(sl).sort(), ['intervalMs', 'late', 'maxGapMs', 'medianGapMs', 'p95GapMs', 'polls']);
  assert.ok(summary.lines.some((l) => /^lag: \d+ of \d+ polls late for the 100ms interval/.test(l)));
  stream.dispose();
  assert.ok(LAG_MIN_GAPS <= 20);
});

test('a source that keeps up is not lagging; the start event says the facility and the TUI says it once', async () => {
  const script: ScriptedPoll[] = [];
  for (let i = 0; i < 10; i++) script.push({ snapshot: testSnapshot([testConn(1)]) });
  const w = await startFakeWatch({ script, intervalMs: 100, states: 'all', lifecycleStatus: { facility: 'destroy_notifications', reason: 'eBPF needs root' } });
  const json: Record<string, unknown>[] = [];
  const stream = new EventStream(w.session, { json: (o) => json.push(o) });
  stream.start(w.first.process, w.clock.nowMs);
  assert.deepEqual(json[0]?.briefConnections, { facility: 'destroy_notifications', reason: 'eBPF needs root' });
  const term = createFakeTerminal(140, 30);
  const tui = runTui(w.session, { exportDir: os.tmpdir(), input: term.input, output: term.output });
  try {
    await waitFor(() => /shorter than one poll counted from destroy notifications \(eBPF needs root\)/.test(screenText(tui.screen)), 'the facility on the status line');
    await w.run(undefined, 9);
    assert.equal(w.session.lag().lagging, false);
    assert.equal(w.session.lag().late, 0);
  } finally {
    tui.destroy();
    stream.dispose();
    await w.session.stop();
  }
});

test('between-poll evidence is drained after every snapshot and reaches the recording', async () => {
  const t0 = 1_700_000_000_000;
  const script: ScriptedPoll[] = [
    { snapshot: testSnapshot([listener]), lifecycle: [briefEnd(50999, t0 - 5)] },
    { snapshot: testSnapshot([listener]), lifecycle: [briefEnd(51000, t0 + 500)] },
    { snapshot: testSnapshot([listener]) },
    { snapshot: undefined },
  ];
  const json: Record<string, unknown>[] = [];
  let stream!: EventStream;
  const w = await startFakeWatch({ script, states: ESTABLISHED, t0, attach: (session) => (stream = new EventStream(session, { json: (o) => json.push(o) })) });
  await w.run();
  await w.session.ended;
  const briefs = json.filter((e) => e.type === 'close' && e.brief === true);
  assert.equal(briefs.length, 1, JSON.stringify(json));
  assert.equal(briefs[0]?.lifetimeBound, 'upper');
  assert.equal((stream.summary(w.clock.nowMs).json as { brief: number }).brief, 1);
  stream.dispose();
});

test('the exit takes in the evidence up to it: brief connections after the last poll count, before the exit event', async () => {
  const t0 = 1_700_000_000_000;
  const out = (port: number, atMs: number): SocketEnded => ({ kind: 'ended', atMs, protocol: 'tcp', local: { address: '127.0.0.1', port }, remote: { address: '127.0.0.1', port: 8080 }, pid: 4242, startedAtMs: atMs - 3, totals: { bytesSent: 80, bytesReceived: 900, segmentsSent: 1, segmentsReceived: 1 } });
  const script: ScriptedPoll[] = [
    { snapshot: testSnapshot([]) },
    // the whole program's work between the first poll and its exit
    { snapshot: undefined, lifecycle: [out(51000, t0 + 100), out(51001, t0 + 110), out(51002, t0 + 120)] },
  ];
  const json: Record<string, unknown>[] = [];
  let stream!: EventStream;
  const w = await startFakeWatch({ script, states: ESTABLISHED, t0, attach: (session) => (stream = new EventStream(session, { json: (o) => json.push(o) })) });
  await w.run();
  await w.session.ended;
  const types = json.map((e) => `${String(e.type)}${e.brief === true ? ' brief' : ''}`);
  // the exit's poll event (what the watch state evaluated at the exit) comes before the exit
  assert.deepEqual(types.slice(-5), ['close brief', 'close brief', 'close brief', 'poll', 'exit'], JSON.stringify(json));
  const summary = stream.summary(w.clock.nowMs).json as { opened: number; closed: number; brief: number };
  assert.deepEqual([summary.opened, summary.closed, summary.brief], [3, 3, 3]);
  stream.dispose();
});

test('at the exit, a socket of the target released a moment after it does not make its brief ends "owner unknown"', async () => {
  // without root: destroy notifications name no owner; the census says whether a stranger also
  // talks to the endpoint. At the exit a socket the target opened after its last poll still holds
  // its inode for a moment, and reads as a stranger's until the kernel releases it.
  const t0 = 1_700_000_000_000;
  const server = { address: '127.0.0.1', port: 9000 };
  const end = (port: number, atMs: number): SocketEnded => ({ kind: 'ended', atMs, protocol: 'tcp', local: { address: '127.0.0.1', port }, remote: server, state: 'FIN_WAIT1', cookie: String(port) });
  const run = async (strangerStays: boolean): Promise<{ likelyBrief: number; looks: number }> => {
    const script: ScriptedPoll[] = [
      { snapshot: testSnapshot([testConn(1, { remote: server })]) },
      { snapshot: undefined, lifecycle: [end(51000, t0 + 1100), end(51001, t0 + 1110), end(51002, t0 + 1120)] },
    ];
    let looks = 0;
    const census = (): ReadonlySet<string> => (looks++ === 0 || strangerStays ? new Set([remoteKey(server)]) : new Set<string>());
    let stream!: EventStream;
    const w = await startFakeWatch({ script, states: ESTABLISHED, t0, census, attach: (session) => (stream = new EventStream(session, { json: () => {} })) });
    await w.run();
    await w.session.ended;
    const summary = stream.summary(w.clock.nowMs).json as { likelyBrief: number };
    stream.dispose();
    return { likelyBrief: summary.likelyBrief, looks };
  };
  const released = await run(false);
  assert.deepEqual(released, { likelyBrief: 3, looks: 2 });
  // a stranger's socket that stays keeps them "owner unknown", after a bounded number of looks
  const stranger = await run(true);
  assert.equal(stranger.likelyBrief, 0);
  assert.ok(stranger.looks >= 2 && stranger.looks <= 6, `${stranger.looks} looks`);
});
