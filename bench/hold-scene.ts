// Builds the bench scene and keeps it up until SIGTERM/SIGINT, so profiling runs can reuse it:
// `node dist/bench/hold-scene.js [targetConnections] [bigTarget]` prints {"pid":…,"big":…}.
// Every child is stopped when this process ends (children-registry).
import { stopAll } from './children-registry';
import { buildTarget, buildScene, countHostTcpSockets } from './scene';

async function main(): Promise<void> {
  const target = Number(process.argv[2] ?? 1000);
  const big = Number(process.argv[3] ?? 0);
  const scene = await buildScene({ hostSockets: 22_000, targetConnections: target });
  const out: Record<string, number> = { pid: scene.targetPid, connections: scene.targetConnections };
  if (big > 0) {
    const b = await buildTarget(big, 150);
    out.big = b.pid;
    out.bigConnections = b.connections;
  }
  out.host = countHostTcpSockets();
  process.stdout.write(`${JSON.stringify(out)}\n`);
  setInterval(() => undefined, 1 << 30);
}

main().catch((e: unknown) => {
  stopAll();
  process.stderr.write(`hold-scene: ${String(e)}\n`);
  process.exit(1);
});
