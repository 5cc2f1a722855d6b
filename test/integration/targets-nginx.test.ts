// nginx (master + 2 workers) watched by master PID with --children and by --name: the workers'
// inbound and upstream connections are found with the worker holding each (checked with `ss -tnp`)
// and their direction; a reload's new workers join and the old ones exit.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { execFileSync } from 'node:child_process';
import { startNginx, stopAllNginx, type Nginx } from '../helpers/nginx';
import { ndjson, sleep, startCli } from '../helpers/cli';
import { requireTools } from '../helpers/real-tools';

const backends: http.Server[] = [];
const agents: http.Agent[] = [];
after(async () => {
  for (const a of agents) a.destroy();
  for (const b of backends) b.close();
  await stopAllNginx();
});

async function backend(): Promise<number> {
  const s = http.createServer((_req, res) => res.end('backend\n'));
  s.keepAliveTimeout = 60_000;
  backends.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as net.AddressInfo).port;
}

/** keep-alive requests through nginx to the backend; the sockets stay open afterwards */
async function traffic(nginx: Nginx, n: number): Promise<http.Agent> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  agents.push(agent);
  await Promise.all(
    Array.from({ length: n }, () =>
      new Promise<void>((resolve, reject) => {
        http.get(nginx.url('/proxy/'), { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        }).on('error', reject);
      }),
    ),
  );
  return agent;
}

/** `ss -tnp`: local:port remote:port → PIDs holding it (the truth, from outside sockwatch) */
function ssHolders(nginxPort: number, backendPort: number): Map<string, number[]> {
  const { ss } = requireTools('ss');
  // only nginx's and the backend's ports: other tests may hold thousands of sockets meanwhile
  const filter = ['(', 'sport', '=', `:${nginxPort}`, 'or', 'dport', '=', `:${backendPort}`, ')'];
  const out = execFileSync(ss, ['-tnpH', 'state', 'established', ...filter], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const m = new Map<string, number[]>();
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const pids = [...line.matchAll(/pid=(\d+)/g)].map((x) => Number(x[1]));
    m.set(`${f[2]} ${f[3]}`, pids);
  }
  return m;
}

interface ConnJson { local: { address: string; port: number }; remote: { address: string; port: number }; pid: number; direction: string; state: string }

function liveAt(events: Record<string, unknown>[]): ConnJson[] {
  const live = new Map<string, ConnJson>();
  for (const e of events) {
    const c = e.connection as (ConnJson & { id: string }) | undefined;
    if (e.type === 'open' && c) live.set(c.id, c);
    if (e.type === 'close' && c) live.delete(c.id);
  }
  return [...live.values()];
}

async function checkWorkers(args: (n: Nginx) => string[]): Promise<void> {
  const port = await backend();
  const nginx = await startNginx({ workerProcesses: 2, upstream: { port, keepalive: 8 } });
  const cli = startCli(['watch', ...args(nginx), '--json', '--interval', '100ms', '--state', 'all']);
  try {
    const start = JSON.parse(await cli.waitFor(/"type":"start"/)) as { processes?: { pid: number }[] };
    const workers = nginx.workerPids();
    // (--name may also find other nginx instances on this machine)
    for (const p of [nginx.pid, ...workers]) assert.ok(start.processes?.some((x) => x.pid === p), `PID ${p} is watched`);
    await traffic(nginx, 8);
    // polls may lag on a loaded machine: wait (bounded) for both kinds to be seen
    const seen = (): ConnJson[] => liveAt(ndjson(cli.stdout())).filter((c) => c.state === 'ESTABLISHED');
    for (const until = Date.now() + 8000; Date.now() < until; await sleep(100)) {
      const l = seen();
      if (l.some((c) => c.local.port === nginx.port) && l.some((c) => c.remote.port === port)) break;
    }
    const holders = ssHolders(nginx.port, port);
    const live = seen();
    const inbound = live.filter((c) => c.local.port === nginx.port);
    const upstream = live.filter((c) => c.remote.port === port);
    assert.ok(inbound.length > 0, `the clients' connections to nginx are found: ${JSON.stringify(live.map((c) => [c.local.port, c.remote.port, c.pid]))}, nginx on ${nginx.port}`);
    assert.ok(upstream.length > 0, 'the workers\' upstream connections are found');
    for (const c of inbound) assert.equal(c.direction, 'in');
    for (const c of upstream) assert.equal(c.direction, 'out');
    for (const c of [...inbound, ...upstream]) {
      const truth = holders.get(`${c.local.address}:${c.local.port} ${c.remote.address}:${c.remote.port}`);
      assert.ok(truth !== undefined && truth.length > 0, `ss knows ${c.local.port}→${c.remote.port}`);
      assert.equal(c.pid, Math.min(...truth), `the worker holding ${c.local.port}→${c.remote.port}`);
      assert.ok(workers.includes(c.pid), 'held by a worker');
    }

    // reload: new workers join as processes, the old ones exit
    execFileSync(requireTools('nginx').nginx, ['-p', `${nginx.dir}/`, '-c', `${nginx.dir}/nginx.conf`, '-s', 'reload']);
    for (const a of agents) a.destroy();
    const deadline = Date.now() + 8000;
    let fresh: number[] = [];
    while (Date.now() < deadline) {
      fresh = nginx.workerPids().filter((p) => !workers.includes(p));
      const exits = ndjson(cli.stdout()).filter((e) => e.type === 'exit').map((e) => (e.process as { pid: number }).pid);
      if (fresh.length === 2 && workers.every((w) => exits.includes(w))) break;
      await sleep(100);
    }
    assert.equal(fresh.length, 2, 'nginx started two new workers');
    await traffic(nginx, 4);
    for (const until = Date.now() + 8000; Date.now() < until; await sleep(100)) {
      if (liveAt(ndjson(cli.stdout())).some((c) => c.state === 'ESTABLISHED' && c.local.port === nginx.port)) break;
    }
    const events = ndjson(cli.stdout());
    const exits = events.filter((e) => e.type === 'exit').map((e) => (e.process as { pid: number }).pid);
    for (const w of workers) assert.ok(exits.includes(w), `old worker ${w} exited`);
    const after = liveAt(events).filter((c) => c.state === 'ESTABLISHED' && c.local.port === nginx.port);
    assert.ok(after.length > 0 && after.every((c) => fresh.includes(c.pid)), 'new connections are held by the new workers');
  } finally {
    cli.child.kill('SIGINT');
    await cli.result;
    await nginx.stop();
  }
}

describe('nginx: master and workers', () => {
  it('by master PID with --children', async () => checkWorkers((n) => [String(n.pid), '--children']));
  it('by --name nginx', async () => checkWorkers(() => ['--name', 'nginx']));
});
