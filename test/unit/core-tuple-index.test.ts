import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TupleIndex, tupleKey } from '../../src/core/lifecycle-match';
import type { Endpoint } from '../../src/model';

interface Item {
  name: string;
  connection: { local: Endpoint; remote: Endpoint };
}

function item(name: string, local: string, remote: string): Item {
  const ep = (s: string): Endpoint => {
    const i = s.lastIndexOf(':');
    return { address: s.slice(0, i), port: Number(s.slice(i + 1)) };
  };
  return { name, connection: { local: ep(local), remote: ep(remote) } };
}

/** What the tracker used before: a Map by tupleKey(), the first added keeps its tuple. */
class ByString {
  readonly m = new Map<string, Item>();
  addIfAbsent(x: Item): void {
    const k = tupleKey(x.connection.local, x.connection.remote);
    if (!this.m.has(k)) this.m.set(k, x);
  }
  get(local: Endpoint, remote: Endpoint): Item | undefined {
    return this.m.get(tupleKey(local, remote));
  }
  delete(x: Item): void {
    const k = tupleKey(x.connection.local, x.connection.remote);
    if (this.m.get(k) === x) this.m.delete(k);
  }
}

test('TupleIndex: the first item of a tuple, IPv4-mapped addresses as IPv4, until it is removed', () => {
  const idx = new TupleIndex<Item>();
  const a = item('a', '10.0.0.1:5000', '10.0.0.2:80');
  const sameAsA = item('a2', '::ffff:10.0.0.1:5000', '10.0.0.2:80');
  idx.addIfAbsent(a);
  idx.addIfAbsent(sameAsA);
  assert.equal(idx.get({ address: '10.0.0.1', port: 5000 }, { address: '::ffff:10.0.0.2', port: 80 }), a);
  assert.equal(idx.get({ address: '10.0.0.1', port: 5000 }, { address: '10.0.0.3', port: 80 }), undefined);
  assert.equal(idx.has({ address: '10.0.0.2', port: 80 }, { address: '10.0.0.1', port: 5000 }), false);
  idx.delete(sameAsA);
  assert.equal(idx.get(a.connection.local, a.connection.remote), a, 'removing one not held changes nothing');
  idx.delete(a);
  assert.equal(idx.get(a.connection.local, a.connection.remote), undefined);
});

test('TupleIndex: answers as a Map by tupleKey() does, also when tuples share their ports', () => {
  // same ports, other addresses: one bucket
  const items = [
    item('a', '10.0.0.1:5000', '10.0.0.2:80'),
    item('b', '10.0.0.9:5000', '10.0.0.2:80'),
    item('c', '10.0.0.1:5000', '10.0.0.7:80'),
    item('d', '::1:5000', '::1:80'),
    item('a-again', '10.0.0.1:5000', '10.0.0.2:80'),
    item('e', '10.0.0.1:80', '10.0.0.2:5000'),
    // ports that differ only above 16 bits share a tag
    item('f', '10.0.0.1:65541', '10.0.0.2:80'),
    item('g', '10.0.0.1:5', '10.0.0.2:80'),
  ];
  const probes = items.map((x) => x.connection).concat([{ local: { address: '10.0.0.5', port: 5000 }, remote: { address: '10.0.0.2', port: 80 } }]);
  const idx = new TupleIndex<Item>();
  const ref = new ByString();
  const check = (when: string): void => {
    for (const p of probes) assert.equal(idx.get(p.local, p.remote)?.name, ref.get(p.local, p.remote)?.name, `${when}: ${tupleKey(p.local, p.remote)}`);
  };
  for (const x of items) {
    idx.addIfAbsent(x);
    ref.addIfAbsent(x);
    check(`after adding ${x.name}`);
  }
  for (const x of [items[1]!, items[4]!, items[0]!, items[0]!, items[6]!, items[3]!]) {
    idx.delete(x);
    ref.delete(x);
    check(`after deleting ${x.name}`);
  }
  for (const x of items) {
    idx.addIfAbsent(x);
    ref.addIfAbsent(x);
  }
  check('after adding again');
  idx.clear();
  for (const p of probes) assert.equal(idx.get(p.local, p.remote), undefined);
});
