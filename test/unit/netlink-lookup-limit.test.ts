// Where KnownSockets switches from exact lookups to a filtered dump: LOOKUP_MAX on a host the
// size of the bench's usual one, a quarter of the walked table on a larger host, and exactly an
// explicit lookupMax. No socket is opened: the limit is decided before any request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FamilyDumper } from '../../src/sources/netlink/dump-tcp';
import { KnownSockets, LOOKUP_MAX, LOOKUP_SHARE_OF_TABLE } from '../../src/sources/netlink/known-sockets';

const dumper = new FamilyDumper({
  dump: () => Promise.reject(new Error('no dump in this test')),
});
/** never called: the limit is decided before any socket is opened */
const openSocket = (): never => {
  throw new Error('no socket in this test');
};

test('the lookup limit grows with the table the last unfiltered dump walked, never below LOOKUP_MAX', () => {
  const known = new KnownSockets(dumper, { openSocket });
  assert.equal(known.lookupLimit, LOOKUP_MAX, 'before any dump');
  known.replaceWith([], 22_000);
  assert.equal(known.lookupLimit, LOOKUP_MAX);
  known.replaceWith([], 138_000);
  assert.equal(known.lookupLimit, Math.floor(138_000 * LOOKUP_SHARE_OF_TABLE));
  assert.ok(known.lookupLimit > 18_000, 'an 18,000-socket target on a 138,000-socket host is looked up');
  // a later, smaller dump brings it down again
  known.replaceWith([], 10);
  assert.equal(known.lookupLimit, LOOKUP_MAX);
  known.replaceWith([]);
  assert.equal(known.lookupLimit, LOOKUP_MAX);
});

test('an explicit lookupMax holds whatever the table size', () => {
  const known = new KnownSockets(dumper, { lookupMax: 3, openSocket });
  known.replaceWith([], 1_000_000);
  assert.equal(known.lookupLimit, 3);
});
