// Bench child: opens `count` connections spread over the given endpoints, a bounded number in
// flight (a burst of thousands overflows the listen backlog and costs 1 s SYN retries), then holds
// them. With --traffic N it writes one byte on N of them every 100 ms so bytes and idle times move
// the way a live client's do. Prints {"ready":n} once all are connected; exits when stdin closes.
import * as net from 'node:net';

interface Endpoint {
  address: string;
  port: number;
}

const [endpointsJson = '[]', countText = '0', ...rest] = process.argv.slice(2);
const endpoints = JSON.parse(endpointsJson) as Endpoint[];
const count = Number(countText);
const trafficIdx = rest.indexOf('--traffic');
const traffic = trafficIdx >= 0 ? Number(rest[trafficIdx + 1]) : 0;
const IN_FLIGHT = 256;

const sockets: net.Socket[] = [];
let failed = 0;

function connectOne(i: number): Promise<void> {
  const ep = endpoints[i % endpoints.length]!;
  return new Promise((resolve) => {
    const s = net.connect({ host: ep.address, port: ep.port });
    s.once('connect', () => {
      s.setNoDelay(true);
      sockets.push(s);
      resolve();
    });
    s.once('error', () => {
      failed++;
      resolve();
    });
    s.on('data', () => undefined);
  });
}

async function main(): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await connectOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, count) }, worker));
  process.stdout.write(`${JSON.stringify({ ready: sockets.length, failed })}\n`);
  if (traffic > 0) {
    let k = 0;
    setInterval(() => {
      for (let i = 0; i < traffic && sockets.length > 0; i++) sockets[k++ % sockets.length]!.write('x');
    }, 100);
  }
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

main().catch((e: unknown) => {
  process.stderr.write(`holder: ${String(e)}\n`);
  process.exit(1);
});
