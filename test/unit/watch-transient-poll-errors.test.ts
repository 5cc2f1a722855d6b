// A poll that fails for lack of file descriptors (EMFILE, ENFILE: a flood of clients on the
// metrics port) is transient: one notice, a retry every interval, the watch goes on. Any other
// unexpected failure still ends it. The classification sees through the errors that wrap errno.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StateFilter, TcpState } from '../../src/model';
import { SockwatchError, isOutOfDescriptors, noSuchProcess } from '../../src/errors';
import { procReadError } from '../../src/process/proc-errors';
import { EventStream } from '../../src/watch/event-stream';
import { withFallback } from '../../src/sources/fallback-source';
import type { Source } from '../../src/sources/source';
import { testConn, testSnapshot } from '../helpers/snapshots';
import { startFakeWatch, type ScriptedPoll } from '../helpers/fake-watch';

const ESTABLISHED: StateFilter = new Set<TcpState>(['ESTABLISHED']);

function errno(code: string, syscall = 'scandir', path = '/proc/4242/fd'): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(`${code}: too many open files, ${syscall} '${path}'`);
  e.code = code;
  e.syscall = syscall;
  e.path = path;
  return e;
}

test('isOutOfDescriptors: EMFILE/ENFILE on the error or a cause it wraps, nothing else', () => {
  assert.equal(isOutOfDescriptors(errno('EMFILE')), true);
  assert.equal(isOutOfDescriptors(errno('ENFILE')), true);
  // what a failed /proc read becomes: an io_error whose message names EMFILE, the errno as cause
  const wrapped = procReadError(errno('EMFILE'), 4242, '/proc/4242/fd');
  assert.equal(wrapped.code, 'io_error');
  assert.equal(isOutOfDescriptors(wrapped), true);
  assert.equal(isOutOfDescriptors(new SockwatchError('io_error', 'outer', undefined, { cause: new Error('middle', { cause: errno('ENFILE') }) })), true);

  for (const other of [
    errno('EACCES'),
    errno('EIO'),
    errno('ENOENT'),
    procReadError(errno('EIO'), 4242, '/proc/4242/fd'),
    // the words alone are not the errno
    new SockwatchError('io_error', 'cannot read /proc/4242/fd: EMFILE: too many open files'),
    noSuchProcess(4242),
    { code: 24 },
    { code: ['EMFILE'] },
    'EMFILE',
    24,
    null,
    undefined,
  ]) {
    assert.equal(isOutOfDescriptors(other), false, String((other as { message?: string })?.message ?? JSON.stringify(other)));
  }
  // a cause chain that loops, or runs deeper than any real wrapping, ends the search
  const loop: { code: string; cause?: unknown } = { code: 'EIO' };
  loop.cause = loop;
  assert.equal(isOutOfDescriptors(loop), false);
  let deep: unknown = errno('EMFILE');
  for (let i = 0; i < 10; i++) deep = { code: 'EIO', cause: deep };
  assert.equal(isOutOfDescriptors(deep), false);
});

test('polls failing with EMFILE: one notice, retried every interval, then resumed; the watch goes on', async () => {
  const ok = (n: number): ScriptedPoll => ({ snapshot: testSnapshot(Array.from({ length: n }, (_, i) => testConn(i + 1))) });
  const emfile = (): ScriptedPoll => ({ snapshot: undefined, error: procReadError(errno('EMFILE'), 4242, '/proc/4242/fd') });
  const script: ScriptedPoll[] = [ok(1), ok(1), emfile(), emfile(), emfile(), ok(2), { snapshot: undefined, error: errno('ENFILE', 'open') }, ok(3), { snapshot: undefined }];
  const lines: string[] = [];
  const json: Record<string, unknown>[] = [];
  let stream!: EventStream;
  const w = await startFakeWatch({
    script,
    intervalMs: 100,
    states: ESTABLISHED,
    attach: (session) => (stream = new EventStream(session, { json: (o) => json.push(o), line: (l) => lines.push(l) })),
  });
  const pollTimes: number[] = [];
  await w.run(() => void pollTimes.push(w.clock.nowMs));
  const end = await w.session.ended;
  assert.deepEqual(end, { kind: 'exited' }, lines.join('\n'));
  const notices = lines.filter((l) => / poll {2}/.test(l));
  assert.equal(notices.length, 4, lines.join('\n'));
  assert.match(notices[0]!, / poll {2}a poll failed \(cannot read \/proc\/4242\/fd: EMFILE: too many open files, scandir '\/proc\/4242\/fd'\); retrying every 100ms$/);
  assert.match(notices[1]!, / poll {2}polls resumed after 3 failed$/);
  assert.match(notices[2]!, / poll {2}a poll failed \(ENFILE: .*\); retrying every 100ms$/);
  assert.match(notices[3]!, / poll {2}polls resumed after 1 failed$/);
  // the connections opened during and after the failures were seen (1 at start, then 2 and 3)
  assert.deepEqual(json.filter((o) => o.type === 'open').length, 3);
  assert.equal(json.filter((o) => o.type === 'exit').length, 1);
  // every poll, failed or not, one interval after the one before
  const gaps = pollTimes.slice(2).map((t, i) => t - pollTimes[i + 1]!);
  assert.ok(gaps.every((g) => g === 100), `gaps ${gaps.join(',')}`);
  stream.dispose();
});

test('the --json sink gets the same notices; any other failure still ends the watch', async () => {
  const notices: string[] = [];
  const script: ScriptedPoll[] = [{ snapshot: testSnapshot([testConn(1)]) }, { snapshot: undefined, error: errno('EMFILE') }, { snapshot: undefined, error: errno('EIO') }];
  let stream!: EventStream;
  const w = await startFakeWatch({ script, intervalMs: 100, states: ESTABLISHED, attach: (session) => (stream = new EventStream(session, { json: () => undefined, notice: (t) => notices.push(t) })) });
  await w.run();
  const end = await w.session.ended;
  assert.equal(end.kind, 'error');
  assert.equal((end as { error: NodeJS.ErrnoException }).error.code, 'EIO');
  assert.deepEqual(notices, [`sockwatch: a poll failed (EMFILE: too many open files, scandir '/proc/4242/fd'); retrying every 100ms`]);
  stream.dispose();
});

test('withFallback: EMFILE passes through without switching to the fallback for good', async () => {
  let fails = true;
  let opened = 0;
  const snap = testSnapshot([testConn(1)]);
  const primary: Source = {
    name: 'netlink',
    async snapshot() {
      if (fails) throw procReadError(errno('EMFILE'), 4242, '/proc/4242/fd');
      return snap;
    },
    close() {},
  };
  const s = withFallback(primary, async () => {
    opened++;
    return { name: 'procfs', snapshot: async () => snap, close() {} };
  });
  await assert.rejects(s.snapshot('all'), (e: unknown) => isOutOfDescriptors(e));
  fails = false;
  assert.equal(await s.snapshot('all'), snap);
  assert.equal(s.name, 'netlink');
  assert.equal(opened, 0);
});
