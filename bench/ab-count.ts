// `npm run bench:ab` (root): does sockwatch count every connection of a client that opens one per
// request? nginx (one process, paced to 200 requests/s) is watched as root with eBPF while
// `ab -n 2000 -c 4` (no keep-alive) runs against it; nginx closes first, so ab reuses client
// ports within milliseconds. Truth: nginx's own count of accepted connections (stub_status,
// read before the watch and after it; the access log misses a connection that carried no
// request, which ab sometimes opens at its end), and its access log for the client ports.
// A measurement, not a test: one line per run (sockwatch's opened, nginx's accepted connections
// and logged ones, and how many distinct client ports those used). Options: --runs N (default 5), --requests N (2000),
// --nobody (nginx and sockwatch as uid 65534: destroy notifications and the listening-port rule).
import { runAb } from '../test/helpers/ab';
import { readAccessLog, requestsPerConnection } from '../test/helpers/nginx-access-log';
import { startNginx, stopAllNginx } from '../test/helpers/nginx';
import { startWatch, stopAllWatches, summaryOf } from '../test/helpers/watch-events';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench:ab needs root (it measures the eBPF source, or runs both sides as uid 65534)');
  const runs = option('--runs', 5);
  const requests = option('--requests', 2000);
  const user = process.argv.includes('--nobody') ? { uid: 65534, gid: 65534 } : undefined;
  let exact = 0;
  for (let r = 1; r <= runs; r++) {
    const nginx = await startNginx({ masterProcess: false, requestsPerSecond: 200, status: true, ...(user ? { user } : {}) });
    const acceptedBefore = await nginx.accepted();
    const watch = user ? startWatch(nginx.pid, [], { user }) : startWatch(nginx.pid, ['--brief', 'ebpf']);
    await watch.started;
    await runAb({ url: nginx.url('/'), requests, concurrency: 4, keepAlive: false });
    await watch.polledAfter(Date.now());
    watch.interrupt();
    const { events } = await watch.finish();
    // between the two reads, less the second read's own connection: ab's
    const accepted = (await nginx.accepted()) - acceptedBefore - 1;
    const logged = requestsPerConnection(readAccessLog(nginx.accessLog));
    const ports = new Set(logged.map((c) => c.remotePort)).size;
    const summary = summaryOf(events);
    const opened = Number(summary.opened);
    if (opened === accepted) exact++;
    const losses = JSON.stringify(summary.briefConnections ?? {});
    console.log(`run ${r}: sockwatch opened ${opened}, nginx accepted ${accepted} (logged ${logged.length}, from ${ports} distinct client ports); brief facility ${losses}`);
    await stopAllNginx();
  }
  console.log(`exact in ${exact} of ${runs} runs`);
}

main().catch((e: unknown) => {
  stopAllWatches();
  void stopAllNginx();
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
