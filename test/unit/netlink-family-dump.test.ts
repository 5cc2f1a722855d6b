// FamilyDumper's choice between one two-family walk and a walk per family, on a fake socket that
// records what was asked; the kernel's answer to both requests is tested in netlink-filter.test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FamilyDumper, BOTH_FAMILIES } from '../../src/sources/netlink/dump-tcp';
import { AF_INET, AF_INET6, HOST_LE } from '../../src/sources/netlink/sock-diag-constants';

/** What a request asks: its message type and family byte. */
function asked(req: Buffer): string {
  const type = new DataView(req.buffer, req.byteOffset).getUint16(4, HOST_LE);
  return `${type}/${req[16]}`;
}

/** Answers each request with one datagram naming it; refuses the two-family one half-way when asked. */
function fakeSocket(refuseLegacy: boolean): { dump(req: Buffer, sink?: (d: Uint8Array) => void): Promise<Uint8Array[]>; log: string[] } {
  const log: string[] = [];
  return {
    log,
    dump(req: Buffer, sink?: (d: Uint8Array) => void): Promise<Uint8Array[]> {
      log.push(asked(req));
      sink?.(Buffer.from(asked(req)));
      if (refuseLegacy && asked(req).startsWith('18/')) return Promise.reject(new Error('EINVAL'));
      return Promise.resolve([]);
    },
  };
}

/** A walk's reader that records what it was given. */
class Recorder {
  got: string[] = [];
  push(d: Uint8Array): void {
    this.got.push(Buffer.from(d).toString());
  }
}

const record = (): Recorder => new Recorder();

test('both families: one TCPDIAG_GETSOCK walk; one family: a SOCK_DIAG_BY_FAMILY walk', async () => {
  const socket = fakeSocket(false);
  const dumper = new FamilyDumper(socket);
  const both = await dumper.dump(BOTH_FAMILIES, { states: 2 }, record);
  assert.deepEqual(both.map((r) => r.got), [['18/0']]);
  assert.deepEqual(socket.log, ['18/0']);
  const v6 = await dumper.dump(new Set([AF_INET6]), { states: 2 }, record);
  assert.deepEqual(v6.map((r) => r.got), [['20/10']]);
  assert.deepEqual(socket.log, ['18/0', '20/10']);
  assert.deepEqual(await dumper.dump(new Set(), { states: 2 }, record), []);
});

test('a kernel refusing the two-family request is asked per family, from then on without retrying it', async () => {
  const socket = fakeSocket(true);
  const dumper = new FamilyDumper(socket);
  const first = await dumper.dump(BOTH_FAMILIES, { states: 2 }, record);
  // the failed walk's reader (which saw a datagram before the failure) is not among the results
  assert.deepEqual(first.map((r) => r.got), [['20/2'], ['20/10']]);
  await dumper.dump(BOTH_FAMILIES, { states: 2 }, record);
  assert.deepEqual(socket.log, ['18/0', '20/2', '20/10', '20/2', '20/10']);
  assert.equal((await dumper.dump(new Set([AF_INET]), { states: 2 }, record)).length, 1);
});
