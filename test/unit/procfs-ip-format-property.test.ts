// Property tests of address text: formatting agrees with Node's canonical forms (WHATWG URL
// serialisation is RFC 5952; inet_ntop via net.SocketAddress for IPv4-mapped), and parse and
// format round-trip; parsing any text never throws and yields only valid groups.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import fc from 'fast-check';
import { formatIpv4Bytes, formatIpv6Groups, parseIpv4Text, parseIpv6Text } from '../../src/sources/procfs/ip-format';
import { normalizeAddressText } from '../helpers/oracles';

const RUNS = { numRuns: 3000 };
const group = fc.integer({ min: 0, max: 0xffff });
// zero-heavy groups, so runs of zeros (the "::" choice) are common
const groups = fc.array(fc.oneof(group, fc.constant(0), fc.constant(0)), { minLength: 8, maxLength: 8 });

function isMapped(g: readonly number[]): boolean {
  return g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;
}

/** Node's canonical text for eight groups. */
function nodeCanonical(g: readonly number[]): string {
  const plain = g.map((x) => x.toString(16)).join(':');
  if (isMapped(g)) return new net.SocketAddress({ address: plain, family: 'ipv6' }).address;
  return new URL(`http://[${plain}]`).hostname.slice(1, -1);
}

test('formatIpv6Groups is Node’s canonical text, and parses back to the same groups', () => {
  fc.assert(
    fc.property(groups, (g) => {
      const text = formatIpv6Groups(g);
      assert.equal(net.isIPv6(text), true, text);
      assert.equal(text, nodeCanonical(g));
      assert.deepEqual(parseIpv6Text(text), g);
    }),
    RUNS,
  );
});

test('any valid IPv6 spelling (fast-check ipV6: compressed, embedded IPv4, …) parses, and formats to Node’s canonical text', () => {
  fc.assert(
    fc.property(fc.ipV6(), fc.boolean(), fc.boolean(), (addr, upper, bracket) => {
      const spelled = `${bracket ? '[' : ''}${upper ? addr.toUpperCase() : addr}${bracket ? ']' : ''}`;
      const g = parseIpv6Text(spelled);
      assert.ok(g, spelled);
      assert.equal(formatIpv6Groups(g), nodeCanonical(g));
      assert.equal(new URL(`http://[${addr}]`).hostname, new URL(`http://[${g.map((x) => x.toString(16)).join(':')}]`).hostname, 'same address as Node reads it');
      assert.equal(normalizeAddressText(spelled), formatIpv6Groups(g));
    }),
    RUNS,
  );
});

test('IPv4: any dotted quad round-trips; normalizeAddressText agrees with net.isIP', () => {
  fc.assert(
    fc.property(fc.ipV4(), (addr) => {
      const b = parseIpv4Text(addr);
      assert.ok(b);
      assert.equal(formatIpv4Bytes(b[0]!, b[1]!, b[2]!, b[3]!), addr);
    }),
    RUNS,
  );
});

test('any text: parsers never throw; what they accept is a valid address by Node, else the text is kept', () => {
  const texty = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.stringMatching(/^[0-9a-fA-F:.%\[\]]{0,50}$/),
    fc.ipV6().map((a) => a.replace(/:/, ':::')),
    fc.ipV4Extended(),
  );
  fc.assert(
    fc.property(texty, (text) => {
      const g = parseIpv6Text(text);
      if (g) {
        assert.equal(g.length, 8);
        for (const x of g) assert.ok(Number.isInteger(x) && x >= 0 && x <= 0xffff);
        assert.equal(net.isIPv6(formatIpv6Groups(g)), true);
      }
      const b = parseIpv4Text(text);
      // zero-padded octets ("127.000.0.1") are read as decimal, so only the output must be Node-valid
      if (b) assert.equal(net.isIPv4(formatIpv4Bytes(b[0]!, b[1]!, b[2]!, b[3]!)), true, `${text} accepted as IPv4`);
      if (b) assert.equal(net.isIPv4(text.replace(/(^|\.)0+(?=\d)/g, '$1')), true, `${text} is IPv4 only up to zero padding`);
      const n = normalizeAddressText(text);
      assert.ok(n === text || net.isIP(n) !== 0, `${text} → ${n}`);
    }),
    RUNS,
  );
});
