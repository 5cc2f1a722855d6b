// Whole-input versions of src's incremental functions, for tests to compare against: sockwatch
// itself never needs them (it decodes only the rows it wants).
import type { Connection, Protocol } from '../../src/model';
import { parseNetTcpLine } from '../../src/sources/procfs/parse-net-tcp';
import { BC_D_GE, BC_D_LE, BC_JMP, BC_S_GE, BC_S_LE, } from '../../src/sources/netlink/inet-diag-bytecode';
import { HOST_LE } from '../../src/sources/netlink/sock-diag-constants';
import { formatIpv4Bytes, formatIpv6Groups, parseIpv4Text, parseIpv6Text } from '../../src/sources/procfs/ip-format';

/** Every row of a /proc/net/tcp{,6} table. */
export function parseNetTcp(text: string, protocol: Protocol): Connection[] {
  const rows: Connection[] = [];
  for (const line of text.split('\n')) {
    const conn = parseNetTcpLine(line, protocol);
    if (conn) rows.push(conn);
  }
  return rows;
}

/** Any address text → the model's spelling; unparseable text is returned as is. */
export function normalizeAddressText(text: string): string {
  const v4 = parseIpv4Text(text);
  if (v4) return formatIpv4Bytes(v4[0], v4[1], v4[2], v4[3]);
  const v6 = parseIpv6Text(text);
  return v6 ? formatIpv6Groups(v6) : text;
}

/**
 * Evaluates a program the way inet_diag_bc_run does, to check the programs the builder emits
 * without a kernel: true when a socket with these ports is accepted.
 */
export function runPortBytecode(bc: Uint8Array, localPort: number, remotePort: number): boolean {
  const dv = new DataView(bc.buffer, bc.byteOffset, bc.byteLength);
  let pc = 0;
  let len = bc.byteLength;
  while (len > 0) {
    const code = bc[pc]!;
    const yesOff = bc[pc + 1]!;
    const noOff = dv.getUint16(pc + 2, HOST_LE);
    let yes = true;
    const arg = () => dv.getUint16(pc + 6, HOST_LE);
    switch (code) {
      case 0:
        break;
      case BC_JMP:
        yes = false;
        break;
      case BC_S_GE:
        yes = localPort >= arg();
        break;
      case BC_S_LE:
        yes = localPort <= arg();
        break;
      case BC_D_GE:
        yes = remotePort >= arg();
        break;
      case BC_D_LE:
        yes = remotePort <= arg();
        break;
      default:
        throw new RangeError(`op ${code} at ${pc} is not one this builder emits`);
    }
    const step = yes ? yesOff : noOff;
    pc += step;
    len -= step;
  }
  return len === 0;
}
