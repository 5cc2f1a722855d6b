// The tracker's own memory at scale, in this process: live bytes per tracked connection, bytes
// allocated per steady poll (garbage), and CPU per poll. Synthetic snapshots shaped like the
// netlink source's (fresh Connection and TcpInternals objects every poll, endpoint objects kept
// per socket, a shared frozen "no timer"), with a little traffic and churn per poll.
//
//   node --expose-gc dist/bench/tracker-memory.js [connections=20000] [polls=20]
import { Session } from 'node:inspector';
import { writeHeapSnapshot } from 'node:v8';
import { createTracker } from '../src/core/tracker';
import type { Tracker } from '../src/core/tracker-types';
import type { Connection, Endpoint, Snapshot, TimerInfo } from '../src/model';
import { median } from './measure';

const NO_TIMER: TimerInfo = Object.freeze({ kind: 'none', expiresMs: 0 });
const T0 = 1_764_000_000_000;
const INTERVAL_MS = 1000;
/** of the live connections, this many carry traffic at each poll */
const BUSY = 200;
/** closed and replaced at each poll */
const CHURN = 20;

interface Socket {
  inode: number;
  fd: number;
  local: Endpoint;
  remote: Endpoint;
  cookie: string;
  segments: number;
  bytes: number;
}

class Target {
  private nextInode = 1_000_000;
  private nextPort = 0;
  readonly sockets: Socket[] = [];

  constructor(n: number) {
    for (let i = 0; i < n; i++) this.sockets.push(this.open());
  }

  private open(): Socket {
    const inode = this.nextInode++;
    const port = 10_000 + (this.nextPort++ % 50_000);
    return {
      inode,
      fd: 3 + (inode % 60_000),
      local: { address: '127.0.0.1', port },
      remote: { address: `127.0.0.${150 + (inode % 2)}`, port: 36_999 },
      cookie: String(4_000_000_000 + inode),
      segments: 2,
      bytes: 100,
    };
  }

  /** one poll's snapshot: traffic on BUSY sockets, CHURN closed and as many opened */
  snapshot(poll: number): Snapshot {
    if (poll > 0) {
      this.sockets.splice(0, CHURN);
      for (let i = 0; i < CHURN; i++) this.sockets.push(this.open());
      for (let i = 0; i < BUSY; i++) {
        const s = this.sockets[(poll * BUSY + i * 97) % this.sockets.length]!;
        s.segments++;
        s.bytes += 120;
      }
    }
    const connections: Connection[] = this.sockets.map((s) => ({
      protocol: 'tcp',
      local: s.local,
      remote: s.remote,
      state: 'ESTABLISHED',
      inode: s.inode,
      sendQueue: 0,
      recvQueue: 0,
      timer: NO_TIMER,
      retransmits: 0,
      uid: 0,
      fd: s.fd,
      tcp: {
        bytesSent: s.bytes,
        bytesReceived: s.bytes,
        rttMs: 0.05,
        rttVarMs: 0.025,
        retransmits: 0,
        lastSendMs: 10,
        lastReceiveMs: 10,
        cookie: s.cookie,
        segmentsSent: s.segments,
        segmentsReceived: s.segments,
      },
      pid: 4242,
      direction: 'out',
    }));
    const process = { pid: 4242, command: 'holder', cmdline: 'holder', user: 'root', startTime: '2025-11-25T00:00:00.000Z' };
    return { process, source: 'netlink', connections, observedAtMs: T0 + poll * INTERVAL_MS };
  }
}

/** polls from..to-1; in a function of its own so that no snapshot stays on main's stack */
function feed(tracker: Tracker, target: Target, from: number, to: number): number {
  for (let poll = from; poll < to; poll++) tracker.poll(target.snapshot(poll), T0 + poll * INTERVAL_MS);
  return to;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error('run with node --expose-gc');
  g();
  g();
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => session.post(method, params ?? {}, (err, r) => (err ? reject(err) : resolve(r as T))));
}

interface ProfileNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: ProfileNode[];
}

/** sampled bytes per function of src/core (builtins charged to their caller), and the total */
function attribute(head: ProfileNode): { total: number; byFunction: Map<string, number> } {
  const byFunction = new Map<string, number>();
  let total = 0;
  const walk = (n: ProfileNode, caller: string): void => {
    const cf = n.callFrame;
    const own = cf.url === '' ? caller : `${cf.functionName || '(anonymous)'} ${cf.url.replace(/.*\/dist\//, '')}`;
    total += n.selfSize;
    if (n.selfSize > 0) byFunction.set(own, (byFunction.get(own) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c, own);
  };
  walk(head, '(root)');
  return { total, byFunction };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 20_000);
  const polls = Number(process.argv[3] ?? 20);
  const target = new Target(n);
  const tracker = createTracker();

  // live memory: the heap with the tracker after a few polls, less the heap without it
  gc();
  const before = process.memoryUsage().heapUsed;
  let poll = feed(tracker, target, 0, 5);
  gc();
  const live = process.memoryUsage().heapUsed - before;
  if (process.env.TRACKER_HEAPSNAPSHOT) writeHeapSnapshot(process.env.TRACKER_HEAPSNAPSHOT);

  // CPU per steady poll (snapshots built before the clock starts)
  const cpu: number[] = [];
  for (let i = 0; i < polls; i++, poll++) {
    const snap = target.snapshot(poll);
    const t = process.cpuUsage();
    tracker.poll(snap, T0 + poll * INTERVAL_MS);
    const d = process.cpuUsage(t);
    cpu.push((d.user + d.system) / 1000);
  }

  // garbage per steady poll: sampled allocations inside tracker.poll only
  const snaps: Snapshot[] = [];
  for (let i = 0; i < polls; i++) snaps.push(target.snapshot(poll + i));
  gc();
  const session = new Session();
  session.connect();
  await post(session, 'HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  for (const snap of snaps) {
    tracker.poll(snap, T0 + poll * INTERVAL_MS);
    poll++;
  }
  const { profile } = await post<{ profile: { head: ProfileNode } }>(session, 'HeapProfiler.stopSampling');
  session.disconnect();
  const { total, byFunction } = attribute(profile.head);

  const live2 = tracker.stats(T0 + poll * INTERVAL_MS).live;
  const mb = (b: number): string => (b / 1048576).toFixed(2);
  console.log(`connections ${live2}`);
  console.log(`live heap ${mb(live)} MB, ${Math.round(live / n)} B per connection`);
  console.log(`allocated per steady poll ${mb(total / polls)} MB, ${Math.round(total / polls / n)} B per connection`);
  console.log(`cpu per steady poll: median ${median(cpu).toFixed(1)} ms`);
  const top = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 12);
  for (const [f, b] of top) console.log(`  ${mb(b / polls).padStart(7)} MB/poll  ${f}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
