// Demo child 1: one HTTP server per loop on 127.0.0.1, port 0, so the watched client's connections
// can be told apart by remote port. Prints {"ports":{...}} once listening; exits when stdin closes
// (the parent went away) so it can never outlive the demo.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO_LOOPS, DEMO_TIMING, type DemoLoop } from './demo-loops';

const BODY = 'x'.repeat(64 * 1024);

function listen(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(BODY.length) });
    // A body larger than the socket buffers: a client that does not read it leaves it in flight.
    res.end(BODY);
    req.resume();
  });
  server.keepAliveTimeout = DEMO_TIMING.serverIdleTimeoutMs;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function main(): Promise<void> {
  const ports: Partial<Record<DemoLoop, number>> = {};
  const servers: http.Server[] = [];
  for (const loop of DEMO_LOOPS) {
    const s = await listen();
    servers.push(s);
    ports[loop] = (s.address() as AddressInfo).port;
  }
  process.stdout.write(JSON.stringify({ ports }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
}

void main();
