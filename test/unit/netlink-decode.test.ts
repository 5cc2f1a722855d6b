// Decoder tests on bytes the kernel really sent (test/fixtures/netlink/*.bin, made by capture.ts
// on a little-endian host), plus malformed variants derived from them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { InetDiagDecoder, decodeInetDiag, type InetDiagRow } from '../../src/sources/netlink/inet-diag-decode';
import { polledConnection, rowToConnection } from '../../src/sources/netlink/inet-diag-connection';
import { HOST_LE, nlmsgAlign } from '../../src/sources/netlink/sock-diag-constants';
import { TCP_INFO_OFFSETS } from '../../src/sources/netlink/tcp-info';
import { tcpStateCode } from '../../src/model';
import type { FixtureTruth } from '../fixtures/netlink/capture';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/netlink');

function load(name: string): { bin: Buffer; truth: FixtureTruth } {
  return {
    bin: readFileSync(path.join(FIXTURES, `${name}.bin`)),
    truth: JSON.parse(readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as FixtureTruth,
  };
}

/** Each nlmsg of a buffer, as subarrays. */
function messages(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < buf.length; ) {
    const len = buf.readUInt32LE(off);
    out.push(buf.subarray(off, off + nlmsgAlign(len)));
    off += nlmsgAlign(len);
  }
  return out;
}

/** A copy of a dump with every socket's tcp_info bytes_received (u64 at offset 128) grown by `more`. */
function withMoreBytesReceived(bin: Buffer, more: number): Buffer {
  const edited = Buffer.from(bin);
  for (let off = 0; off < edited.length; ) {
    const len = edited.readUInt32LE(off);
    for (let a = off + 16 + 72; a + 4 <= off + len; ) {
      const alen = edited.readUInt16LE(a);
      if (alen < 4) break;
      if ((edited.readUInt16LE(a + 2) & 0x3fff) === 2 && alen - 4 >= TCP_INFO_OFFSETS.bytesReceivedEnd) {
        const at = a + 4 + TCP_INFO_OFFSETS.bytesReceivedEnd - 8;
        edited.writeUInt32LE(edited.readUInt32LE(at) + more, at);
      }
      a += nlmsgAlign(alen);
    }
    off += nlmsgAlign(len);
  }
  return edited;
}

function nlmsg(type: number, payload: Buffer): Buffer {
  const buf = Buffer.alloc(16 + payload.length);
  buf.writeUInt32LE(buf.length, 0);
  buf.writeUInt16LE(type, 4);
  payload.copy(buf, 16);
  return buf;
}

const DONE = nlmsg(3, Buffer.alloc(4));

/** A copy of one sock_diag message whose INET_DIAG_INFO attribute keeps only `infoLen` bytes. */
function withShortInfo(msg: Buffer, infoLen: number): Buffer {
  const head = Buffer.from(msg.subarray(0, 16 + 72));
  let a = 16 + 72;
  while (a < msg.length) {
    const alen = msg.readUInt16LE(a);
    if (msg.readUInt16LE(a + 2) === 2) {
      const attr = Buffer.alloc(nlmsgAlign(4 + infoLen));
      attr.writeUInt16LE(4 + infoLen, 0);
      attr.writeUInt16LE(2, 2);
      msg.copy(attr, 4, a + 4, a + 4 + infoLen);
      const out = Buffer.concat([head, attr]);
      out.writeUInt32LE(out.length, 0);
      return out;
    }
    a += nlmsgAlign(alen);
  }
  throw new Error('fixture message has no INET_DIAG_INFO');
}

function rowFor(rows: InetDiagRow[], inode: number): InetDiagRow {
  const row = rows.find((r) => r.inode === inode);
  assert.ok(row, `a row for inode ${inode}`);
  return row;
}

for (const name of ['tcp4-loopback', 'tcp6-loopback', 'tcp6-mapped']) {
  test(`${name}: every row matches the captured truth`, () => {
    assert.ok(HOST_LE, 'fixtures were captured on a little-endian host');
    const { bin, truth } = load(name);
    const result = decodeInetDiag(bin);
    assert.equal(result.done, true);
    assert.equal(result.problem, undefined);
    assert.equal(result.errno, undefined);
    assert.equal(result.rows.length, truth.sockets.length);

    const cookies = new Set<string>();
    for (const t of truth.sockets) {
      const row = rowFor(result.rows, t.inode);
      const conn = rowToConnection(row);
      assert.ok(conn);
      assert.equal(conn.protocol, t.protocol, t.role);
      assert.deepEqual(conn.local, t.local, `${t.role} local`);
      assert.deepEqual(conn.remote, t.remote, `${t.role} remote`);
      assert.equal(conn.state, t.state);
      assert.equal(row.state, tcpStateCode(t.state));
      assert.equal(conn.inode, t.inode);
      assert.equal(conn.sendQueue, 0, 'a listener reports 0, not its backlog, like procfs');
      assert.equal(conn.recvQueue, 0);
      assert.equal(conn.retransmits, 0);
      assert.ok(conn.tcp, `${t.role} has tcp internals`);
      assert.equal(conn.tcp.bytesSent, t.bytesSent, `${t.role} bytesSent`);
      assert.equal(conn.tcp.bytesReceived, t.bytesReceived, `${t.role} bytesReceived`);
      // bytes_acked counts the client's SYN too
      assert.equal(row.tcpInfo?.bytesAcked, t.bytesSent + (t.role === 'client' ? 1 : 0), `${t.role} bytes_acked`);
      assert.equal(conn.tcp.retransmits, 0);
      // the capture writes each side's bytes in one write, below the loopback MSS: one data segment
      assert.equal(conn.tcp.segmentsSent, t.bytesSent > 0 ? 1 : 0, `${t.role} segmentsSent`);
      assert.equal(conn.tcp.segmentsReceived, t.bytesReceived > 0 ? 1 : 0, `${t.role} segmentsReceived`);
      assert.match(conn.tcp.cookie, /^[1-9]\d*$/);
      cookies.add(conn.tcp.cookie);
      if (t.state === 'ESTABLISHED') {
        assert.ok(conn.tcp.rttMs > 0 && conn.tcp.rttMs < 1000, `${t.role} rtt ${conn.tcp.rttMs} ms`);
        assert.ok(row.tcpInfo?.sndMss && row.tcpInfo.sndMss > 0);
      }
      if (t.keepAlive) {
        assert.equal(conn.timer?.kind, 'keepalive', `${t.role} keep-alive timer`);
        assert.ok(conn.timer.expiresMs > 0 && conn.timer.expiresMs <= 1500, `expires ${conn.timer.expiresMs}`);
        assert.equal(conn.timer.probes, 0);
      } else {
        assert.deepEqual(conn.timer, { kind: 'none', expiresMs: 0 });
      }
    }
    assert.equal(cookies.size, truth.sockets.length, 'cookies are distinct');
  });
}

test('wantedInodes keeps only those rows', () => {
  const { bin, truth } = load('tcp4-loopback');
  const client = truth.sockets.find((s) => s.role === 'client')!;
  const result = decodeInetDiag(bin, { wantedInodes: new Set([client.inode]) });
  assert.deepEqual(result.rows.map((r) => r.inode), [client.inode]);
  assert.equal(result.done, true);
  assert.deepEqual(decodeInetDiag(bin, { wantedInodes: new Set() }).rows, []);
});

test('messages counts every inet_diag message walked past, wanted or not, and nothing after a malformed one', () => {
  const { bin, truth } = load('tcp4-loopback');
  const sockets = messages(bin).length - 1; // all but NLMSG_DONE
  assert.equal(sockets, truth.sockets.length);
  assert.equal(decodeInetDiag(bin).messages, sockets);
  assert.equal(decodeInetDiag(bin, { wantedInodes: new Set() }).messages, sockets);
  const first = messages(bin)[0]!;
  const cut = decodeInetDiag(Buffer.concat([first, Buffer.from([1, 0, 0, 0, 20, 0, 0, 0]), bin]));
  assert.equal(cut.messages, 1);
  // a message too short to be an inet_diag_msg is a problem, not a message
  const short = Buffer.from(first.subarray(0, 16 + 20));
  short.writeUInt32LE(short.length, 0);
  assert.equal(decodeInetDiag(short).messages, 0);
});

test('several receive buffers decode like one', () => {
  const { bin } = load('tcp6-loopback');
  assert.deepEqual(decodeInetDiag(messages(bin)), decodeInetDiag(bin));
});

test('the streaming decoder, fed a datagram at a time, decodes like the whole reply and ignores what follows its end', () => {
  const { bin } = load('tcp6-loopback');
  const msgs = messages(bin);
  const decoder = new InetDiagDecoder();
  for (const m of msgs) {
    // each datagram overwritten after it is pushed, as the FFI socket's receive memory is
    const scratch = Buffer.from(m);
    decoder.push(scratch);
    scratch.fill(0xa5);
  }
  assert.equal(decoder.finished, true);
  assert.deepEqual(decoder.result, decodeInetDiag(bin));
  // a datagram after NLMSG_DONE (a late leftover) changes nothing
  decoder.push(msgs[0]!);
  assert.deepEqual(decoder.result, decodeInetDiag(bin));
  // a malformed datagram ends decoding with a problem; the rows before it stay
  const broken = new InetDiagDecoder();
  broken.push(msgs[0]!);
  broken.push(Buffer.from([1, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  broken.push(msgs[1]!);
  assert.equal(broken.finished, true);
  assert.equal(broken.result.rows.length, 1);
  assert.match(broken.result.problem ?? '', /bad nlmsg_len 1/);
});

test('a dump without NLMSG_DONE is reported as not done', () => {
  const { bin } = load('tcp4-loopback');
  const msgs = messages(bin);
  const result = decodeInetDiag(msgs.slice(0, -1));
  assert.equal(result.done, false);
  assert.equal(result.rows.length, msgs.length - 1);
});

test('a truncated buffer reports a problem and keeps the rows before it', () => {
  const { bin } = load('tcp4-loopback');
  const first = messages(bin)[0]!;
  const result = decodeInetDiag(bin.subarray(0, first.length + 40));
  assert.equal(result.rows.length, 1);
  assert.equal(result.done, false);
  assert.match(result.problem ?? '', /nlmsg_len/);

  const tail = decodeInetDiag(bin.subarray(0, first.length + 5));
  assert.equal(tail.rows.length, 1);
  assert.match(tail.problem ?? '', /trailing/);
});

test('an nlmsg_len smaller than the header or past the end is a problem, not a throw', () => {
  const { bin } = load('tcp4-loopback');
  const tooSmall = Buffer.from(bin);
  tooSmall.writeUInt32LE(8, 0);
  assert.match(decodeInetDiag(tooSmall).problem ?? '', /bad nlmsg_len 8/);
  const tooBig = Buffer.from(bin);
  tooBig.writeUInt32LE(bin.length + 4, 0);
  assert.match(decodeInetDiag(tooBig).problem ?? '', /bad nlmsg_len/);
  assert.deepEqual(decodeInetDiag(Buffer.alloc(0)), { rows: [], done: false, interrupted: false, messages: 0 });
});

test('an inet_diag_msg shorter than its struct is a problem', () => {
  const result = decodeInetDiag(Buffer.concat([nlmsg(20, Buffer.alloc(40)), DONE]));
  assert.match(result.problem ?? '', /inet_diag_msg of 40 bytes/);
  assert.deepEqual(result.rows, []);
});

test('NLMSG_ERROR carries the errno as a value; an ACK (error 0) ends the reply', () => {
  const err = Buffer.alloc(20);
  err.writeInt32LE(-13, 0);
  const result = decodeInetDiag(nlmsg(2, err));
  assert.equal(result.errno, 13);
  assert.equal(result.done, false);
  assert.deepEqual(decodeInetDiag(nlmsg(2, Buffer.alloc(20))), { rows: [], done: true, interrupted: false, messages: 0 });
});

test('NLM_F_DUMP_INTR is surfaced', () => {
  const done = Buffer.from(DONE);
  done.writeUInt16LE(0x10 | 0x2, 6);
  assert.equal(decodeInetDiag(done).interrupted, true);
});

test('a short tcp_info (older kernel) leaves later fields absent', () => {
  const { bin, truth } = load('tcp4-loopback');
  const client = truth.sockets.find((s) => s.role === 'client')!;
  const msg = messages(bin).find((m) => m.readUInt32LE(16 + 68) === client.inode)!;

  // 3.x kernels: the struct ended at tcpi_total_retrans
  const old = decodeInetDiag(Buffer.concat([withShortInfo(msg, TCP_INFO_OFFSETS.totalRetransEnd), DONE]));
  const oldInfo = old.rows[0]!.tcpInfo!;
  assert.equal(oldInfo.totalRetrans, 0);
  assert.ok(oldInfo.rtt !== undefined && oldInfo.rtt > 0);
  assert.equal(oldInfo.bytesAcked, undefined);
  assert.equal(oldInfo.bytesSent, undefined);
  const oldConn = rowToConnection(old.rows[0]!);
  assert.equal(oldConn?.tcp, undefined, 'no internals rather than zero byte counts');
  assert.equal(oldConn?.timer?.kind, 'keepalive', 'the rest of the row still decodes');

  // 4.1 – 4.18: bytes_received but no bytes_sent → bytesSent falls back to bytes_acked
  const mid = decodeInetDiag(Buffer.concat([withShortInfo(msg, TCP_INFO_OFFSETS.bytesReceivedEnd), DONE]));
  const midConn = rowToConnection(mid.rows[0]!);
  assert.equal(mid.rows[0]!.tcpInfo!.bytesSent, undefined);
  assert.equal(midConn?.tcp?.bytesSent, client.bytesSent + 1, 'bytes_acked, which counts the SYN');
  assert.equal(midConn?.tcp?.bytesReceived, client.bytesReceived);
  assert.equal(midConn?.tcp?.segmentsSent, undefined, 'before 4.6: no data-segment counters');
  assert.equal(midConn?.tcp?.segmentsReceived, undefined);
  assert.ok(!('segmentsSent' in midConn!.tcp!), 'absent, not undefined-valued: the JSON has no key');

  // 4.6+: tcpi_data_segs_in/out present
  const segs = rowToConnection(decodeInetDiag(Buffer.concat([withShortInfo(msg, TCP_INFO_OFFSETS.dataSegsOutEnd), DONE])).rows[0]!);
  assert.equal(segs?.tcp?.segmentsSent, 1);
  assert.equal(segs?.tcp?.segmentsReceived, 1);

  // a length that cuts a u64 in half must not read it
  const cut = decodeInetDiag(Buffer.concat([withShortInfo(msg, TCP_INFO_OFFSETS.bytesSentEnd - 4), DONE]));
  assert.equal(cut.rows[0]!.tcpInfo!.bytesSent, undefined);
  assert.equal(cut.rows[0]!.tcpInfo!.deliveredCe, 0);

  // attribute length running past the message: the row survives without tcp_info
  const broken = withShortInfo(msg, 104);
  broken.writeUInt16LE(400, 16 + 72);
  const b = decodeInetDiag(Buffer.concat([broken, DONE]));
  assert.equal(b.problem, undefined);
  assert.equal(b.rows[0]!.tcpInfo, undefined);
  assert.equal(b.rows[0]!.inode, client.inode);
});

test('rowToConnection skips state codes the model does not know', () => {
  const { bin } = load('tcp4-loopback');
  const row = { ...decodeInetDiag(bin).rows[0]!, state: 13 };
  assert.equal(rowToConnection(row), undefined);
});

test('timers: retransmit reports idiag_retrans as probes; zero-window probe uses tcpi_probes', () => {
  const { bin, truth } = load('tcp4-loopback');
  const client = truth.sockets.find((s) => s.role === 'client')!;
  const base = rowFor(decodeInetDiag(bin).rows, client.inode);
  const rto = rowToConnection({ ...base, timer: 1, retrans: 3, expiresMs: 200, tcpInfo: { ...base.tcpInfo, retransmits: 3 } });
  assert.deepEqual(rto?.timer, { kind: 'retransmit', expiresMs: 200, probes: 3 });
  assert.equal(rto?.retransmits, 3);
  const zwp = rowToConnection({ ...base, timer: 4, retrans: 2, expiresMs: 50, tcpInfo: { ...base.tcpInfo, probes: 2 } });
  assert.deepEqual(zwp?.timer, { kind: 'zero_window_probe', expiresMs: 50, probes: 2 });
  assert.equal(zwp?.retransmits, 0, 'probes are not retransmits');
  const tw = rowToConnection({ ...base, state: 6, timer: 3, retrans: 0, expiresMs: 59000, tcpInfo: undefined });
  assert.deepEqual(tw?.timer, { kind: 'time_wait', expiresMs: 59000, probes: 0 });
  assert.equal(tw?.tcp, undefined);
  assert.equal(rowToConnection(base, 7)?.fd, 7);
});

test('modelTcpInfo: the model-only tcp_info gives the same connections as the full one', () => {
  const { bin, truth } = load('tcp4-loopback');
  const full = decodeInetDiag(bin);
  const lean = decodeInetDiag(bin, { modelTcpInfo: true });
  assert.equal(lean.rows.length, full.rows.length);
  assert.ok(lean.rows.some((r) => r.tcpInfo !== undefined));
  for (let i = 0; i < full.rows.length; i++) {
    const f = full.rows[i]!;
    const l = lean.rows[i]!;
    assert.deepEqual(rowToConnection(l, 3), rowToConnection(f, 3));
    if (f.tcpInfo === undefined) continue;
    for (const [k, v] of Object.entries(l.tcpInfo!)) assert.equal(v, f.tcpInfo[k as keyof typeof f.tcpInfo], k);
  }
  // short attributes keep the presence rule: fields past the end stay absent
  const client = truth.sockets.find((s) => s.role === 'client')!;
  const msg = messages(bin).find((m) => m.readUInt32LE(16 + 68) === client.inode)!;
  for (const end of [TCP_INFO_OFFSETS.totalRetransEnd, TCP_INFO_OFFSETS.bytesReceivedEnd, TCP_INFO_OFFSETS.bytesSentEnd - 4]) {
    const input = Buffer.concat([withShortInfo(msg, end), DONE]);
    const a = decodeInetDiag(input, { modelTcpInfo: true }).rows[0]!;
    const b = decodeInetDiag(input).rows[0]!;
    assert.equal(a.tcpInfo!.bytesSent, undefined);
    assert.deepEqual(rowToConnection(a), rowToConnection(b), `tcp_info cut at ${end}`);
  }
});

test('replies to the older TCPDIAG_GETSOCK request (type 18) decode like SOCK_DIAG_BY_FAMILY ones', () => {
  const { bin } = load('tcp6-loopback');
  const legacy = Buffer.from(bin);
  for (let off = 0; off < legacy.length; ) {
    const len = legacy.readUInt32LE(off);
    if (legacy.readUInt16LE(off + 4) === 20) legacy.writeUInt16LE(18, off + 4);
    off += nlmsgAlign(len);
  }
  const expected = decodeInetDiag(bin);
  assert.ok(expected.rows.length > 0);
  assert.deepEqual(decodeInetDiag(legacy), expected);
  // set aside unwanted, each message decodes on its own to the same row
  const aside: Uint8Array[] = [];
  const none = decodeInetDiag(legacy, { wantedInodes: new Set(), unwanted: (_inode, m) => aside.push(Buffer.from(m)) });
  assert.equal(none.rows.length, 0);
  assert.deepEqual(aside.map((m) => decodeInetDiag(m).rows[0]), expected.rows);
  // any other message type is skipped, not decoded as a socket
  const other = Buffer.from(bin);
  other.writeUInt16LE(19, 4);
  assert.equal(decodeInetDiag(other).rows.length, expected.rows.length - 1);
});

test('previous rows: the same socket again is updated in place and keeps its endpoints; a changed tuple gets new ones', () => {
  const { bin } = load('tcp4-loopback');
  const first = decodeInetDiag(bin).rows.filter((r) => r.tcpInfo !== undefined);
  assert.ok(first.length >= 2);
  const firstConns = first.map((r) => rowToConnection(r, 3)!);
  const previous = new Map(first.map((r) => [r.inode, r]));

  // the same bytes a poll later: the row objects and the endpoint objects are carried over
  const again = decodeInetDiag(bin, { previous, modelTcpInfo: true }).rows.filter((r) => r.tcpInfo !== undefined);
  assert.deepEqual(again.map((r) => previous.get(r.inode) === r), again.map(() => true));
  const againConns = again.map((r) => rowToConnection(r, 3)!);
  againConns.forEach((c, i) => {
    assert.equal(c.local, firstConns[i]!.local);
    assert.deepEqual(c.remote, firstConns[i]!.remote);
    assert.notEqual(c, firstConns[i], 'each poll has its own Connection');
  });

  // one socket's source port changes under the same inode (a fixture edited): a new row, new endpoints
  const edited = Buffer.from(bin);
  const target = first[0]!;
  const msgs = messages(edited);
  let at = 0;
  for (const m of msgs) {
    if (m.length >= 16 + 72 && m.readUInt32LE(16 + 68) === target.inode) break;
    at += m.length;
  }
  edited.writeUInt16BE((target.srcPort + 1) & 0xffff, at + 16 + 4);
  const moved = decodeInetDiag(edited, { previous, modelTcpInfo: true }).rows.find((r) => r.inode === target.inode)!;
  assert.notEqual(moved, previous.get(target.inode));
  const movedConn = rowToConnection(moved, 3)!;
  assert.equal(movedConn.local.port, (target.srcPort + 1) & 0xffff);
  assert.equal(firstConns[0]!.local.port, target.srcPort, 'the earlier connection keeps what it said');
});

test('previous rows: a model tcp_info object is refilled with the new values, not replaced', () => {
  const { bin } = load('tcp4-loopback');
  const one = decodeInetDiag(bin, { modelTcpInfo: true }).rows.filter((r) => r.tcpInfo !== undefined);
  const previous = new Map(one.map((r) => [r.inode, r]));
  const infos = one.map((r) => r.tcpInfo);
  const before = one.map((r) => r.tcpInfo!.bytesReceived);
  const conns = one.map((r) => rowToConnection(r, 3)!);

  // bytes_received of every socket grows by 1000 (u64 at tcp_info offset 128)
  const edited = withMoreBytesReceived(bin, 1000);
  const two = decodeInetDiag(edited, { previous, modelTcpInfo: true }).rows.filter((r) => r.tcpInfo !== undefined);
  two.forEach((r, i) => {
    assert.equal(r.tcpInfo, infos[i], 'the same object');
    assert.equal(r.tcpInfo!.bytesReceived, before[i]! + 1000);
    assert.equal(rowToConnection(r, 3)!.tcp!.bytesReceived, before[i]! + 1000);
    assert.equal(conns[i]!.tcp!.bytesReceived, before[i], 'an earlier Connection keeps its own numbers');
  });
});

test('polled connections: the same socket a poll later is the same Connection refreshed; a changed tuple is a new one', () => {
  const { bin } = load('tcp4-loopback');
  const one = decodeInetDiag(bin, { modelTcpInfo: true }).rows.filter((r) => r.tcpInfo !== undefined);
  const previous = new Map(one.map((r) => [r.inode, r]));
  const conns = one.map((r) => polledConnection(r, 3)!);
  const before = conns.map((c) => ({ ...c, tcp: { ...c.tcp! } }));
  assert.deepEqual(conns, one.map((r) => rowToConnection(r, 3)), 'as rowToConnection builds it');

  // bytes_received +1000 for every socket, the first socket's source port moved
  const edited = withMoreBytesReceived(bin, 1000);
  for (let off = 0; off < edited.length; ) {
    const len = edited.readUInt32LE(off);
    if (len >= 16 + 72 && edited.readUInt32LE(off + 16 + 68) === one[0]!.inode) edited.writeUInt16BE((one[0]!.srcPort + 1) & 0xffff, off + 16 + 4);
    off += nlmsgAlign(len);
  }
  const two = decodeInetDiag(edited, { previous, modelTcpInfo: true }).rows.filter((r) => r.tcpInfo !== undefined);
  const again = two.map((r) => polledConnection(r, 4)!);
  again.forEach((c, i) => {
    assert.deepEqual(c, rowToConnection(two[i]!, 4), 'the same values as a fresh build');
    assert.equal(c.tcp!.bytesReceived, before[i]!.tcp.bytesReceived + 1000);
    assert.equal(c.fd, 4);
    if (i === 0) {
      assert.notEqual(c, conns[0], 'a moved socket gets a new Connection');
      assert.equal(conns[0]!.local.port, one[0]!.srcPort, 'and the old one is left as it was');
    } else {
      assert.equal(c, conns[i], 'refreshed in place');
      assert.equal(c.tcp, conns[i]!.tcp);
    }
  });
});
