// Bench child, the target of the "does watching slow the target down" measurement: holds `idle`
// connections to the sink (so that a poll has a realistic number of sockets to read) and one more
// on which it plays ping-pong with the sink's echo, 64 bytes each way, as fast as round trips go.
// Prints {"ready":n}; for each stdin line "run <ms>" plays for that long and prints
// {"roundTrips":n,"ms":elapsed}. Exits when stdin closes.
import * as net from 'node:net';
import * as readline from 'node:readline';

interface Endpoint {
  address: string;
  port: number;
}

const [endpointsJson = '[]', idleText = '0'] = process.argv.slice(2);
const endpoints = JSON.parse(endpointsJson) as Endpoint[];
const idle = Number(idleText);
const PAYLOAD = Buffer.alloc(64, 'p');

function connect(ep: Endpoint): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: ep.address, port: ep.port });
    s.once('connect', () => {
      s.setNoDelay(true);
      resolve(s);
    });
    s.once('error', reject);
  });
}

function play(sock: net.Socket, ms: number): Promise<{ roundTrips: number; ms: number }> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const end = t0 + BigInt(ms) * 1_000_000n;
    let roundTrips = 0;
    let pending = 0;
    const onData = (d: Buffer): void => {
      pending -= d.length;
      if (pending > 0) return;
      roundTrips++;
      const now = process.hrtime.bigint();
      if (now >= end) {
        sock.off('data', onData);
        resolve({ roundTrips, ms: Number(now - t0) / 1e6 });
        return;
      }
      pending = PAYLOAD.length;
      sock.write(PAYLOAD);
    };
    sock.on('data', onData);
    pending = PAYLOAD.length;
    sock.write(PAYLOAD);
  });
}

async function main(): Promise<void> {
  const held: net.Socket[] = [];
  for (let i = 0; i < idle; i++) held.push(await connect(endpoints[i % endpoints.length]!));
  const pinger = await connect(endpoints[0]!);
  process.stdout.write(`${JSON.stringify({ ready: held.length + 1 })}\n`);
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const m = /^run (\d+)$/.exec(line.trim());
    if (m) process.stdout.write(`${JSON.stringify(await play(pinger, Number(m[1])))}\n`);
  }
  process.exit(0);
}

main().catch((e: unknown) => {
  process.stderr.write(`ping-pong: ${String(e)}\n`);
  process.exit(1);
});
