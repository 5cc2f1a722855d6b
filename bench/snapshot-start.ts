// `node dist/bench/snapshot-start.js [hostSockets=31000] [target=1000] [runs=21]`: issue 23's
// one-shot goal, `snapshot` of a 1,000-connection target within `node -e 0` + 60 ms on a host of
// ~31,000 TCP sockets. Builds that scene (scene.ts), then runs `node -e 0`, `sockwatch snapshot
// PID` (as root: the fd-socket iterator), `--source netlink` and lsof alternately, one of each per
// round, so a slower stretch of the machine hits all four alike; prints the medians and the
// differences. Not part of `npm run bench` (whose usual host is ~22,000 sockets).
import * as path from 'node:path';
import { stopAll } from './children-registry';
import { median, timeCommand } from './measure';
import { buildScene, countHostTcpSockets } from './scene';

const ENTRY = path.resolve(__dirname, '../../bin/sockwatch.js');

async function main(): Promise<void> {
  const hostSockets = Number(process.argv[2] ?? 31_000);
  const target = Number(process.argv[3] ?? 1000);
  const runs = Number(process.argv[4] ?? 21);
  const scene = await buildScene({ hostSockets, targetConnections: target });
  const pid = String(scene.targetPid);
  const commands: Record<string, [string, string[]]> = {
    'node -e 0': [process.execPath, ['-e', '0']],
    'sockwatch snapshot PID': [ENTRY, ['snapshot', pid]],
    'sockwatch snapshot PID --source netlink': [ENTRY, ['snapshot', pid, '--source', 'netlink']],
    'lsof -nP -p PID -a -iTCP -sTCP:ESTABLISHED': ['lsof', ['-nP', '-p', pid, '-a', '-iTCP', '-sTCP:ESTABLISHED']],
  };
  const walls: Record<string, number[]> = {};
  for (let i = 0; i < runs; i++) {
    for (const [name, [cmd, args]] of Object.entries(commands)) {
      const r = timeCommand(cmd, args);
      if (r.status !== 0) throw new Error(`${name} exited ${String(r.status)}`);
      (walls[name] ??= []).push(r.wallMs);
    }
  }
  const m = (name: string): number => median(walls[name]!);
  const node = m('node -e 0');
  process.stdout.write(`host ${countHostTcpSockets()} TCP sockets, target ${scene.targetConnections} connections, ${runs} rounds (wall ms, medians)\n`);
  for (const name of Object.keys(commands)) {
    const extra = name === 'node -e 0' ? '' : `  (node -e 0 + ${(m(name) - node).toFixed(0)})`;
    process.stdout.write(`${name.padEnd(42)} ${m(name).toFixed(1).padStart(7)}${extra}\n`);
  }
}

main()
  .catch((e: unknown) => {
    process.stderr.write(`snapshot-start: ${String(e)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
