/*
 * The kernel's floor for one steady netlink poll of a target: what the poll asks of the kernel,
 * with next to no user-space work around it. Built by the bench with the machine's gcc.
 *
 *   kernel-floor PID POLLS
 *
 * Setup (not timed): read /proc/PID/fd and its links (the target's socket inodes), one sock_diag
 * dump of both families to learn each socket's inet_diag_sockid. Then POLLS times: readdir of
 * /proc/PID/fd, and one exact lookup with tcp_info (INET_DIAG_INFO) per socket, a few hundred per
 * sendmsg, every reply received; and one dump with tcp_info filtered in the kernel by the target's
 * ports (INET_DIAG_REQ_BYTECODE: its remote ports or its local ports, whichever set is smaller, a
 * flat chain of D_GE/D_LE or S_GE/S_LE pairs), every reply received. Whichever of the two is
 * cheaper is the floor a poll's refresh can reach. Prints one JSON line: per-poll medians of CPU
 * (user+sys: readdir + the cheaper refresh) and wall (readdir + lookups) in ms, split into readdir, lookups and the filtered dump (dumpCpuMs -1 when
 * the ports would not fit one filter program).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 256

struct known { uint8_t family; struct inet_diag_sockid id; };

/* the filtered dump's program, built once after learn() */
static unsigned char bytecode[65536];
static int bytecode_len;

/* the target's socket inodes, sorted (inode numbers grow without bound over a machine's uptime) */
static unsigned long *wanted;
static int nwanted, capwanted;

static int cmp_ul(const void *a, const void *b) {
  unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
  return x < y ? -1 : x > y;
}

static int is_wanted(unsigned long ino) {
  return bsearch(&ino, wanted, nwanted, sizeof *wanted, cmp_ul) != NULL;
}
static struct known *sockets;
static int nsockets;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double cpu_ms(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3;
}

static int count_fds(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) { perror(dir); exit(1); }
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

static void read_inodes(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) { perror(dir); exit(1); }
  char path[512], link[128];
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n <= 0) continue;
    link[n] = 0;
    unsigned long ino;
    if (sscanf(link, "socket:[%lu]", &ino) != 1) continue;
    if (nwanted == capwanted) {
      capwanted = capwanted ? 2 * capwanted : 1024;
      wanted = realloc(wanted, capwanted * sizeof *wanted);
      if (!wanted) { perror("realloc"); exit(1); }
    }
    wanted[nwanted++] = ino;
  }
  closedir(d);
  qsort(wanted, nwanted, sizeof *wanted, cmp_ul);
}

static int open_diag(void) {
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) { perror("socket"); exit(1); }
  int rcv = 1 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  return fd;
}

/* one dump per family, no extensions: learn the sockids of the wanted inodes */
static void learn(int fd) {
  static char buf[1 << 16];
  for (int f = 0; f < 2; f++) {
    struct { struct nlmsghdr h; struct inet_diag_req_v2 r; } req = {0};
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.r.sdiag_family = f ? AF_INET6 : AF_INET;
    req.r.sdiag_protocol = IPPROTO_TCP;
    req.r.idiag_states = ~((1u << 6) | (1u << 12)); /* every state but TIME_WAIT and NEW_SYN_RECV */
    if (send(fd, &req, sizeof req, 0) < 0) { perror("send"); exit(1); }
    for (int done = 0; !done;) {
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n < 0) { perror("recv"); exit(1); }
      for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) { done = 1; break; }
        struct inet_diag_msg *m = NLMSG_DATA(h);
        if (is_wanted(m->idiag_inode)) {
          sockets = realloc(sockets, (nsockets + 1) * sizeof *sockets);
          sockets[nsockets].family = m->idiag_family;
          sockets[nsockets].id = m->id;
          nsockets++;
        }
      }
    }
  }
}

/* exact lookups of every known socket with tcp_info; returns the replies received */
static int lookup_all(int fd) {
  static struct { struct nlmsghdr h; struct inet_diag_req_v2 r; } reqs[BATCH];
  static char buf[1 << 16];
  int replies = 0;
  for (int i = 0; i < nsockets; i += BATCH) {
    int n = nsockets - i < BATCH ? nsockets - i : BATCH;
    memset(reqs, 0, sizeof reqs[0] * n);
    for (int j = 0; j < n; j++) {
      reqs[j].h.nlmsg_len = sizeof reqs[j];
      reqs[j].h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
      reqs[j].h.nlmsg_flags = NLM_F_REQUEST;
      reqs[j].h.nlmsg_seq = j + 1;
      reqs[j].r.sdiag_family = sockets[i + j].family;
      reqs[j].r.sdiag_protocol = IPPROTO_TCP;
      reqs[j].r.idiag_ext = 1 << (INET_DIAG_INFO - 1);
      reqs[j].r.idiag_states = ~0u;
      reqs[j].r.id = sockets[i + j].id;
    }
    if (send(fd, reqs, sizeof reqs[0] * n, 0) < 0) { perror("send"); exit(1); }
    for (int got = 0; got < n;) {
      ssize_t len = recv(fd, buf, sizeof buf, 0);
      if (len < 0) { perror("recv"); exit(1); }
      for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) got++;
    }
    replies += n;
  }
  return replies;
}

static int cmp_port(const void *a, const void *b) {
  return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* distinct values of ports[0..n), sorted; returns the count */
static int distinct(uint16_t *ports, int n) {
  qsort(ports, n, sizeof *ports, cmp_port);
  int k = 0;
  for (int i = 0; i < n; i++) if (k == 0 || ports[k - 1] != ports[i]) ports[k++] = ports[i];
  return k;
}

static void op(int at, int code, int yes, int no) {
  struct inet_diag_bc_op *o = (struct inet_diag_bc_op *)(bytecode + at);
  o->code = code;
  o->yes = yes;
  o->no = no;
}

/*
 * Per port p: GE p (no: next pair), LE p (no: next pair), JMP accept. Landing on len accepts,
 * on len + 4 rejects; a port comparison carries its port in the `no` of the op after it.
 */
static void build_filter(void) {
  uint16_t *local = malloc(nsockets * sizeof *local), *remote = malloc(nsockets * sizeof *remote);
  if (!local || !remote) { perror("malloc"); exit(1); }
  for (int i = 0; i < nsockets; i++) {
    local[i] = ntohs(sockets[i].id.idiag_sport);
    remote[i] = ntohs(sockets[i].id.idiag_dport);
  }
  int nl = distinct(local, nsockets), nr = distinct(remote, nsockets);
  int by_remote = nr <= nl;
  uint16_t *ports = by_remote ? remote : local;
  int n = by_remote ? nr : nl;
  const int pair = 8 + 8 + 4;
  if (n * pair > 65000 || n == 0) { bytecode_len = 0; free(local); free(remote); return; }
  int len = n * pair;
  int ge = by_remote ? INET_DIAG_BC_D_GE : INET_DIAG_BC_S_GE;
  int le = by_remote ? INET_DIAG_BC_D_LE : INET_DIAG_BC_S_LE;
  for (int i = 0; i < n; i++) {
    int at = i * pair, next = at + pair;
    int miss = i == n - 1 ? len + 4 : next;
    op(at, ge, 8, miss - at);
    op(at + 4, 0, 0, ports[i]);
    op(at + 8, le, 8, miss - (at + 8));
    op(at + 12, 0, 0, ports[i]);
    op(at + 16, INET_DIAG_BC_JMP, 4, len - (at + 16));
  }
  bytecode_len = len;
  free(local);
  free(remote);
}

/* one dump of both families (TCPDIAG_GETSOCK walks both), filtered, with tcp_info; returns the rows */
static int filtered_dump(int fd) {
  static char buf[1 << 16];
  static struct {
    struct nlmsghdr h;
    struct inet_diag_req r;
    struct nlattr a;
    unsigned char bc[65536];
  } req;
  memset(&req, 0, sizeof req.h + sizeof req.r + sizeof req.a);
  int attr = NLA_HDRLEN + bytecode_len;
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof req.r) + NLA_ALIGN(attr);
  req.h.nlmsg_type = TCPDIAG_GETSOCK;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.r.idiag_family = AF_INET; /* TCPDIAG_GETSOCK dumps both families whatever this says */
  req.r.idiag_ext = 1 << (INET_DIAG_INFO - 1);
  req.r.idiag_states = ~((1u << 6) | (1u << 12));
  req.a.nla_len = attr;
  req.a.nla_type = INET_DIAG_REQ_BYTECODE;
  memcpy(req.bc, bytecode, bytecode_len);
  if (send(fd, &req, req.h.nlmsg_len, 0) < 0) { perror("send"); exit(1); }
  int rows = 0;
  for (int done = 0; !done;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) { perror("recv"); exit(1); }
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) { done = 1; break; }
      rows++;
    }
  }
  return rows;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *xs, int n) {
  qsort(xs, n, sizeof *xs, cmp);
  return n % 2 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s PID POLLS\n", argv[0]); return 2; }
  int polls = atoi(argv[2]);
  if (polls < 1) polls = 1;
  char dir[64];
  snprintf(dir, sizeof dir, "/proc/%s/fd", argv[1]);
  read_inodes(dir);
  int fd = open_diag();
  learn(fd);
  build_filter();

  double *cpu = calloc(polls, sizeof *cpu), *wall = calloc(polls, sizeof *wall);
  double *rd = calloc(polls, sizeof *rd), *lk = calloc(polls, sizeof *lk), *dp = calloc(polls, sizeof *dp);
  int fds = 0, rows = 0;
  for (int p = 0; p < polls; p++) {
    double c0 = cpu_ms(), w0 = now_ms();
    fds = count_fds(dir);
    double c1 = cpu_ms();
    lookup_all(fd);
    double c2 = cpu_ms(), w2 = now_ms();
    cpu[p] = c2 - c0;
    wall[p] = w2 - w0;
    rd[p] = c1 - c0;
    lk[p] = c2 - c1;
    if (bytecode_len > 0) {
      double c3 = cpu_ms();
      rows = filtered_dump(fd);
      dp[p] = cpu_ms() - c3;
      /* the floor: readdir and the cheaper of the two refreshes */
      if (dp[p] < lk[p]) cpu[p] = rd[p] + dp[p];
    }
  }
  printf("{\"fds\":%d,\"sockets\":%d,\"polls\":%d,\"cpuMs\":%.3f,\"wallMs\":%.3f,\"readdirCpuMs\":%.3f,\"lookupsCpuMs\":%.3f,\"dumpCpuMs\":%.3f,\"dumpRows\":%d,\"filterBytes\":%d}\n",
         fds, nsockets, polls, median(cpu, polls), median(wall, polls), median(rd, polls), median(lk, polls),
         bytecode_len > 0 ? median(dp, polls) : -1.0, rows, bytecode_len);
  return 0;
}
