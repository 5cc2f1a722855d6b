import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareByFd, type Connection } from '../../src/model';

const c = (fd: number | undefined, lport: number, rport: number): Connection => ({
  fd, protocol: 'tcp', local: { address: '127.0.0.1', port: lport }, remote: { address: '127.0.0.1', port: rport },
  state: 'ESTABLISHED', inode: 1,
});

test('compareByFd: fd first, then local and remote port; unknown fds last', () => {
  const list = [c(undefined, 80, 9), c(12, 5, 5), c(3, 9, 9), c(undefined, 80, 2), c(undefined, 10, 1)];
  const order = list.sort(compareByFd).map((x) => `${x.fd ?? '-'}:${x.local.port}:${x.remote.port}`);
  assert.deepEqual(order, ['3:9:9', '12:5:5', '-:10:1', '-:80:2', '-:80:9']);
});
