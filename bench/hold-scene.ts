// Builds the bench scene and keeps it up until SIGTERM/SIGINT, so profiling runs can reuse it:
// `node dist/bench/hold-scene.js [targetConnections] [bigTarget] [--large]` prints {"pid":…,"big":…};
// `--large` builds the large scene's background (large-scene.ts, ~100,000 sockets) instead of ~22,000.
// Every child is stopped when this process ends (children-registry).
import { stopAll } from './children-registry';
import { buildTarget, buildScene, countHostTcpSockets } from './scene';
import { buildLargeBackground } from './large-scene';

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => a !== '--large');
  const large = args.length < process.argv.length - 2;
  const target = Number(args[0] ?? 1000);
  const big = Number(args[1] ?? 0);
  if (large) await buildLargeBackground();
  const scene = await buildScene({ hostSockets: large ? 2 * target : 22_000, targetConnections: target });
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
