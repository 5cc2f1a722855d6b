// A free TCP port on 127.0.0.1 for programs that need one in their config (nginx): bind port 0,
// read what the kernel gave, release it. Another process could take it in between; on this
// machine's ephemeral range that is unlikely, and the program then fails loudly to bind.
import * as net from 'node:net';

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('no port from the kernel'))));
    });
  });
}
