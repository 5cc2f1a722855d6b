import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { WatchArgs } from './watch-args';
import { runWatch } from './watch-command';
import { DEMO_LOOPS, LESSONS, type DemoLoop } from '../demo/demo-loops';
import { SockwatchError } from '../errors';

const DEMO_DIR = path.join(__dirname, '..', 'demo');

function startChild(script: string, args: string[]): ChildProcess {
  // stdin is a pipe the children watch: when this process dies, however, they exit too.
  return spawn(process.execPath, [path.join(DEMO_DIR, script), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
}

function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: child.stdout! });
    const t = setTimeout(() => reject(new SockwatchError('io_error', 'the demo server did not start')), timeoutMs);
    rl.once('line', (l) => {
      clearTimeout(t);
      rl.close();
      resolve(l);
    });
    child.once('exit', () => reject(new SockwatchError('io_error', 'the demo server exited at start')));
  });
}

function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => c.kill('SIGKILL'), 1000);
    c.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    c.kill('SIGTERM');
  });
}

export async function runDemo(which: DemoLoop | 'all', a: WatchArgs): Promise<number> {
  const loops = which === 'all' ? [...DEMO_LOOPS] : [which];
  const children: ChildProcess[] = [];
  const killAll = (): void => {
    for (const c of children) c.kill('SIGKILL');
  };
  process.once('exit', killAll);
  try {
    const server = startChild('demo-server.js', []);
    children.push(server);
    const { ports } = JSON.parse(await firstLine(server, 5000)) as { ports: Record<DemoLoop, number> };
    const client = startChild('demo-client.js', [JSON.stringify({ ports, loops })]);
    children.push(client);
    client.stdout?.resume();
    const banner = [
      `demo: PID ${client.pid} is an HTTP client; its servers run in PID ${server.pid} on 127.0.0.1.`,
      ...loops.map((l) => `  remote port ${ports[l]} = ${l}: ${LESSONS[l]}`),
    ];
    // the legend once read (the TUI folds it): which remote port is which loop
    const bannerFolded = `demo: client PID ${client.pid} · remote port ${loops.map((l) => `${ports[l]} ${l}`).join(', ')}`;
    return await runWatch(client.pid!, a, { banner, bannerFolded });
  } finally {
    process.removeListener('exit', killAll);
    await Promise.all(children.map(stopChild));
  }
}
