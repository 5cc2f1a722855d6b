// The truth side of the real-software tests must be right before they can judge sockwatch: these
// check its parsers on output the real programs wrote (ab 2.3 and nginx 1.22 on this machine:
// test/fixtures/real), malformed input included, and the tolerance and rate arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAbReport } from '../helpers/ab';
import { parseAccessLog, requestsPerConnection } from '../helpers/nginx-access-log';
import { ratePerMinute, within } from '../helpers/truth-window';
import { connectionsSeen, exchangesTolerance, findingsSeen, ownerUnknownCount, type SockEvent } from '../helpers/watch-events';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/real');
const fixture = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8');

test('ab report: counts with -k and without', () => {
  assert.deepEqual(parseAbReport(fixture('ab-keepalive.txt')), {
    completeRequests: 20,
    failedRequests: 0,
    keepAliveRequests: 20,
    timeTakenMs: 2,
  });
  const plain = parseAbReport(fixture('ab-no-keepalive.txt'));
  assert.equal(plain.completeRequests, 20);
  assert.equal(plain.keepAliveRequests, 0);
  assert.equal(plain.timeTakenMs, 6);
});

test('ab report: output without a report (ab failed) is an error, not zeros', () => {
  assert.throws(() => parseAbReport('apr_socket_recv: Connection refused (111)\n'), /no report/);
  assert.throws(() => parseAbReport(''), /no report/);
});

test('nginx access log: per-connection request counts (ab -k -c 2 then ab -c 2, 20 requests each)', () => {
  const entries = parseAccessLog(fixture('nginx-access.log'));
  assert.equal(entries.length, 40);
  const conns = requestsPerConnection(entries);
  // two keep-alive connections carried the first 20, then one connection per request
  assert.deepEqual(conns.slice(0, 2).map((c) => c.requests), [11, 9]);
  assert.equal(conns.length, 22);
  assert.ok(conns.slice(2).every((c) => c.requests === 1 && c.lines === 1));
  assert.ok(conns.every((c) => c.serverPort === 38531 && c.remoteAddress === '127.0.0.1'));
  const first = conns[0];
  assert.equal(first?.remotePort, 53162);
  assert.equal(first?.firstMs, 1795631178717);
});

test('nginx access log: $connection_requests wins over line count when lines were lost', () => {
  const conns = requestsPerConnection(parseAccessLog('7 1 127.0.0.1 5000 80 200 1.000\n7 3 127.0.0.1 5000 80 200 1.002\n'));
  assert.deepEqual(conns.map((c) => [c.requests, c.lines]), [[3, 2]]);
});

test('nginx access log: a line in another format is an error; an empty log is no connection', () => {
  assert.throws(() => parseAccessLog('127.0.0.1 - - [25/Nov/2026:18:00:00 +0000] "GET / HTTP/1.0" 200 3\n'), /expected format/);
  assert.throws(() => parseAccessLog('7 x 127.0.0.1 5000 80 200 1.000\n'), /expected format/);
  assert.deepEqual(parseAccessLog('\n'), []);
});

test('exchanges tolerance: ±1 below 20 requests, ±10 % from 20', () => {
  assert.equal(exchangesTolerance(16), 1);
  assert.equal(exchangesTolerance(19), 1);
  assert.equal(exchangesTolerance(20), 2);
  assert.equal(exchangesTolerance(2000), 200);
});

test('rates over a span count only what falls inside it', () => {
  const times = [0, 250, 500, 750, 1000, 5000];
  assert.deepEqual(ratePerMinute(times, { fromMs: 0, toMs: 1000, source: 't' }), { count: 5, perMinute: 300 });
  assert.ok(within(330, 300, 0.1));
  assert.ok(!within(331, 300, 0.1));
  assert.ok(!within(undefined, 300, 0.1));
});

const ev = (e: Record<string, unknown>): SockEvent => ({ time: '2026-11-25T18:00:00.000Z', ...e }) as SockEvent;
const ep = (port: number) => ({ address: '127.0.0.1', port });

test('what sockwatch said: the latest record of each connection wins; findings from the summary and finding events', () => {
  const events = [
    ev({ type: 'open', connection: { local: ep(5000), remote: ep(80), exchanges: 1 } }),
    ev({ type: 'finding', finding: { kind: 'reuse' } }),
    ev({ type: 'close', brief: true, connection: { local: ep(5001), remote: ep(80) } }),
    ev({ type: 'summary', connections: [{ local: ep(5000), remote: ep(80), exchanges: 40 }], findings: [{ kind: 'churn', perMinute: 4 }] }),
  ];
  const seen = connectionsSeen(events);
  assert.equal(seen.get('127.0.0.1:5000>127.0.0.1:80')?.exchanges, 40);
  assert.equal(seen.get('127.0.0.1:5000>127.0.0.1:80')?.last, 'summary');
  assert.equal(seen.get('127.0.0.1:5001>127.0.0.1:80')?.brief, true);
  assert.deepEqual(findingsSeen(events).map((f) => `${f.from}:${f.kind}`), ['event:reuse', 'summary:churn']);
});

test('owner-unknown brief connections: found by remote endpoint outside connections/findings, else undefined', () => {
  const summary = {
    connections: [{ remote: ep(80), count: 99 }],
    findings: [{ remote: ep(80), count: 98 }],
    unattributed: { brief: [{ remote: ep(8080), count: 3 }, { remote: '127.0.0.1:80', closed: 44 }] },
  };
  assert.equal(ownerUnknownCount(summary, ep(80)), 44);
  assert.equal(ownerUnknownCount(summary, ep(8080)), 3);
  assert.equal(ownerUnknownCount(summary, ep(81)), undefined);
  assert.equal(ownerUnknownCount({ connections: [{ remote: ep(80), count: 1 }] }, ep(80)), undefined);
});
