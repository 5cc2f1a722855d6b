import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_STATES_MASK, buildInetDiagDumpRequest, stateMask } from '../../src/sources/netlink/inet-diag-request';
import { AF_INET6, HOST_LE } from '../../src/sources/netlink/sock-diag-constants';

test('stateMask sets bit (1 << kernel state code) per wanted state', () => {
  assert.equal(stateMask('all'), 0xffffffff);
  assert.equal(stateMask(new Set(['ESTABLISHED'])), 1 << 1);
  assert.equal(stateMask(new Set(['LISTEN', 'ESTABLISHED'])), (1 << 10) | (1 << 1));
  assert.equal(stateMask(new Set(['TIME_WAIT', 'CLOSE_WAIT'])), (1 << 6) | (1 << 8));
  assert.equal(stateMask(new Set(['NEW_SYN_RECV'])), 1 << 12);
  assert.equal(stateMask(new Set()), 0, 'an empty filter asks for nothing');
  assert.ok(stateMask('all') >= 0, 'the mask is unsigned');
});

test('buildInetDiagDumpRequest lays out nlmsghdr + inet_diag_req_v2', () => {
  const buf = buildInetDiagDumpRequest({ family: AF_INET6, states: stateMask(new Set(['ESTABLISHED'])), seq: 7 });
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  assert.equal(buf.length, 16 + 56);
  assert.equal(dv.getUint32(0, HOST_LE), 72, 'nlmsg_len');
  assert.equal(dv.getUint16(4, HOST_LE), 20, 'SOCK_DIAG_BY_FAMILY');
  assert.equal(dv.getUint16(6, HOST_LE), 0x301, 'NLM_F_REQUEST | NLM_F_DUMP');
  assert.equal(dv.getUint32(8, HOST_LE), 7, 'seq');
  assert.equal(buf[16], 10, 'sdiag_family AF_INET6');
  assert.equal(buf[17], 6, 'IPPROTO_TCP');
  assert.equal(buf[18], 1 << 1, 'idiag_ext asks for INET_DIAG_INFO');
  assert.equal(dv.getUint32(20, HOST_LE), 2, 'idiag_states');
  assert.ok(buf.subarray(24).every((b) => b === 0), 'sockid is zero: match every socket');

  const all = buildInetDiagDumpRequest({ family: 2, states: ALL_STATES_MASK });
  assert.equal(new DataView(all.buffer, all.byteOffset).getUint32(20, HOST_LE), 0xffffffff);
});
