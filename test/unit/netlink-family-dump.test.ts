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

function fakeSocket(refuseLegacy: boolean): { dump(req: Buffer): Promise<Buffer[]>; log: string[] } {
  const log: string[] = [];
  return {
    log,
    dump(req: Buffer): Promise<Buffer[]> {
      log.push(asked(req));
      if (refuseLegacy && asked(req).startsWith('18/')) return Promise.reject(new Error('EINVAL'));
      return Promise.resolve([Buffer.from(asked(req))]);
    },
  };
}

test('both families: one TCPDIAG_GETSOCK walk; one family: a SOCK_DIAG_BY_FAMILY walk', async () => {
  const socket = fakeSocket(false);
  const dumper = new FamilyDumper(socket);
  const both = await dumper.dump(BOTH_FAMILIES, { states: 2 });
  assert.equal(both.walks, 1);
  assert.deepEqual(socket.log, ['18/0']);
  const v6 = await dumper.dump(new Set([AF_INET6]), { states: 2 });
  assert.equal(v6.walks, 1);
  assert.deepEqual(socket.log, ['18/0', '20/10']);
  assert.deepEqual(await dumper.dump(new Set(), { states: 2 }), { replies: [], walks: 0 });
});

test('a kernel refusing the two-family request is asked per family, from then on without retrying it', async () => {
  const socket = fakeSocket(true);
  const dumper = new FamilyDumper(socket);
  const first = await dumper.dump(BOTH_FAMILIES, { states: 2 });
  assert.equal(first.walks, 2);
  assert.deepEqual(first.replies.map((r) => r[0]!.toString()), ['20/2', '20/10']);
  await dumper.dump(BOTH_FAMILIES, { states: 2 });
  assert.deepEqual(socket.log, ['18/0', '20/2', '20/10', '20/2', '20/10']);
  assert.equal((await dumper.dump(new Set([AF_INET]), { states: 2 })).walks, 1);
});
