// Runs as PID 1 of a new PID namespace (`unshare -p -f --mount-proc node pid-reuse-harness.js
// CLI SOURCE INTERVAL_MS`), where it alone decides which PID the next process gets: it starts a
// target A holding a loopback connection, starts `sockwatch watch A --json` against it, kills and
// reaps A half-way between two polls, writes A's PID - 1 to /proc/sys/kernel/ns_last_pid and
// starts B, which then takes A's PID. It prints one JSON line: what A and B said about themselves
// (the truth) and what sockwatch printed. A fixed script: everything variable comes in argv.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as readline from 'node:readline';

// A and B: connect to the port in argv[1], print {"pid","localPort"}, hold until killed.
const TARGET_SCRIPT = `
const net = require('node:net');
const c = net.connect(Number(process.argv[1]), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ pid: process.pid, localPort: c.localPort }) + '\\n');
});
setInterval(() => undefined, 60000);
`;

interface Target {
  child: ChildProcess;
  pid: number;
  localPort: number;
}

async function startTarget(port: number, onSpawned: () => void = () => undefined): Promise<Target> {
  const child = spawn(process.execPath, ['-e', TARGET_SCRIPT, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  onSpawned();
  const line = await new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`target exited early (${code})`)));
  });
  const t = JSON.parse(line) as { pid: number; localPort: number };
  return { child, ...t };
}

async function main(): Promise<void> {
  const [cli, source, intervalText] = process.argv.slice(2);
  if (!cli || !source || !intervalText) throw new Error('usage: pid-reuse-harness CLI SOURCE INTERVAL_MS');
  const intervalMs = Number(intervalText);
  if (process.pid !== 1) throw new Error(`not PID 1 of a new PID namespace (pid ${process.pid})`);

  const sink = net.createServer((s) => s.on('error', () => undefined));
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  const port = (sink.address() as net.AddressInfo).port;

  const a = await startTarget(port);
  const watch = spawn(process.execPath, [cli, 'watch', String(a.pid), '--json', '--interval', `${intervalMs}ms`, '--source', source, '--brief', 'none'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  watch.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const lines = readline.createInterface({ input: watch.stdout! });
  const watchEnded = new Promise<number | null>((r) => watch.once('close', (code) => r(code)));
  // the start event's time is the first poll; later polls follow at start + k × interval
  let startMs = 0;
  const sawOpen = new Promise<void>((resolve) => {
    lines.on('line', (l) => {
      out += l + '\n';
      const e = JSON.parse(l) as { type: string; time?: string; connection?: { local: { port: number } } };
      if (e.type === 'start') startMs = Date.parse(e.time ?? '');
      if (e.type === 'open' && e.connection?.local.port === a.localPort) resolve();
    });
  });
  const bail = setTimeout(() => watch.kill('SIGKILL'), 20_000);
  await sawOpen;

  // Half-way between two polls, so no poll falls in the few ms while the PID is free.
  const sincePoll = (Date.now() - startMs) % intervalMs;
  await new Promise((r) => setTimeout(r, (intervalMs * 1.5 - sincePoll) % intervalMs));
  const swapAt = Date.now();
  const aExited = new Promise((r) => a.child.once('exit', r)); // 'exit' comes after the reap
  a.child.kill('SIGKILL');
  await aExited;
  writeFileSync('/proc/sys/kernel/ns_last_pid', String(a.pid - 1));
  // the PID is free from A's reap to B's fork (spawn returns after the fork)
  let swapMs = 0;
  const b = await startTarget(port, () => (swapMs = Date.now() - swapAt));

  const code = await watchEnded;
  clearTimeout(bail);
  b.child.kill('SIGKILL');
  sink.close();
  process.stdout.write(JSON.stringify({ a: { pid: a.pid, localPort: a.localPort }, b: { pid: b.pid, localPort: b.localPort }, swapMs, sockwatch: { code, stdout: out, stderr: err } }) + '\n');
}

// `node --test dist/test/` runs every file under test/, this one too, without arguments: then it
// does nothing, like the other helpers.
if (process.argv.length > 2) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stdout.write(JSON.stringify({ error: e instanceof Error ? e.message : String(e) }) + '\n');
      process.exit(1);
    },
  );
}
