import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyCollector, stampRequest } from '../../src/sources/netlink/reply-collector';
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN } from '../../src/sources/netlink/sock-diag-constants';
import { buildAckSentinel, buildInetDiagExactRequest, buildInetDiagDumpRequest } from '../../src/sources/netlink/inet-diag-request';
import { AF_INET } from '../../src/sources/netlink/sock-diag-constants';

/** One nlmsghdr-framed message (host order) with `body` after the header. */
function msg(type: number, seq: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(NLMSG_HDRLEN + body.length);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt32LE(seq, 8);
  body.copy(b, NLMSG_HDRLEN);
  return b;
}
function errMsg(seq: number, errno: number): Buffer {
  const body = Buffer.alloc(4 + NLMSG_HDRLEN);
  body.writeInt32LE(-errno, 0);
  return msg(NLMSG_ERROR, seq, body);
}
const ROW = 20; // SOCK_DIAG_BY_FAMILY: any non-control type is a row for the collector

test('a dump collects datagrams of its own sequence number until NLMSG_DONE', () => {
  const c = new ReplyCollector(7, false);
  assert.equal(c.take(Buffer.concat([msg(ROW, 7, Buffer.alloc(72)), msg(ROW, 7, Buffer.alloc(72))])).kind, 'more');
  // a leftover of an abandoned request: ignored, not kept
  assert.equal(c.take(msg(NLMSG_DONE, 6)).kind, 'more');
  assert.equal(c.take(Buffer.concat([msg(ROW, 7, Buffer.alloc(72)), msg(NLMSG_DONE, 7, Buffer.alloc(4))])).kind, 'done');
  assert.equal(c.chunks.length, 2);
});

test('a dump fails on NLMSG_ERROR; a batch keeps its lookups\' errors and ends at the ack', () => {
  const dump = new ReplyCollector(3, false);
  const v = dump.take(errMsg(3, 22));
  assert.equal(v.kind, 'failed');
  assert.match(v.kind === 'failed' ? v.error.message : '', /errno 22/);
  const batch = new ReplyCollector(3, true);
  assert.equal(batch.take(errMsg(3, 2)).kind, 'more'); // ENOENT: that socket is gone
  assert.equal(batch.take(msg(ROW, 3, Buffer.alloc(72))).kind, 'more');
  assert.equal(batch.take(errMsg(3, 0)).kind, 'done');
  assert.equal(batch.chunks.length, 3);
});

test('malformed datagrams: a length past the end fails and asks for a new socket; a runt is ignored', () => {
  const bad = msg(ROW, 5, Buffer.alloc(8));
  bad.writeUInt32LE(4096, 0);
  const c = new ReplyCollector(5, false);
  const v = c.take(bad);
  assert.deepEqual(v.kind === 'failed' ? [v.kind, v.reset] : [v.kind], ['failed', true]);
  assert.equal(new ReplyCollector(5, false).take(Buffer.alloc(10)).kind, 'more');
  const short = msg(ROW, 5);
  short.writeUInt32LE(8, 0); // shorter than a header
  assert.equal(new ReplyCollector(5, true).take(short).kind, 'failed');
});

test('stampRequest sets every message\'s sequence number in a copy, and a dump\'s length', () => {
  const sockId = new Uint8Array(48);
  const requests = Buffer.concat([buildInetDiagExactRequest(AF_INET, sockId), buildInetDiagExactRequest(AF_INET, sockId), buildAckSentinel()]);
  const stamped = stampRequest(requests, 99, true);
  assert.notEqual(stamped, requests);
  const seqs: number[] = [];
  for (let off = 0; off < stamped.length; off += stamped.readUInt32LE(off)) seqs.push(stamped.readUInt32LE(off + 8));
  assert.deepEqual(seqs, [99, 99, 99]);
  assert.equal(requests.readUInt32LE(8), 0);
  const dump = buildInetDiagDumpRequest({ family: AF_INET, states: 2 });
  const d = stampRequest(dump, 12, false);
  assert.deepEqual([d.readUInt32LE(0), d.readUInt32LE(8)], [dump.length, 12]);
});
