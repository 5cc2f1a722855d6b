// Node's http client (test/fixtures/real/node-http-client.js) started for integration tests, held
// at a gate until go(): a watch attaches first, then the client does all its work and exits at once.
// The truth is the client's own report: the local port of the socket each request went out on.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { FIXTURES } from './real-http';

export interface NodeClient {
  child: ChildProcess;
  pid: number;
  /** lets it start its requests */
  go(): void;
  /** the local ports of its requests, in order, per phase (a port per connection it used) */
  ports(phase: number): number[];
  /** resolves with its exit code once it has exited (after printing done) */
  exited: Promise<number | null>;
  /** resolves once it has made every request */
  done: Promise<void>;
  stderr(): string;
}

const clients = new Set<ChildProcess>();

/** `phases`: "fresh:PORT:COUNT" or "keepalive:PORT:COUNT" (see the fixture) */
export async function startNodeClient(phases: string[], user?: { uid: number; gid: number }, opts: { hold?: boolean } = {}): Promise<NodeClient> {
  const flags = ['--gate', ...(opts.hold === true ? ['--hold'] : [])];
  const child = spawn(process.execPath, [path.join(FIXTURES, 'node-http-client.js'), ...flags, ...phases], {
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
  clients.add(child);
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const byPhase = new Map<number, number[]>();
  let markDone!: () => void;
  const done = new Promise<void>((r) => (markDone = r));
  const exited = new Promise<number | null>((r) => child.once('close', (code) => (clients.delete(child), r(code))));
  const ready = new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (l) => {
      const o = JSON.parse(l) as { ready?: boolean; phase?: number; localPort?: number; done?: boolean };
      if (o.ready === true) resolve();
      if (o.done === true) markDone();
      if (o.phase !== undefined && o.localPort !== undefined) byPhase.set(o.phase, [...(byPhase.get(o.phase) ?? []), o.localPort]);
    });
    void exited.then((code) => reject(new Error(`client exited (${code}) before it was ready: ${err}`)));
  });
  await ready;
  if (child.pid === undefined) throw new Error('client has no pid');
  return {
    child,
    pid: child.pid,
    go: () => child.stdin!.end('go\n'),
    ports: (phase) => byPhase.get(phase) ?? [],
    exited,
    done,
    stderr: () => err,
  };
}

export function killAllNodeClients(): void {
  for (const c of clients) c.kill('SIGKILL');
  clients.clear();
}
