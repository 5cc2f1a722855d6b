// Demo child 2, the process sockwatch watches: HTTP client loops replaying the seed's lessons.
// argv[2]: JSON {"ports":{"keepalive":N,...},"loops":["keepalive",...]}. Exits when stdin closes.
import * as http from 'node:http';
import { DEMO_TIMING as T, type DemoLoop } from './demo-loops';

interface Config {
  ports: Partial<Record<DemoLoop, number>>;
  loops: DemoLoop[];
}

const config = JSON.parse(process.argv[2] ?? '{}') as Config;

function get(port: number, agent: http.Agent, onResponse: (res: http.IncomingMessage) => void): void {
  const req = http.get({ host: '127.0.0.1', port, path: '/', agent }, onResponse);
  req.on('error', () => undefined);
}

function keepalive(port: number): void {
  // One socket, kept alive and reused: the response is read to the end, which frees the socket.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, keepAliveMsecs: T.tcpKeepAliveMs });
  const once = (): void => get(port, agent, (res) => res.resume());
  once();
  setInterval(once, T.keepaliveEveryMs);
}

function churn(port: number): void {
  // Keep-alive is on, but the body is abandoned unread: destroying the response kills the socket.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  setInterval(() => get(port, agent, (res) => setTimeout(() => res.destroy(), T.churnHoldMs)), T.churnEveryMs);
}

function leak(port: number): void {
  // Responses are never read nor closed: each holds its socket for ever.
  const agent = new http.Agent({ keepAlive: true });
  const held: http.IncomingMessage[] = [];
  const timer = setInterval(() => {
    if (held.length >= T.leakMax) return clearInterval(timer);
    get(port, agent, (res) => {
      held.push(res);
      res.pause();
    });
  }, T.leakEveryMs);
}

const RUN: Record<DemoLoop, (port: number) => void> = { keepalive, churn, leak };
for (const loop of config.loops) {
  const port = config.ports[loop];
  if (port) RUN[loop](port);
}
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
