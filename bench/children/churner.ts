// Bench child for bench/lifetime-accuracy.ts: a churning target. Waits for "go" on stdin, then
// keeps `concurrency` connections to 127.0.0.1:port open, each held for a random 5–500 ms, until
// `runMs` have passed; then prints one JSON line per connection with its local port and its own
// connect and close times (epoch ms from the monotonic clock: performance.timeOrigin + now()),
// and exits. Argv: port runMs concurrency.
import * as net from 'node:net';
import * as readline from 'node:readline';

const [portText, runMsText, concurrencyText] = process.argv.slice(2);
const port = Number(portText);
const runMs = Number(runMsText);
const concurrency = Number(concurrencyText);
const MIN_HOLD_MS = 5;
const MAX_HOLD_MS = 500;

interface Life {
  localPort: number;
  openMs: number;
  closeMs: number;
  heldMs: number;
}

const epochMs = (): number => performance.timeOrigin + performance.now();
const lives: Life[] = [];
let stopAt = Infinity;
let active = 0;

function one(): void {
  if (epochMs() >= stopAt) {
    if (active === 0) finish();
    return;
  }
  active++;
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  sock.once('connect', () => {
    const openMs = epochMs();
    const holdMs = MIN_HOLD_MS + Math.random() * (MAX_HOLD_MS - MIN_HOLD_MS);
    setTimeout(() => {
      const localPort = sock.localPort ?? 0;
      const closeMs = epochMs();
      // destroy() closes the fd at once (uv_close), so closeMs is when the socket left the fd table
      sock.destroy();
      lives.push({ localPort, openMs, closeMs, heldMs: closeMs - openMs });
      active--;
      one();
    }, holdMs);
  });
}

let finished = false;
function finish(): void {
  if (finished) return;
  finished = true;
  for (const l of lives) process.stdout.write(`${JSON.stringify(l)}\n`);
  process.stdout.write(`${JSON.stringify({ done: true, count: lives.length })}\n`, () => process.exit(0));
}

readline.createInterface({ input: process.stdin }).once('line', () => {
  stopAt = epochMs() + runMs;
  for (let i = 0; i < concurrency; i++) one();
});
process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
