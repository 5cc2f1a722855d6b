// The bpftrace program behind the eBPF source, fixed at build time: what varies (the PIDs, the
// target's network namespace, its listening ports) comes in as numeric positional parameters,
// never as text spliced into the program. Run as:
//   bpftrace -B none -e TCP_LIFE_SCRIPT <sockwatch pid> <target pid> <target netns inode> [<listening port>…16]
//
// It follows tracepoint:sock:inet_sock_set_state, as bcc's tcplife does, and keys what it learns
// by the socket's kernel address. Who owns a socket is learned only where the kernel runs in the
// owner's own context, never from the pid of a softirq (which, on loopback, is often the peer's):
// - connect(): the move to SYN_SENT runs in the caller's system call;
// - accept side: the child socket reaches ESTABLISHED in softirq context, so it is the target's
//   when its local port is one the target listens on (passed in, or seen entering LISTEN in the
//   target's context) in the target's network namespace; the owner printed is the target;
// - a socket that predates the trace: close() or shutdown() moves it to FIN_WAIT1 or LAST_ACK in
//   the owner's context.
// Lines (space-separated, one per event, kernel CLOCK_MONOTONIC ns):
//   R <ns>                 attached (BEGIN runs once every probe is attached)
//   H <ns>                 heartbeat, every HEARTBEAT_MS: tells how far bpftrace has reported, and
//                          a write to a closed pipe ends bpftrace
//   S <ns> <pid> <family> <saddr4> <saddr6> <sport> <daddr4> <daddr6> <dport>
//   E <ns> <pid> <family> <saddr4> <saddr6> <sport> <daddr4> <daddr6> <dport> <start ns or 0>
//     <old state> <bytes_sent> <bytes_acked> <bytes_received> <data_segs_out> <data_segs_in>
//     <total_retrans> <srtt_us (µs × 8)> <cookie, 0 if none was made>
// Both address spellings are printed; the parser keeps the one the family names.
// bytes_received counts the peer's FIN as one byte, as tcp_info's does.

/**
 * The heartbeat's period: a watch's last poll waits at most about this long for bpftrace to show
 * it has reported up to the stop (TcpLifeTracer.caughtUp).
 */
export const HEARTBEAT_MS = 200;

/** How many listening ports the script takes as parameters ($4…$19). */
export const MAX_LISTEN_PORTS = 16;

const portParams = Array.from({ length: MAX_LISTEN_PORTS }, (_, i) => `  if ($${i + 4} != 0) { @lport[$${i + 4}] = 1; }`).join('\n');

const ADDRS = 'ntop(args->saddr), ntop(args->saddr_v6), args->sport, ntop(args->daddr), ntop(args->daddr_v6), args->dport';

export const TCP_LIFE_SCRIPT = `
BEGIN {
${portParams}
  printf("R %llu\\n", nsecs);
}

tracepoint:sock:inet_sock_set_state /args->protocol == 6/ {
  $sk = (struct sock *)args->skaddr;
  $new = args->newstate;
  $old = args->oldstate;
  $now = nsecs;

  if ($new == 2 && pid == $2) { @own[args->skaddr] = pid; }
  if ($new == 10 && pid == $2) { @lport[args->sport] = 1; }
  if ($old == 10 && $new == 7 && pid == $2) { delete(@lport[args->sport]); }

  if ($new == 1 && $old == 2 && @own[args->skaddr] != 0) {
    @start[args->skaddr] = $now;
    printf("S %llu %d %d %s %s %d %s %s %d\\n", $now, @own[args->skaddr], args->family, ${ADDRS});
  }
  if ($new == 1 && $old == 3 && @lport[args->sport] != 0 && $sk->__sk_common.skc_net.net->ns.inum == $3) {
    @own[args->skaddr] = $2;
    @start[args->skaddr] = $now;
    printf("S %llu %d %d %s %s %d %s %s %d\\n", $now, $2, args->family, ${ADDRS});
  }
  if (($new == 4 || $new == 9) && pid == $2 && @own[args->skaddr] == 0) { @own[args->skaddr] = pid; }
  if ($new == 7 && @own[args->skaddr] == 0 && $old != 2 && $old != 3 && $old != 10 && @lport[args->sport] != 0 && $sk->__sk_common.skc_net.net->ns.inum == $3) {
    @own[args->skaddr] = $2;
  }

  if ($new == 7 && @own[args->skaddr] != 0) {
    if (@start[args->skaddr] != 0 || ($old != 2 && $old != 3)) {
      $tp = (struct tcp_sock *)args->skaddr;
      printf("E %llu %d %d %s %s %d %s %s %d %llu %d %llu %llu %llu %u %u %u %u %llu\\n", $now, @own[args->skaddr], args->family, ${ADDRS},
        @start[args->skaddr], $old, $tp->bytes_sent, $tp->bytes_acked, $tp->bytes_received, $tp->data_segs_out, $tp->data_segs_in,
        $tp->total_retrans, $tp->srtt_us, $sk->__sk_common.skc_cookie.counter);
    }
    delete(@own[args->skaddr]);
    delete(@start[args->skaddr]);
  }
}

tracepoint:sched:sched_process_exit /args->pid == $1/ { exit(); }

interval:ms:${HEARTBEAT_MS} { printf("H %llu\\n", nsecs); }

END {
  clear(@own);
  clear(@start);
  clear(@lport);
}
`;
