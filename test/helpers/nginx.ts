// The one real nginx for integration tests: its own prefix in a temp dir, loopback ports picked by
// binding port 0 first, `daemon off` so it is our child, an access log that records which
// connection carried each request ($connection, $connection_requests, $remote_port: the truth a
// test compares sockwatch with, see nginx-access-log.ts), and a stop that leaves nothing running.
//
//   const nginx = await startNginx({ keepaliveTimeoutS: 2 });
//   ... nginx.url('/'), nginx.pid, nginx.workerPids(), readAccessLog(nginx.accessLog) ...
//   after(() => stopAllNginx());
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-port';
import { requireTools } from './real-tools';

export interface NginxOptions {
  /** 2 by default (nginx's usual shape: a master and workers) */
  workerProcesses?: number;
  /** false: `master_process off`, one process accepts and serves everything (one PID to watch) */
  masterProcess?: boolean;
  /** seconds an idle client keep-alive connection is kept; nginx's default 75 */
  keepaliveTimeoutS?: number;
  /** requests one client connection may carry; high so a busy connection is never cut short */
  keepaliveRequests?: number;
  /** `/proxy/` goes to this backend through an upstream block that keeps `keepalive` idle connections */
  upstream?: { port: number; keepalive: number };
  /** limit_req at this many requests/s, delaying (never refusing) the excess: paces `ab` */
  requestsPerSecond?: number;
  /** run nginx as this user (the prefix is handed to it); default: ourselves */
  user?: { uid: number; gid: number };
  /** serve nginx's stub_status at /sw_status: `accepted()` reads its count of accepted connections */
  status?: boolean;
}

export interface Nginx {
  port: number;
  /** the master, or with masterProcess false the only process */
  pid: number;
  dir: string;
  accessLog: string;
  errorLog: string;
  url(pathname?: string): string;
  /** the workers (children of the master); [pid] when masterProcess is false */
  workerPids(): number[];
  /**
   * nginx's own count of the connections it has accepted (stub_status "accepts"), this request's
   * own connection included; needs `status: true`. Unlike the access log it counts connections
   * that never carried a request.
   */
  accepted(): Promise<number>;
  stop(): Promise<void>;
}

const running = new Set<Nginx>();

/** The access log's format: one line per request, fields space-separated. */
export const ACCESS_LOG_FORMAT = '$connection $connection_requests $remote_addr $remote_port $server_port $status $msec';

function config(dir: string, port: number, o: NginxOptions): string {
  const master = o.masterProcess ?? true;
  const lines = [
    'daemon off;',
    `master_process ${master ? 'on' : 'off'};`,
    `worker_processes ${o.workerProcesses ?? 2};`,
    `pid ${dir}/nginx.pid;`,
    // `error`, not lower: limit_req logs every delayed request one level below its refusals
    `error_log ${dir}/error.log error;`,
    'events { worker_connections 4096; }',
    'http {',
    `  log_format sw '${ACCESS_LOG_FORMAT}';`,
    `  access_log ${dir}/access.log sw;`,
    `  client_body_temp_path ${dir}/tmp/body;`,
    `  proxy_temp_path ${dir}/tmp/proxy;`,
    `  fastcgi_temp_path ${dir}/tmp/fastcgi;`,
    `  uwsgi_temp_path ${dir}/tmp/uwsgi;`,
    `  scgi_temp_path ${dir}/tmp/scgi;`,
    `  keepalive_timeout ${o.keepaliveTimeoutS ?? 75}s;`,
    `  keepalive_requests ${o.keepaliveRequests ?? 1_000_000};`,
  ];
  if (o.requestsPerSecond !== undefined) {
    lines.push(`  limit_req_zone $server_port zone=pace:1m rate=${o.requestsPerSecond}r/s;`);
  }
  if (o.upstream) {
    lines.push(
      '  upstream backend {',
      `    server 127.0.0.1:${o.upstream.port};`,
      `    keepalive ${o.upstream.keepalive};`,
      `    keepalive_requests 1000000;`,
      '  }',
    );
  }
  lines.push('  server {', `    listen 127.0.0.1:${port};`);
  if (o.requestsPerSecond !== undefined) lines.push('    limit_req zone=pace burst=1000000;');
  // A static file, not `return`: `return` answers in the rewrite phase, before limit_req runs.
  lines.push(`    location / { root ${dir}/www; index ok.txt; default_type text/plain; }`);
  if (o.status === true) lines.push('    location = /sw_status { stub_status; access_log off; }');
  if (o.upstream) {
    lines.push(
      '    location /proxy/ {',
      '      proxy_http_version 1.1;',
      '      proxy_set_header Connection "";',
      '      proxy_pass http://backend/;',
      '    }',
    );
  }
  lines.push('  }', '}', '');
  return lines.join('\n');
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function readOr(file: string, fallback = ''): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

function ppidAndComm(pid: number): { ppid: number; comm: string } | undefined {
  const stat = readOr(`/proc/${pid}/stat`);
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = stat.slice(close + 2).split(' ');
  return { ppid: Number(fields[1]), comm: stat.slice(stat.indexOf('(') + 1, close) };
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = ppidAndComm(Number(name));
    if (info?.ppid === pid && info.comm === 'nginx') out.push(Number(name));
  }
  return out.sort((a, b) => a - b);
}

export async function startNginx(options: NginxOptions = {}): Promise<Nginx> {
  const { nginx: nginxPath } = requireTools('nginx');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-nginx-'));
  fs.mkdirSync(path.join(dir, 'tmp'));
  fs.mkdirSync(path.join(dir, 'www'));
  fs.writeFileSync(path.join(dir, 'www', 'ok.txt'), 'ok\n');
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, config(dir, port, options));
  if (options.user) {
    for (const p of [dir, path.join(dir, 'tmp'), path.join(dir, 'www'), path.join(dir, 'www', 'ok.txt'), conf]) fs.chownSync(p, options.user.uid, options.user.gid);
  }
  const errorLog = path.join(dir, 'error.log');
  const child: ChildProcess = spawn(nginxPath, ['-p', `${dir}/`, '-c', conf, '-e', errorLog], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-4000)));
  let exited = false;
  const exitedP = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${nginxPath}`);
  const seenWorkers = new Set<number>();
  const workerPids = (): number[] => {
    if (options.masterProcess === false) return [pid];
    const now = exited ? [] : childrenOf(pid);
    for (const w of now) seenWorkers.add(w);
    return now;
  };
  const nginx: Nginx = {
    port,
    pid,
    dir,
    accessLog: path.join(dir, 'access.log'),
    errorLog,
    url: (p = '/') => `http://127.0.0.1:${port}${p}`,
    workerPids,
    accepted: async () => {
      if (options.status !== true) throw new Error('accepted() needs startNginx({ status: true })');
      // a connection of its own, closed after (a pooled one would be reused by the next read)
      const text = await new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/sw_status', agent: false }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (body += d));
            res.on('end', () => resolve(body));
          })
          .on('error', reject);
      });
      // "Active connections: 1 \nserver accepts handled requests\n 5 5 7 \n..."
      const m = /server accepts handled requests\s+(\d+)\s+\d+\s+\d+/.exec(text);
      if (m === null) throw new Error(`not a stub_status page: ${text.slice(0, 200)}`);
      return Number(m[1]);
    },
    stop: async () => {
      running.delete(nginx);
      workerPids();
      if (!exited) {
        child.kill('SIGTERM'); // fast shutdown: the master stops its workers
        await Promise.race([exitedP, new Promise((r) => setTimeout(r, 3_000))]);
        if (!exited) child.kill('SIGKILL');
      }
      // A worker outliving a SIGKILLed master would keep the port: kill what is still ours.
      for (const w of seenWorkers) {
        const info = ppidAndComm(w);
        if (info?.comm === 'nginx' && (info.ppid === pid || info.ppid === 1)) {
          try {
            process.kill(w, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
      await exitedP;
    },
  };
  running.add(nginx);

  const deadline = Date.now() + 10_000;
  const wantWorkers = options.masterProcess === false ? 0 : (options.workerProcesses ?? 2);
  while (!(await canConnect(port)) || workerPids().length < wantWorkers) {
    if (exited || Date.now() > deadline) {
      await nginx.stop();
      throw new Error(
        `nginx did not start on 127.0.0.1:${port}: ${exited ? 'it exited' : 'timed out'}\n` +
          `stderr: ${stderr}\nerror.log: ${readOr(errorLog)}\nconf:\n${readOr(conf)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return nginx;
}

export async function stopAllNginx(): Promise<void> {
  await Promise.all([...running].map((n) => n.stop()));
}

// Last resort when the test process dies with nginx still up (an after() hook that never ran).
process.once('exit', () => {
  for (const n of running) {
    for (const p of [n.pid, ...n.workerPids()]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
});
