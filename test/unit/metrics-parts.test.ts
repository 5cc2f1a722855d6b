import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMetricsAddress, formatMetricsAddress } from '../../src/views/metrics/metrics-address';
import { instrumentSource } from '../../src/views/metrics/instrumented-source';
import type { Source } from '../../src/sources/source';
import { SockwatchError, noSuchProcess, isSockwatchError } from '../../src/errors';
import { testSnapshot } from '../helpers/snapshots';
import type { SourceName } from '../../src/model';

test('metrics addresses: loopback unless another interface is named', () => {
  assert.deepEqual(parseMetricsAddress(':9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseMetricsAddress('9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseMetricsAddress('127.0.0.1:9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseMetricsAddress('0.0.0.0:9464'), { host: '0.0.0.0', port: 9464 });
  assert.deepEqual(parseMetricsAddress('[::]:9464'), { host: '::', port: 9464 });
  assert.deepEqual(parseMetricsAddress('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseMetricsAddress('localhost:80'), { host: 'localhost', port: 80 });
  assert.equal(formatMetricsAddress({ host: '::1', port: 9 }), '[::1]:9');
  assert.equal(formatMetricsAddress({ host: '127.0.0.1', port: 9 }), '127.0.0.1:9');
  for (const bad of ['', 'localhost', ':', ':65536', '::1:9464', '[::1]', '[nothost]:1', 'a b:1', ':-1', ':9x', 'host:']) {
    assert.throws(() => parseMetricsAddress(bad), (e: unknown) => isSockwatchError(e) && e.code === 'invalid_argument' && e.message.includes('invalid metrics address'), bad);
  }
});

function fakeSource(results: (() => Promise<ReturnType<typeof testSnapshot>>)[]): Source & { closed: number } {
  let name: SourceName = 'netlink';
  const s = {
    closed: 0,
    get name() {
      return name;
    },
    snapshot: () => {
      const next = results.shift();
      if (next === undefined) throw new Error('no more results');
      name = 'procfs'; // as a fallback source switches
      return next();
    },
    close() {
      s.closed++;
    },
  };
  return s;
}

test('the instrumented source times each poll and counts failures, not the target being gone', async () => {
  const seen: [number, boolean | undefined][] = [];
  let clock = 1000;
  const inner = fakeSource([
    async () => {
      clock += 12;
      return testSnapshot([]);
    },
    async () => {
      clock += 3;
      throw new SockwatchError('io_error', 'netlink went away');
    },
    async () => {
      clock += 1;
      throw noSuchProcess(4242);
    },
  ]);
  const s = instrumentSource(inner, { observePoll: (sec, failed) => seen.push([sec, failed]) }, () => clock);
  assert.equal(s.name, 'netlink');
  assert.equal((await s.snapshot('all')).process.pid, 4242);
  assert.equal(s.name, 'procfs', 'the name follows the wrapped source');
  await assert.rejects(s.snapshot('all'), /netlink went away/);
  await assert.rejects(s.snapshot('all'), /no process/);
  assert.deepEqual(seen, [
    [0.012, undefined],
    [0.003, true],
    [0.001, false],
  ]);
  s.close();
  assert.equal(inner.closed, 1);
  assert.equal(s.drainLifecycle, undefined, 'no lifecycle facility appears where the source has none');
});
