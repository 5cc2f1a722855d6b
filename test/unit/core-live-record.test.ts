import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Connection, TimerInfo } from '../../src/model';
import { LiveRecord, copyConnection, refreshConnection } from '../../src/core/live-record';
import { advanceExchangeState, firstExchangeState, newExchangeState, nextExchangeState, type ExchangeSample } from '../../src/core/exchanges';
import { tupleKey } from '../../src/core/lifecycle-match';
import { conn, tcp } from '../helpers/snapshots';

const NO_TIMER: TimerInfo = Object.freeze({ kind: 'none', expiresMs: 0 });

/** a connection as the netlink source gives it, every optional field present */
function full(overrides: Partial<Connection> = {}): Connection {
  return {
    protocol: 'tcp',
    local: { address: '10.0.0.1', port: 40001 },
    remote: { address: '10.0.0.2', port: 80 },
    state: 'ESTABLISHED',
    inode: 7,
    sendQueue: 0,
    recvQueue: 3,
    timer: NO_TIMER,
    retransmits: 0,
    uid: 1000,
    fd: 12,
    tcp: tcp({ bytesSent: 10, segmentsSent: 2, segmentsReceived: 2, cookie: '99', rttMs: 0.25 }),
    pid: 4242,
    pids: [4242, 4243],
    direction: 'out',
    ...overrides,
  };
}

test('copyConnection: an equal copy the caller cannot change; a frozen timer is shared, a mutable one copied', () => {
  const c = full();
  const copy = copyConnection(c);
  assert.deepEqual(copy, c);
  // endpoints are never changed once made (Endpoint is readonly): the source's are kept
  assert.equal(copy.local, c.local);
  assert.equal(copy.remote, c.remote);
  assert.notEqual(copy, c);
  assert.notEqual(copy.tcp, c.tcp);
  assert.equal(copy.timer, NO_TIMER);
  const keepalive: TimerInfo = { kind: 'keepalive', expiresMs: 500, probes: 1 };
  const k = copyConnection(full({ timer: keepalive }));
  assert.deepEqual(k.timer, keepalive);
  assert.notEqual(k.timer, keepalive);
  // endpoints of the previous copy are kept
  assert.equal(copyConnection(c, copy).local, copy.local);
});

test('copyConnection: tcp fields in the order of the JSON contract, whatever order the source used', () => {
  const { cookie, segmentsReceived, ...rest } = full().tcp!;
  const shuffled = { segmentsReceived, cookie, ...rest } as NonNullable<Connection['tcp']>;
  const copy = copyConnection(full({ tcp: shuffled }));
  assert.deepEqual(Object.keys(copy.tcp!), ['bytesSent', 'bytesReceived', 'rttMs', 'rttVarMs', 'retransmits', 'lastSendMs', 'lastReceiveMs', 'cookie', 'segmentsSent', 'segmentsReceived']);
  assert.deepEqual(Object.keys(copyConnection(conn({ inode: 1, bytesSent: 5 })).tcp!), ['bytesSent', 'bytesReceived', 'rttMs', 'rttVarMs', 'retransmits', 'lastSendMs', 'lastReceiveMs', 'cookie']);
});

test('refreshConnection: in place, the same as a new copy of the observation', () => {
  const dst = copyConnection(full());
  const tcpBefore = dst.tcp;
  const next = full({ state: 'CLOSE_WAIT', recvQueue: 0, timer: { kind: 'keepalive', expiresMs: 100 }, tcp: tcp({ bytesSent: 50, segmentsSent: 9, segmentsReceived: 8, cookie: '99', rttMs: 1.5, lastSendMs: 40 }), pids: [4242] });
  assert.equal(refreshConnection(dst, next), true);
  assert.deepEqual(dst, copyConnection(next));
  assert.equal(dst.tcp, tcpBefore, 'the tcp object is updated, not replaced');
  assert.notEqual(dst.timer, next.timer, 'a mutable timer is copied');
  // no tcp internals on either side
  const plain = copyConnection(conn({ inode: 3 }));
  assert.equal(refreshConnection(plain, conn({ inode: 3, state: 'FIN_WAIT1' })), true);
  assert.deepEqual(plain, conn({ inode: 3, state: 'FIN_WAIT1' }));
});

test('refreshConnection: refuses (so the caller copies) when a field appears or disappears', () => {
  const cases: Partial<Connection>[] = [{ fd: undefined }, { timer: undefined }, { tcp: undefined }, { pids: undefined }, { direction: undefined }, { uid: undefined }, { pid: undefined }, { sendQueue: undefined }, { recvQueue: undefined }, { retransmits: undefined }];
  for (const missing of cases) {
    assert.equal(refreshConnection(copyConnection(full()), full(missing)), false, `without ${Object.keys(missing)[0]}`);
    assert.equal(refreshConnection(copyConnection(full(missing)), full()), false, `with ${Object.keys(missing)[0]} again`);
  }
  const { segmentsSent: _s, segmentsReceived: _r, ...noSegments } = full().tcp!;
  assert.equal(refreshConnection(copyConnection(full()), full({ tcp: noSegments })), false);
  assert.equal(refreshConnection(copyConnection(full({ tcp: noSegments })), full()), false);
});

test('LiveRecord: updates its copy in place until it hands it out, then never changes what it handed out', () => {
  const rec = new LiveRecord('c1', copyConnection(full()), 1000, 1000, false, false, 1);
  const own = rec.connection;
  rec.observe(full({ recvQueue: 5 }));
  assert.equal(rec.connection, own, 'nothing handed out: in place');
  assert.equal(rec.connection.recvQueue, 5);
  const handed = rec.snapshot();
  assert.equal(handed.key, '7|10.0.0.1:40001|10.0.0.2:80');
  assert.deepEqual(handed.states, [{ state: 'ESTABLISHED', atMs: 1000 }]);
  assert.equal(handed.exchanges, rec.exchanges?.count);
  rec.observe(full({ recvQueue: 9, state: 'CLOSE_WAIT', tcp: tcp({ bytesSent: 70, segmentsSent: 4, segmentsReceived: 4, cookie: '99' }) }));
  assert.notEqual(rec.connection, own);
  assert.equal(handed.connection.recvQueue, 5);
  assert.equal(handed.connection.state, 'ESTABLISHED');
  assert.equal(handed.connection.tcp?.bytesSent, 10);
  assert.equal(rec.connection.recvQueue, 9);
  // the new copy is the record's own again: in place from here
  const second = rec.connection;
  rec.observe(full({ recvQueue: 1 }));
  assert.equal(rec.connection, second);
});

test('LiveRecord: the state history starts at the first state when the state first changes, and is bounded', () => {
  const rec = new LiveRecord('c1', copyConnection(full()), 500, 500, true, false, 1);
  assert.equal(rec.stateSinceMs, 500);
  rec.changeState('ESTABLISHED', 'CLOSE_WAIT', 900, 3);
  assert.equal(rec.stateSinceMs, 900);
  rec.changeState('CLOSE_WAIT', 'LAST_ACK', 1000, 3);
  rec.changeState('LAST_ACK', 'CLOSING', 1100, 3);
  rec.connection.state = 'CLOSING';
  assert.deepEqual(rec.snapshot().states, [
    { state: 'CLOSE_WAIT', atMs: 900 },
    { state: 'LAST_ACK', atMs: 1000 },
    { state: 'CLOSING', atMs: 1100 },
  ]);
});

test('tupleKey: "address:port|address:port", IPv4-mapped addresses as IPv4', () => {
  assert.equal(tupleKey({ address: '10.0.0.1', port: 5 }, { address: '::ffff:10.0.0.2', port: 80 }), '10.0.0.1:5|10.0.0.2:80');
  assert.equal(tupleKey({ address: '::1', port: 5 }, { address: 'fe80::1', port: 443 }), '::1:5|fe80::1:443');
});

const counterValue = fc.oneof(fc.integer({ min: 0, max: 2 ** 32 + 10 }), fc.constant(Number.NaN), fc.constant(-1));
const sampleArb: fc.Arbitrary<ExchangeSample> = fc.record(
  {
    bytesSent: counterValue,
    retransmits: fc.integer({ min: 0, max: 20 }),
    lastSendMs: fc.integer({ min: 0, max: 100 }),
    lastReceiveMs: fc.integer({ min: 0, max: 100 }),
    segmentsSent: counterValue,
    segmentsReceived: counterValue,
  },
  { requiredKeys: ['bytesSent', 'retransmits', 'lastSendMs', 'lastReceiveMs'] },
);

test('nextExchangeState leaves the state it is given as it was (the tracker advances its own in place)', () => {
  fc.assert(
    fc.property(fc.array(sampleArb, { minLength: 2, maxLength: 30 }), (samples) => {
      const [first, ...rest] = samples;
      let state = firstExchangeState(first!);
      const mutable = newExchangeState(first!);
      for (const s of rest) {
        const before = { ...state };
        const next = nextExchangeState(state, s);
        assert.deepEqual({ ...state }, before);
        advanceExchangeState(mutable, s);
        assert.deepEqual({ ...mutable }, { ...next });
        state = next;
      }
    }),
  );
});
