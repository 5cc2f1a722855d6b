/**
 * A tiny target for `node -e`: holds two loopback connections and prints one JSON line
 * {"pid":…,"ports":[local ports]}; exits when its stdin closes, or after 60 s at the latest.
 */
export const HOLDER_SCRIPT = `
const net = require('node:net');
const s = net.createServer(() => {}).listen(0, '127.0.0.1', () => {
  const socks = [0, 1].map(() => net.connect(s.address().port, '127.0.0.1'));
  let n = 0;
  for (const c of socks) c.on('connect', () => {
    if (++n === socks.length) process.stdout.write(JSON.stringify({ pid: process.pid, ports: socks.map((x) => x.localPort) }) + '\\n');
  });
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
setTimeout(() => process.exit(0), 60000);
`;
