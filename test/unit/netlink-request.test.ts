import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_STATES_MASK, buildInetDiagDumpRequest, stateMask } from '../../src/sources/netlink/inet-diag-request';
import { AF_INET6, AF_UNSPEC, HOST_LE } from '../../src/sources/netlink/sock-diag-constants';

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

test('an AF_UNSPEC dump is the older TCPDIAG_GETSOCK request (nlmsghdr + inet_diag_req), bytecode after it', () => {
  const bc = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const buf = buildInetDiagDumpRequest({ family: AF_UNSPEC, states: stateMask(new Set(['ESTABLISHED'])), extensions: 0, bytecode: bc, seq: 9 });
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  assert.equal(buf.length, 16 + 60 + 4 + 8);
  assert.equal(dv.getUint32(0, HOST_LE), buf.length, 'nlmsg_len');
  assert.equal(dv.getUint16(4, HOST_LE), 18, 'TCPDIAG_GETSOCK');
  assert.equal(dv.getUint16(6, HOST_LE), 0x301, 'NLM_F_REQUEST | NLM_F_DUMP');
  assert.equal(dv.getUint32(8, HOST_LE), 9, 'seq');
  assert.equal(buf[16], 0, 'idiag_family AF_UNSPEC');
  assert.equal(buf[19], 0, 'idiag_ext: nothing asked');
  assert.ok(buf.subarray(20, 68).every((b) => b === 0), 'sockid is zero');
  assert.equal(dv.getUint32(68, HOST_LE), 2, 'idiag_states after the 48-byte sockid');
  assert.equal(dv.getUint32(72, HOST_LE), 0, 'idiag_dbs');
  assert.equal(dv.getUint16(76, HOST_LE), 12, 'bytecode attribute length');
  assert.equal(dv.getUint16(78, HOST_LE), 1, 'INET_DIAG_REQ_BYTECODE');
  assert.deepEqual([...buf.subarray(80)], [...bc]);

  const info = buildInetDiagDumpRequest({ family: AF_UNSPEC, states: 2 });
  assert.equal(info[19], 1 << 1, 'the default extension asks for INET_DIAG_INFO, in the ext byte of this layout');
});
