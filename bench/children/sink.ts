// Bench child: listens on the given loopback addresses (ephemeral ports) and holds every accepted
// connection open, echoing what it receives so the target's byte counters move. Prints one JSON
// line with its endpoints, then runs until killed (or its parent's stdin closes).
import * as net from 'node:net';

const addresses = process.argv.slice(2);
const held: net.Socket[] = [];

async function listen(address: string): Promise<{ address: string; port: number }> {
  const server = net.createServer((sock) => {
    held.push(sock);
    sock.on('data', (d) => sock.write(d));
    sock.on('error', () => undefined);
  });
  // a big backlog: holders open connections hundreds at a time
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address, port: 0, backlog: 4096 }, resolve);
  });
  const a = server.address() as net.AddressInfo;
  return { address: a.address, port: a.port };
}

async function main(): Promise<void> {
  const endpoints = [];
  for (const a of addresses) endpoints.push(await listen(a));
  process.stdout.write(`${JSON.stringify({ endpoints })}\n`);
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
  setInterval(() => {
    process.stdout.write(`${JSON.stringify({ held: held.length })}\n`);
  }, 1000).unref();
}

main().catch((e: unknown) => {
  process.stderr.write(`sink: ${String(e)}\n`);
  process.exit(1);
});
