// The namespace dump behind likelyBrief: which endpoints a socket outside the target's fd table
// connects to, read from /proc net tables (fixture text here, malformed rows included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RemoteCensus } from '../../src/sources/remote-census';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
/** one row: local 127.0.0.1:lport, remote 127.0.0.1:rport */
function row(n: number, lport: number, rport: number, st: string, inode: number): string {
  const hex = (p: number): string => p.toString(16).toUpperCase().padStart(4, '0');
  return `   ${n}: 0100007F:${hex(lport)} 0100007F:${hex(rport)} ${st} 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0000000000000000 20 4 30 10 -1`;
}

function netDir(tcp: string[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'census-'));
  writeFileSync(path.join(dir, 'tcp'), [HEADER, ...tcp, ''].join('\n'));
  return dir; // no tcp6: a host without IPv6
}

const SERVER = { address: '127.0.0.1', port: 8080 };
const OTHER = { address: '127.0.0.1', port: 9090 };

test('a socket to the endpoint held outside the target is foreign; the target\'s own, TIME_WAIT and listeners are not', () => {
  const dir = netDir([
    row(0, 50001, 8080, '01', 111), // the target's (own)
    row(1, 50002, 8080, '06', 0), // TIME_WAIT: nobody's
    row(2, 8080, 50003, '01', 222), // the server's side: its remote is the client
    row(3, 9090, 0, '0A', 333), // a listener
    row(4, 50004, 9090, '01', 444), // someone else's, to OTHER
    '   5: garbage row',
  ]);
  const census = new RemoteCensus(dir);
  assert.deepEqual([...census.foreign([SERVER, OTHER], new Set([111]))], ['127.0.0.1:9090']);
  assert.deepEqual([...census.foreign([SERVER], new Set())], ['127.0.0.1:8080'], 'with the target gone its socket is anyone\'s');
  assert.deepEqual([...census.foreign([], new Set())], []);
  census.close();
});

test('an unreadable table throws (the caller then proves nothing likely)', () => {
  const census = new RemoteCensus(path.join(os.tmpdir(), 'no-such-dir-for-census', 'x'));
  // a missing table is a host without that family: nothing found
  assert.deepEqual([...census.foreign([SERVER], new Set())], []);
});
