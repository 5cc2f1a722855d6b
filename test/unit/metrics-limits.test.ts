// The metrics endpoint's connection cap under a descriptor limit, and the limits(5) line it reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectionCap, METRICS_LIMITS } from '../../src/views/metrics/metrics-server';
import { descriptorHeadroom, parseOpenFilesLimit } from '../../src/util/descriptor-headroom';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

test('parseOpenFilesLimit: the soft limit of the "Max open files" line', () => {
  assert.equal(parseOpenFilesLimit(LIMITS), 1024);
  assert.equal(parseOpenFilesLimit(LIMITS.replace('1024 ', 'unlimited ')), undefined);
  for (const bad of ['', 'Max open files\n', 'Max open files            -1   2   files\n', 'Max open files            1e3   2   files\n', 'Max open files            99999999999999999999   2   files\n', 'Max open filesx 10 10 files\n']) {
    assert.equal(parseOpenFilesLimit(bad), undefined, JSON.stringify(bad));
  }
});

test('connectionCap: 64 with room to spare, fewer under a tight limit, never below the minimum', () => {
  const { maxConnections, reservedDescriptors, minConnections } = METRICS_LIMITS;
  assert.equal(connectionCap(undefined), maxConnections);
  assert.equal(connectionCap(1_000_000), maxConnections);
  assert.equal(connectionCap(reservedDescriptors + maxConnections), maxConnections);
  assert.equal(connectionCap(reservedDescriptors + 10), 10);
  assert.equal(connectionCap(reservedDescriptors), minConnections);
  assert.equal(connectionCap(0), minConnections);
  assert.equal(connectionCap(-5), minConnections);
});

test('descriptorHeadroom of this process is its soft limit less what it holds', () => {
  const h = descriptorHeadroom();
  assert.ok(h !== undefined && h > 0 && h < 1 << 30, String(h));
});
