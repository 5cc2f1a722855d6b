// The one parser of the tcp-life bpftrace program's output (format: tcp-life-script.ts). Pure:
// timestamps stay kernel CLOCK_MONOTONIC nanoseconds (as bigint, they exceed 2^53 after ~104
// days of uptime); the tracer converts them to the session's clock.

import type { Endpoint, Protocol, TcpState } from '../../model';
import { tcpStateFromCode } from '../../model';
import { formatIpv4Bytes, formatIpv6Groups, parseIpv6Text } from '../procfs/ip-format';

const AF_INET = 2;
const AF_INET6 = 10;

export type TcpLifeLine =
  | { kind: 'ready'; ns: bigint }
  | { kind: 'heartbeat'; ns: bigint }
  | { kind: 'started'; ns: bigint; pid: number; protocol: Protocol; local: Endpoint; remote: Endpoint }
  | {
      kind: 'ended';
      ns: bigint;
      pid: number;
      protocol: Protocol;
      local: Endpoint;
      remote: Endpoint;
      /** absent when the trace did not see the connection start (it predates the trace) */
      startNs?: bigint;
      oldState?: TcpState;
      bytesSent: number;
      bytesAcked: number;
      bytesReceived: number;
      segmentsSent: number;
      segmentsReceived: number;
      retransmits: number;
      /** smoothed RTT, µs */
      srttUs: number;
      /** absent when the kernel never made one for this socket */
      cookie?: string;
    }
  /** bpftrace's own report that its perf buffer overflowed */
  | { kind: 'lost'; count: number }
  | { kind: 'malformed'; line: string; why: string };

const UINT = /^\d{1,20}$/;

/** Parses one output line; blank lines (bpftrace prints some at exit) give undefined. */
export function parseTcpLifeLine(line: string): TcpLifeLine | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  const f = text.split(' ');
  const bad = (why: string): TcpLifeLine => ({ kind: 'malformed', line: text.length > 200 ? `${text.slice(0, 200)}…` : text, why });
  const lost = /^Lost (\d+) events$/.exec(text);
  if (lost) return { kind: 'lost', count: Number(lost[1]) };
  switch (f[0]) {
    case 'R':
    case 'H': {
      if (f.length !== 2 || !UINT.test(f[1]!)) return bad('expected a timestamp');
      return { kind: f[0] === 'R' ? 'ready' : 'heartbeat', ns: BigInt(f[1]!) };
    }
    case 'S':
    case 'E': {
      const want = f[0] === 'S' ? 10 : 20;
      if (f.length !== want) return bad(`expected ${want} fields, got ${f.length}`);
      const nums = [1, 2, 3, 6, 9, ...(f[0] === 'E' ? [10, 11, 12, 13, 14, 15, 16, 17, 18, 19] : [])];
      for (const i of nums) if (!UINT.test(f[i]!)) return bad(`field ${i + 1} is not a number`);
      const family = Number(f[3]);
      if (family !== AF_INET && family !== AF_INET6) return bad(`unknown address family ${family}`);
      const v4 = family === AF_INET;
      const local = endpoint(v4 ? f[4]! : f[5]!, Number(f[6]), v4);
      const remote = endpoint(v4 ? f[7]! : f[8]!, Number(f[9]), v4);
      if (!local || !remote) return bad('unreadable address');
      const ns = BigInt(f[1]!);
      const pid = Number(f[2]);
      if (pid <= 0 || pid > 0x3fffffff) return bad(`pid ${pid} out of range`);
      const protocol: Protocol = v4 ? 'tcp' : 'tcp6';
      if (f[0] === 'S') return { kind: 'started', ns, pid, protocol, local, remote };
      const startNs = BigInt(f[10]!);
      const oldState = tcpStateFromCode(Number(f[11]));
      const cookie = f[19]!;
      return {
        kind: 'ended',
        ns,
        pid,
        protocol,
        local,
        remote,
        ...(startNs === 0n ? {} : { startNs }),
        ...(oldState === undefined ? {} : { oldState }),
        bytesSent: Number(f[12]),
        bytesAcked: Number(f[13]),
        bytesReceived: Number(f[14]),
        segmentsSent: Number(f[15]),
        segmentsReceived: Number(f[16]),
        retransmits: Number(f[17]),
        // the kernel keeps srtt_us scaled by 8
        srttUs: Number(f[18]) / 8,
        ...(cookie === '0' ? {} : { cookie }),
      };
    }
    default:
      return bad('unknown line');
  }
}

/** bpftrace's ntop text → the model's one spelling (ip-format.ts), or undefined. */
function endpoint(text: string, port: number, v4: boolean): Endpoint | undefined {
  if (port > 65535) return undefined;
  if (v4) {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
    if (!m) return undefined;
    const b = m.slice(1, 5).map(Number);
    if (b.some((x) => x > 255)) return undefined;
    return { address: formatIpv4Bytes(b[0]!, b[1]!, b[2]!, b[3]!), port };
  }
  const groups = parseIpv6Text(text);
  if (!groups) return undefined;
  return { address: formatIpv6Groups(groups), port };
}
