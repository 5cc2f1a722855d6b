import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { formatIpv6Groups, parseIpv6Text } from '../../src/sources/procfs/ip-format';
import { normalizeAddressText } from '../helpers/oracles';

describe('formatIpv6Groups', () => {
  const cases: Array<[number[], string]> = [
    [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
    [[0, 0, 0, 0, 0, 0, 0, 1], '::1'],
    [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[0x2001, 0xdb8, 0, 1, 0, 0, 0, 0], '2001:db8:0:1::'],
    [[0x2001, 0, 0, 1, 0, 0, 0, 1], '2001:0:0:1::1'],
    [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'],
    [[0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    [[0, 0, 0, 0, 0, 0xffff, 0x7f00, 1], '::ffff:127.0.0.1'],
    [[0, 0, 0, 0, 0, 0, 0x7f00, 1], '::7f00:1'], // IPv4-compatible form is not produced
  ];
  for (const [groups, text] of cases) {
    it(text, () => assert.equal(formatIpv6Groups(groups), text));
  }
});

describe('parseIpv6Text / normalizeAddressText', () => {
  const cases: Array<[string, string]> = [
    ['[::1]', '::1'],
    ['fe80::1%lo0', 'fe80::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    ['[::ffff:127.0.0.1]', '::ffff:127.0.0.1'],
    ['0:0:0:0:0:ffff:7f00:1', '::ffff:127.0.0.1'],
    ['::', '::'],
    ['127.000.0.1', '127.0.0.1'],
  ];
  for (const [input, output] of cases) {
    it(`${input} → ${output}`, () => assert.equal(normalizeAddressText(input), output));
  }
  it('rejects non-addresses and leaves their text alone', () => {
    for (const bad of ['1:2:3', '1::2::3', 'g::1', '1:2:3:4:5:6:7:8:9', '::1.2.3']) {
      assert.equal(parseIpv6Text(bad), undefined, bad);
    }
    assert.equal(normalizeAddressText('2001:db8:1234:5678:9abc:d'), '2001:db8:1234:5678:9abc:d');
  });
});
