// A child that opens and closes loopback connections as fast as it can, so that sock_diag destroy
// notifications keep arriving in this network namespace while a test runs (the condition under
// which a listener that calls back into JS from native code aborted the process at its exit).
import { spawn, type ChildProcess } from 'node:child_process';

const CHURNER = String.raw`
const net = require('node:net');
const server = net.createServer((s) => { s.on('error', () => {}); s.end(); });
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  let closed = 0;
  const one = () => {
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => {});
    c.on('close', () => { closed++; setImmediate(one); });
    c.resume();
  };
  // a few in flight at once
  for (let i = 0; i < 8; i++) one();
  setInterval(() => process.stdout.write(JSON.stringify({ closed }) + '\n'), 100);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

export interface Churner {
  /** connections it has closed so far, from its own count */
  closed(): number;
  stop(): Promise<void>;
}

/** Resolves once the churner has closed `warmUp` connections (notifications are flowing). */
export async function startNamespaceChurn(warmUp = 200): Promise<Churner> {
  const child: ChildProcess = spawn(process.execPath, ['-e', CHURNER], { stdio: ['pipe', 'pipe', 'inherit'] });
  let closed = 0;
  let buf = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      closed = (JSON.parse(buf.slice(0, nl)) as { closed: number }).closed;
      buf = buf.slice(nl + 1);
      for (const w of waiters) w();
    }
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`churner closed only ${closed} connections in 10 s`)), 10_000);
    const check = (): void => {
      if (closed < warmUp) return;
      clearTimeout(timer);
      waiters.delete(check);
      resolve();
    };
    waiters.add(check);
  });
  return {
    closed: () => closed,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
