import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { assignDirections, guessDirection, parsePortRange, type Direction } from '../../src/sources/direction';
import type { Connection, TcpState } from '../../src/model';

const conn = (inode: number, local: string, lport: number, remote: string, rport: number, state: TcpState = 'ESTABLISHED'): Connection => ({
  protocol: local.includes(':') ? 'tcp6' : 'tcp',
  local: { address: local, port: lport },
  remote: { address: remote, port: rport },
  state,
  inode,
});

describe('assignDirections', () => {
  it('in: local endpoint is a listener of the target (exact or wildcard, v4-mapped on ::); out otherwise', () => {
    const conns = [
      conn(1, '127.0.0.1', 8080, '0.0.0.0', 0, 'LISTEN'),
      conn(2, '::', 9090, '::', 0, 'LISTEN'),
      conn(3, '127.0.0.1', 8080, '127.0.0.1', 40000),
      conn(4, '::ffff:127.0.0.1', 9090, '::ffff:127.0.0.1', 40001),
      conn(5, '127.0.0.1', 40002, '127.0.0.1', 8080),
      conn(6, '127.0.0.2', 8080, '127.0.0.1', 5432), // another address than the listener's, both ports non-ephemeral
    ];
    assignDirections(conns, new Map());
    assert.deepEqual(conns.map((c) => c.direction), [undefined, undefined, 'in', 'in', 'out', 'out']);
  });

  it('keeps a decided direction after the listener closes, and forgets closed sockets', () => {
    const memory = new Map<number, Direction>();
    assignDirections([conn(1, '0.0.0.0', 5000, '0.0.0.0', 0, 'LISTEN'), conn(3, '127.0.0.1', 5000, '127.0.0.1', 1234)], memory);
    const later = [conn(3, '127.0.0.1', 5000, '127.0.0.1', 1234)];
    assignDirections(later, memory);
    assert.equal(later[0]!.direction, 'in', 'remembered, though port 1234 would guess out');
    assignDirections([], memory);
    assert.equal(memory.size, 0);
  });

  it('without a listener: in only for a non-ephemeral local port facing an ephemeral remote one', () => {
    assert.equal(guessDirection(conn(1, '10.0.0.1', 5432, '10.0.0.2', 45000), [32768, 60999]), 'in');
    assert.equal(guessDirection(conn(1, '10.0.0.1', 45000, '10.0.0.2', 5432), [32768, 60999]), 'out');
    assert.equal(guessDirection(conn(1, '10.0.0.1', 45000, '10.0.0.2', 46000), [32768, 60999]), 'out');
  });
});

describe('parsePortRange', () => {
  it('reads ip_local_port_range and rejects nonsense', () => {
    assert.deepEqual(parsePortRange('32768\t60999\n'), [32768, 60999]);
    assert.equal(parsePortRange('60999 32768'), undefined);
    assert.equal(parsePortRange('0 70000'), undefined);
    assert.equal(parsePortRange('abc'), undefined);
    assert.equal(parsePortRange(''), undefined);
  });
});
