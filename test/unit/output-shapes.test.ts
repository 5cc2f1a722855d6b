import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection, ProcessInfo } from '../../src/model';
import { connectionJson, eventJson, snapshotJson, stateNames } from '../../src/views/output/json-shapes';
import { csvField, snapshotCsv } from '../../src/views/output/snapshot-csv';
import { snapshotTable } from '../../src/views/output/snapshot-table';
import { formatEndpoint } from '../../src/core/endpoint';

const proc: ProcessInfo = { pid: 42, command: 'node', cmdline: 'node client.js', user: 'alice', uid: 1000, startTime: '2026-11-25T10:00:00.000Z' };
const v4: Connection = {
  fd: 3, protocol: 'tcp', local: { address: '127.0.0.1', port: 43793 }, remote: { address: '127.0.0.1', port: 8080 },
  state: 'ESTABLISHED', inode: 12345, sendQueue: 0, recvQueue: 0, timer: { kind: 'keepalive', expiresMs: 9800 }, retransmits: 0, uid: 1000,
};
const v6: Connection = {
  fd: 7, protocol: 'tcp6', local: { address: '::1', port: 50000 }, remote: { address: '::ffff:10.0.0.1', port: 443 },
  state: 'CLOSE_WAIT', inode: 777, timer: { kind: 'none', expiresMs: 0 },
};

test('connection JSON has the contract keys in order, absent fields omitted', () => {
  assert.deepEqual(Object.keys(connectionJson(v4)), ['fd', 'protocol', 'local', 'remote', 'state', 'inode', 'sendQueue', 'recvQueue', 'timer', 'retransmits', 'uid']);
  assert.deepEqual(connectionJson(v4).timer, { kind: 'keepalive', expiresMs: 9800 });
  const j = connectionJson({ ...v6, fd: undefined });
  assert.equal('fd' in j, false);
  assert.equal('sendQueue' in j, false);
  assert.deepEqual(j.remote, { address: '::ffff:10.0.0.1', port: 443 });
  assert.deepEqual(connectionJson({ ...v4, timer: { kind: 'keepalive', expiresMs: 1, probes: 2 } }).timer, { kind: 'keepalive', expiresMs: 1, probes: 2 });
});

test('snapshot JSON document', () => {
  const doc = snapshotJson({ timeMs: Date.UTC(2026, 10, 25, 12), process: proc, source: 'procfs', states: new Set(['ESTABLISHED'] as const), connections: [connectionJson(v4)] });
  assert.equal(doc.schema, 'sockwatch.snapshot/1');
  assert.equal(doc.time, '2026-11-25T12:00:00.000Z');
  assert.deepEqual(doc.process, { pid: 42, command: 'node', cmdline: 'node client.js', user: 'alice', startTime: '2026-11-25T10:00:00.000Z' });
  assert.deepEqual(doc.states, ['ESTABLISHED']);
  assert.equal('findings' in doc, false);
  assert.equal(stateNames('all').length, 12);
});

test('event JSON for a close carries lifetimeMs and the tracked identity', () => {
  const conn = { id: 'c1', key: 'k', connection: v4, firstSeenMs: 1000, lastSeenMs: 2000, preexisting: false, states: [] };
  const e = eventJson(42, { type: 'close', atMs: 3000, conn, lifetimeMs: 2000, closeTime: 'poll' });
  assert.equal(e.type, 'close');
  assert.equal(e.time, '1970-01-01T00:00:03.000Z');
  assert.equal(e.pid, 42);
  assert.equal(e.lifetimeMs, 2000);
  assert.equal(e.closeTime, 'poll');
  assert.equal('brief' in e, false);
  const c = e.connection as Record<string, unknown>;
  assert.equal(c.id, 'c1');
  assert.equal(c.firstSeen, '1970-01-01T00:00:01.000Z');
  assert.equal(c.preexisting, false);
});

test('CSV: header, one row per connection, empty cells for absent fields, quoting', () => {
  const text = snapshotCsv([{ connection: v4 }, { connection: v6 }]);
  const lines = text.trimEnd().split('\n');
  assert.equal(lines[0], 'fd,protocol,local_address,local_port,remote_address,remote_port,state,inode,send_queue,recv_queue,timer,timer_expires_ms');
  assert.equal(lines[1], '3,tcp,127.0.0.1,43793,127.0.0.1,8080,ESTABLISHED,12345,0,0,keepalive,9800');
  assert.equal(lines[2], '7,tcp6,::1,50000,::ffff:10.0.0.1,443,CLOSE_WAIT,777,,,none,0');
  assert.equal(csvField('a,"b"'), '"a,""b"""');
});

test('table: header naming the process, aligned columns, brackets around IPv6, no color when asked', () => {
  const t = snapshotTable(proc, new Set(['ESTABLISHED'] as const), [v4, v6], false);
  const lines = t.trimEnd().split('\n');
  assert.match(lines[0]!, /^PID 42 \(node\) user alice: node client\.js — 2 TCP connections \(ESTABLISHED\)$/);
  assert.match(lines[1]!, /^FD\s+PROTO\s+LOCAL\s+REMOTE\s+STATE\s+SEND-Q\s+RECV-Q\s+TIMER$/);
  assert.equal(lines[1]!.indexOf('LOCAL'), lines[2]!.indexOf('127.0.0.1:43793'));
  assert.equal(lines[2]!.indexOf('127.0.0.1:8080'), lines[3]!.indexOf('[::ffff:10.0.0.1]:443'));
  assert.match(lines[2]!, /keepalive 9\.8s$/);
  assert.doesNotMatch(t, /\x1b\[/);
  assert.match(snapshotTable(proc, 'all', [v4], true), /\x1b\[32mESTABLISHED\x1b\[0m/);
  assert.equal(formatEndpoint({ address: '::1', port: 80 }), '[::1]:80');
});
