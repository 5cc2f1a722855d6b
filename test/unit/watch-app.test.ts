// The whole watch in-process (src/watch/watch-app.ts) on fakes: a scripted target on a fake clock,
// fake stdout/stderr, signals and terminal. Each way a watch ends, what it prints on the way out
// and its exit code; that it leaves no listener behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Connection, StateFilter, TcpState } from '../../src/model';
import { runWatchApp } from '../../src/watch/watch-app';
import type { WatchArgs, WatchExtras } from '../../src/watch/watch-plan';
import { SockwatchError } from '../../src/errors';
import { testConn, testSnapshot } from '../helpers/snapshots';
import type { ScriptedPoll } from '../helpers/fake-watch';
import { driveWatch, FakeWatchIo, scriptedTargets } from '../helpers/fake-watch-io';
import { waitFor } from '../helpers/fake-terminal';

const T0 = 1_700_000_000_000;
const ESTABLISHED: StateFilter = new Set<TcpState>(['ESTABLISHED']);
const c = (i: number, state: TcpState = 'ESTABLISHED'): Connection => testConn(i, { state });
const poll = (...conns: Connection[]): ScriptedPoll => ({ snapshot: testSnapshot(conns) });
/** two connections, one closes, one opens, then the target exits */
const EXITING: ScriptedPoll[] = [poll(c(1), c(2)), poll(c(1), c(2)), poll(c(1)), poll(c(1), c(3)), { snapshot: undefined }];
/** a target that never exits */
const STAYING: ScriptedPoll[] = [poll(c(1)), poll(c(1), c(2))];

function args(over: Partial<WatchArgs> = {}): WatchArgs {
  return { intervalMs: 1000, durationMs: undefined, states: ESTABLISHED, json: false, record: undefined, source: undefined, brief: 'none', tui: true, exportDir: undefined, ...over };
}

function watch(script: ScriptedPoll[], a: Partial<WatchArgs> = {}, o: { tty?: boolean; extras?: WatchExtras; at?: (n: number, io: FakeWatchIo) => Promise<void> | void } = {}) {
  const io = new FakeWatchIo({ t0: T0, tty: o.tty === true });
  const targets = scriptedTargets(io, script);
  const run = driveWatch(io, runWatchApp({ spec: { pids: [4242], children: false }, args: args(a), extras: o.extras ?? {} }, io, targets), o.at && ((n) => o.at!(n, io)));
  return { io, targets, run };
}

function assertNothingLeft(io: FakeWatchIo, targets: ReturnType<typeof scriptedTargets>): void {
  assert.equal(io.signalHandlers.size, 0, 'signal listeners removed');
  assert.equal(io.goneHandlers.size, 0, 'stdout listener removed');
  assert.equal(io.timers.size, 0, 'no timer left (polls, --duration)');
  assert.ok(targets.source.closed, 'source closed');
  assert.ok(targets.censusClosed(), 'census closed');
}

test('line mode: the target exits → start line, header, opens and closes, the summary, exit 0', async () => {
  const { io, targets, run } = watch(EXITING, {}, { extras: { banner: ['demo banner'] } });
  assert.equal(await run, 0);
  const lines = io.lines();
  assert.match(lines[0]!, /^watching PID 4242/);
  assert.equal(lines[1], 'demo banner');
  assert.match(lines[2]!, /^TIME\s+EVENT/);
  const events = lines.slice(3).filter((l) => /^\d\d:\d\d:\d\d/.test(l));
  assert.deepEqual(events.map((l) => l.split(/\s+/)[1]), ['open', 'open', 'close', 'open', 'close', 'close', 'exit']);
  assert.ok(lines.some((l) => /^summary/.test(l)), 'summary lines at the end');
  assert.deepEqual(io.err, []);
  assert.deepEqual(io.heapCalls, ['longRun', 'firstPoll 2']);
  assertNothingLeft(io, targets);
});

test('--json: stdout is NDJSON from start to summary; the banner goes to stderr', async () => {
  const { io, targets, run } = watch(EXITING, { json: true }, { extras: { banner: ['demo banner'] } });
  assert.equal(await run, 0);
  const objs = io.lines().map((l) => JSON.parse(l) as { type: string });
  assert.equal(objs[0]!.type, 'start');
  assert.equal(objs.at(-1)!.type, 'summary');
  assert.deepEqual(objs.filter((o) => o.type === 'open').length, 3);
  assert.deepEqual(io.err, ['demo banner\n']);
  assertNothingLeft(io, targets);
});

test('--duration ends a watch whose target stays, at the fake clock\'s duration, exit 0', async () => {
  const { io, targets, run } = watch(STAYING, { durationMs: 3500 });
  assert.equal(await run, 0);
  assert.ok(io.clock.nowMs >= T0 + 3500 && io.clock.nowMs < T0 + 4500, `ended at +${io.clock.nowMs - T0} ms`);
  assert.ok(io.lines().some((l) => /^summary/.test(l)));
  assertNothingLeft(io, targets);
});

test('a signal ends the watch: the recording ends with its summary, exit 0', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sw-app-'));
  try {
    const record = path.join(dir, 'rec.ndjson');
    const { io, targets, run } = watch(STAYING, { record }, { at: (n, io) => (n === 3 ? io.signal() : undefined) });
    assert.equal(await run, 0);
    const types = fs.readFileSync(record, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { type: string }).type);
    assert.deepEqual([types[0], types.at(-1)], ['start', 'summary']);
    assert.ok(io.lines().some((l) => /^summary/.test(l)));
    assertNothingLeft(io, targets);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stdout gone (EPIPE): the watch stops, writes nothing more to stdout, exit 0', async () => {
  const { io, targets, run } = watch(STAYING, {}, { at: (n, io) => (n === 2 ? io.stdoutGone() : undefined) });
  const before = () => io.out.length;
  let atGone = 0;
  const origGone = io.stdoutGone.bind(io);
  io.stdoutGone = () => {
    atGone = before();
    origGone();
  };
  assert.equal(await run, 0);
  assert.equal(io.out.length, atGone, 'no summary on a stdout that is gone');
  assert.ok(atGone > 0);
  assertNothingLeft(io, targets);
});

test('run: the watch ends with CMD\'s status after a poll saw it gone; signals are left to run', async () => {
  let exit!: (code: number) => void;
  const commandExit = new Promise<number>((r) => (exit = r));
  let listenersDuring = -1;
  const { io, targets, run } = watch(STAYING, {}, {
    extras: { commandExit, callerHandlesSignals: true, info: 'running PID 4242' },
    at: (n, io) => {
      if (n === 2) {
        listenersDuring = io.signalHandlers.size;
        exit(3);
      }
    },
  });
  assert.equal(await run, 3);
  assert.equal(listenersDuring, 0, 'run forwards signals itself');
  assert.ok(io.lines().includes('running PID 4242'));
  assertNothingLeft(io, targets);
});

test('serve: nothing on stdout without --json, the target\'s exit does not end it, a signal does', async () => {
  let exitedSeen = false;
  const { io, targets, run } = watch(EXITING, { serve: true, tui: false }, {
    at: (n, io) => {
      // the script's exit is at the fifth poll; keep serving a few intervals past it
      if (n === 8) {
        exitedSeen = targets.source.asked.length >= 5;
        io.signal();
      }
    },
  });
  assert.equal(await run, 0);
  assert.ok(exitedSeen, 'still serving after the target exited');
  assert.deepEqual(io.out, []);
  assertNothingLeft(io, targets);
});

test('a poll that fails with a sockwatch error: one line on stderr, its exit code, the summary still written', async () => {
  const { io, targets, run } = watch([poll(c(1)), { snapshot: undefined, error: new SockwatchError('io_error', 'the source broke') }]);
  assert.equal(await run, 1);
  assert.deepEqual(io.err, ['sockwatch: the source broke\n']);
  assert.ok(io.lines().some((l) => /^summary/.test(l)));
  assertNothingLeft(io, targets);
});

test('a poll that fails unexpectedly is thrown (the CLI prints its stack), after the summary', async () => {
  const { io, run } = watch([poll(c(1)), { snapshot: undefined, error: new Error('bug') }]);
  await assert.rejects(run, /bug/);
  assert.ok(io.lines().some((l) => /^summary/.test(l)));
});

test('on a terminal: the full screen shows the connections, stays after the target exits, q quits, exit 0', async () => {
  let screen = '';
  const { io, targets, run } = watch(EXITING, {}, {
    tty: true,
    at: async (n, io) => {
      if (n !== 8) return;
      // redraws are throttled on a real timer: wait for the frame that shows the exit
      const plain = (): string => io.terminal.written().replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
      await waitFor(() => plain().includes('PROCESS EXITED'), 'the exit on screen');
      screen = plain();
      await io.terminal.press('q');
    },
  });
  assert.equal(await run, 0);
  assert.match(screen, /PROCESS EXITED: data kept/);
  assert.ok(io.lines().some((l) => /^summary/.test(l)), 'the summary is printed once the screen is restored');
  assertNothingLeft(io, targets);
});

test('on a terminal, a signal quits the full screen too (the watch listens, not the view)', async () => {
  const { io, targets, run } = watch(STAYING, {}, { tty: true, at: (n, io) => (n === 2 ? io.signal() : undefined) });
  assert.equal(await run, 0);
  assertNothingLeft(io, targets);
});
