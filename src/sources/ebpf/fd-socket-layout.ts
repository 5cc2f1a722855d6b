// What the fd-socket iterator (fd-socket-program.ts) copies out of the kernel for each TCP socket
// a process holds, and where: the struct sock fields `ss`/inet_diag report (addresses, ports,
// state, queues, timer), located in this kernel's BTF, copied in a few contiguous spans into one
// fixed-size record per socket. Pure: the layout is computed from the offsets and the records
// decoded here, so both are tested with fixtures, without root.
import type { BtfTypes, MemberLocation } from './btf-members';

/** The struct sock fields read, as offsets from the start of the sock (a tcp_sock starts with one). */
export const SOCK_FIELDS = [
  'daddr',
  'rcvSaddr',
  'dport',
  'num',
  'family',
  'state',
  'boundDevIf',
  'v6Daddr',
  'v6RcvSaddr',
  'protocol',
  'type',
  'uid',
  'ackBacklog',
  'maxAckBacklog',
  'keepaliveTimerPprev',
  'keepaliveTimerExpires',
  'icskPending',
  'icskRetransmits',
  'icskProbesOut',
  'retransmitTimerExpires',
  'rcvNxt',
  'copiedSeq',
  'writeSeq',
  'sndUna',
] as const;
export type SockField = (typeof SOCK_FIELDS)[number];

export interface FdSocketOffsets {
  /** the BTF id of the iterator's attach point, bpf_iter_task_file */
  iterFuncBtfId: number;
  /** struct socket.sk */
  socketSk: number;
  /**
   * sizeof(struct sock): the program reads fields below it with plain loads through the typed
   * pointer (the verifier allows them within the struct), the tcp_sock fields past it with
   * bpf_probe_read_kernel.
   */
  sockSize: number;
  /** the socket's inode number, from the struct socket (socket_alloc.vfs_inode.i_ino) */
  socketIno: number;
  sock: Record<SockField, MemberLocation>;
}

/** Located in `btf`; throws a BtfError naming what this kernel lacks. */
export function fdSocketOffsetsFrom(btf: BtfTypes): FdSocketOffsets {
  const common = (name: string): MemberLocation => btf.member('sock', ['__sk_common', name]);
  const sock = (...path: string[]): MemberLocation => btf.member('sock', path);
  const tcp = (...path: string[]): MemberLocation => btf.member('tcp_sock', path);
  const icsk = (name: string): MemberLocation => tcp('inet_conn', name);
  let retransmitTimerExpires: MemberLocation;
  try {
    // Linux 6.14 dropped icsk_timeout: the retransmit timer's own expiry replaced it
    retransmitTimerExpires = icsk('icsk_timeout');
  } catch {
    retransmitTimerExpires = tcp('inet_conn', 'icsk_retransmit_timer', 'expires');
  }
  return {
    iterFuncBtfId: btf.funcId('bpf_iter_task_file'),
    socketSk: btf.member('socket', ['sk']).offset,
    sockSize: btf.structSize('sock'),
    socketIno: btf.member('socket_alloc', ['vfs_inode']).offset + btf.member('inode', ['i_ino']).offset,
    sock: {
      daddr: common('skc_daddr'),
      rcvSaddr: common('skc_rcv_saddr'),
      dport: common('skc_dport'),
      num: common('skc_num'),
      family: common('skc_family'),
      state: common('skc_state'),
      boundDevIf: common('skc_bound_dev_if'),
      v6Daddr: common('skc_v6_daddr'),
      v6RcvSaddr: common('skc_v6_rcv_saddr'),
      protocol: sock('sk_protocol'),
      type: sock('sk_type'),
      uid: sock('sk_uid'),
      ackBacklog: sock('sk_ack_backlog'),
      maxAckBacklog: sock('sk_max_ack_backlog'),
      keepaliveTimerPprev: sock('sk_timer', 'entry', 'pprev'),
      keepaliveTimerExpires: sock('sk_timer', 'expires'),
      icskPending: icsk('icsk_pending'),
      icskRetransmits: icsk('icsk_retransmits'),
      icskProbesOut: icsk('icsk_probes_out'),
      retransmitTimerExpires,
      rcvNxt: tcp('rcv_nxt'),
      copiedSeq: tcp('copied_seq'),
      writeSeq: tcp('write_seq'),
      sndUna: tcp('snd_una'),
    },
  };
}

/** The fields' sizes as the layout reads them; a kernel whose BTF says otherwise is not read. */
const EXPECTED_SIZE: Record<SockField, number> = {
  daddr: 4,
  rcvSaddr: 4,
  dport: 2,
  num: 2,
  family: 2,
  state: 1,
  boundDevIf: 4,
  v6Daddr: 16,
  v6RcvSaddr: 16,
  protocol: 2,
  type: 2,
  uid: 4,
  ackBacklog: 4,
  maxAckBacklog: 4,
  keepaliveTimerPprev: 8,
  keepaliveTimerExpires: 8,
  icskPending: 1,
  icskRetransmits: 1,
  icskProbesOut: 1,
  retransmitTimerExpires: 8,
  rcvNxt: 4,
  copiedSeq: 4,
  writeSeq: 4,
  sndUna: 4,
};

/** A cached offsets object when well formed (see kernel-offsets.ts's per-boot cache). */
export function parseFdSocketOffsets(v: Record<string, unknown>): FdSocketOffsets | undefined {
  const int = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;
  if (!int(v.iterFuncBtfId) || !int(v.socketSk) || !int(v.socketIno) || !int(v.sockSize)) return undefined;
  const s = v.sock as Record<string, { offset?: unknown; size?: unknown } | undefined> | undefined;
  if (typeof s !== 'object' || s === null) return undefined;
  const sock: Partial<Record<SockField, MemberLocation>> = {};
  for (const f of SOCK_FIELDS) {
    const m = s[f];
    if (!m || !int(m.offset) || !int(m.size)) return undefined;
    sock[f] = { offset: m.offset, size: m.size };
  }
  return { iterFuncBtfId: v.iterFuncBtfId, socketSk: v.socketSk, socketIno: v.socketIno, sockSize: v.sockSize, sock: sock as Record<SockField, MemberLocation> };
}

/** One bpf_probe_read_kernel of the program: `length` bytes at sock + `from`, into the record at `to`. */
export interface CopySpan {
  from: number;
  length: number;
  to: number;
}

export interface RecordLayout {
  /** bytes per record, a multiple of 8 */
  size: number;
  spans: CopySpan[];
  /** where each field lands in the record */
  at: Record<SockField, number>;
}

/** record header: u32 fd, u32 spare, u64 inode, u64 jiffies when read */
export const RECORD_FD = 0;
export const RECORD_INODE = 8;
export const RECORD_JIFFIES = 16;
const HEADER = 24;
/** fields closer than this share one copy: a helper call costs more than a few spare bytes */
const MERGE_GAP = 32;
/** the program's stack is 512 bytes; the record and a scratch slot must fit */
export const MAX_RECORD = 448;

/** The record layout for these offsets; throws when a field's size is not the one read. */
export function recordLayout(o: FdSocketOffsets): RecordLayout {
  for (const f of SOCK_FIELDS) {
    if (o.sock[f].size !== EXPECTED_SIZE[f]) throw new Error(`struct sock field ${f} is ${o.sock[f].size} bytes here, not ${EXPECTED_SIZE[f]}`);
  }
  const fields = [...SOCK_FIELDS].sort((a, b) => o.sock[a].offset - o.sock[b].offset);
  const spans: CopySpan[] = [];
  const at = {} as Record<SockField, number>;
  let to = HEADER;
  let current: CopySpan | undefined;
  for (const f of fields) {
    const { offset, size } = o.sock[f];
    if (current !== undefined && offset <= current.from + current.length + MERGE_GAP) {
      current.length = Math.max(current.length, offset + size - current.from);
    } else {
      if (current !== undefined) to = align8(current.to + current.length);
      current = { from: offset, length: size, to };
      spans.push(current);
    }
    at[f] = current.to + (offset - current.from);
  }
  const size = align8(current === undefined ? HEADER : current.to + current.length);
  if (size > MAX_RECORD) throw new Error(`a socket record would be ${size} bytes (the program's stack holds ${MAX_RECORD})`);
  return { size, spans, at };
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
