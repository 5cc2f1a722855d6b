// The Go programs of the tests (go/*.go), each built once per machine (cached in the temp dir by
// the source's hash, so test files and runs share one build), and the Go net/http client,
// go/http-client.go, started in one of its modes. It reports its own truth: per request whether
// net/http reused a connection (httptrace GotConn), and at the end its request and new-connection counts.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { requireTools } from './real-tools';

const GO_DIR = path.join(__dirname, '..', '..', '..', 'test', 'helpers', 'go');

const built = new Map<string, string>();

/**
 * Path of the built program go/<name>.go (world-executable: the non-root cases run it as nobody),
 * cached in the temp dir by the source's hash so test files and runs share one build.
 */
export function buildGoProgram(name: string): string {
  const cached = built.get(name);
  if (cached !== undefined && fs.existsSync(cached)) return cached;
  const file = path.join(GO_DIR, `${name}.go`);
  const { go } = requireTools('go');
  const source = fs.readFileSync(file);
  const version = execFileSync(go, ['version'], { encoding: 'utf8' });
  const hash = crypto.createHash('sha256').update(source).update(version).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), `sockwatch-go-${name}-${hash}`);
  const bin = path.join(dir, name);
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    const srcCopy = path.join(dir, `src-${process.pid}.go`);
    fs.writeFileSync(srcCopy, source);
    const tmpBin = `${bin}.${process.pid}.tmp`;
    try {
      execFileSync(go, ['build', '-o', tmpBin, srcCopy], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          GOCACHE: path.join(os.tmpdir(), 'sockwatch-go-cache'),
          GOPATH: path.join(os.tmpdir(), 'sockwatch-gopath'),
          GO111MODULE: 'off', // one stdlib-only file: no module, no network
          GOFLAGS: '',
        },
        timeout: 120_000,
      });
      fs.chmodSync(tmpBin, 0o755);
      fs.renameSync(tmpBin, bin); // atomic: test files building at once never see half a binary
    } catch (e) {
      const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`go build of ${file} failed: ${String(e)}\n${stderr}`);
    } finally {
      fs.rmSync(srcCopy, { force: true });
    }
  }
  built.set(name, bin);
  return bin;
}

/** Path of the built client binary. */
export function buildGoClient(): string {
  return buildGoProgram('http-client');
}

export type GoClientMode = 'keepalive' | 'undrained' | 'leak';

export interface GoClientOptions {
  url: string;
  mode: GoClientMode;
  /** between request starts; 0 back to back */
  intervalMs: number;
  /** stop after this many requests… */
  count?: number;
  /** …or after this long */
  durationMs?: number;
  /** stay alive after the last request (idle connections closed first, unless keepOpen) */
  holdMs?: number;
  /** keep the idle connections open through the hold, so a watch polls their final counters */
  keepOpen?: boolean;
  /** no per-request lines (fast loops) */
  quiet?: boolean;
  user?: { uid: number; gid: number };
  /** -tls: accept the test server's self-signed certificate */
  tls?: boolean;
  /** -h2: negotiate HTTP/2 */
  h2?: boolean;
}

export interface GoRequest {
  i: number;
  reused: boolean;
  localPort: number;
  status: number;
  /** the protocol that carried it: "HTTP/1.1", "HTTP/2.0" */
  proto: string;
  atMs: number;
}

export interface GoDone {
  requests: number;
  failures: number;
  /** requests that got a fresh connection (GotConn Reused=false) */
  newConnections: number;
  reusedConnections: number;
  /** TCP connections the transport dialed */
  dials: number;
  startMs: number;
  endMs: number;
  leaked: number;
}

export interface GoClient {
  pid: number;
  /** start the requests (the client waits for this, so a watch can attach first) */
  go(): void;
  requests: GoRequest[];
  errors: string[];
  /** the final counts, printed after the last request (before the hold) */
  done: Promise<GoDone>;
  exited: Promise<number | null>;
  kill(): void;
}

const live = new Set<ChildProcess>();

type GoClientLine =
  | { event: 'ready' }
  | { event: 'request'; request: GoRequest }
  | { event: 'error'; error: string }
  | { event: 'done'; done: GoDone };

function parseGoClientLine(line: string): GoClientLine {
  const m = JSON.parse(line) as Record<string, unknown> & { event: string };
  if (m.event === 'request') return { event: 'request', request: m as unknown as GoRequest };
  if (m.event === 'error') return { event: 'error', error: String(m.error) };
  if (m.event === 'done') return { event: 'done', done: m as unknown as GoDone };
  if (m.event === 'ready') return { event: 'ready' };
  throw new Error(`not a line of the Go client: ${line}`);
}

/** The client's report read back from its output (e.g. `sockwatch run`'s stderr); other lines are skipped. */
export function goClientOutput(text: string): { requests: GoRequest[]; errors: string[]; done?: GoDone } {
  const out: { requests: GoRequest[]; errors: string[]; done?: GoDone } = { requests: [], errors: [] };
  for (const line of text.split('\n')) {
    // (Go's json.Marshal sorts a map's keys: "event" is not first)
    if (!line.startsWith('{') || !line.includes('"event":')) continue;
    const m = parseGoClientLine(line);
    if (m.event === 'request') out.requests.push(m.request);
    else if (m.event === 'error') out.errors.push(m.error);
    else if (m.event === 'done') out.done = m.done;
  }
  return out;
}

/** The client's flags for `o` (without the gate: for a client started by someone else, e.g. `sockwatch run`). */
export function goClientArgs(o: GoClientOptions): string[] {
  return [
    '-url', o.url, '-mode', o.mode, '-interval', `${o.intervalMs}ms`,
    '-count', String(o.count ?? 0), '-duration', `${o.durationMs ?? 0}ms`, '-hold', `${o.holdMs ?? 0}ms`,
    ...(o.quiet ? ['-quiet'] : []),
    ...(o.keepOpen ? ['-keep-open'] : []),
    ...(o.tls ? ['-tls'] : []),
    ...(o.h2 ? ['-h2'] : []),
  ];
}

export async function startGoClient(o: GoClientOptions): Promise<GoClient> {
  const bin = buildGoClient();
  const args = ['-wait-stdin', ...goClientArgs(o)];
  const child = spawn(bin, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(o.user ? { uid: o.user.uid, gid: o.user.gid } : {}),
  });
  live.add(child);
  child.stdin?.on('error', () => {}); // EPIPE once it exited
  const requests: GoRequest[] = [];
  const errors: string[] = [];
  let buf = '';
  let stderr = '';
  let onReady: (() => void) | undefined;
  let onDone: ((d: GoDone) => void) | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
  child.stdout?.on('data', (b: Buffer) => {
    buf += b.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = parseGoClientLine(line);
      if (m.event === 'ready') onReady?.();
      else if (m.event === 'request') requests.push(m.request);
      else if (m.event === 'error') errors.push(m.error);
      else if (m.event === 'done') onDone?.(m.done);
    }
  });
  await new Promise<void>((resolve, reject) => {
    onReady = resolve;
    child.once('error', reject);
    void exited.then((code) => reject(new Error(`go client exited ${String(code)} before ready: ${stderr}`)));
  });
  const done = new Promise<GoDone>((resolve, reject) => {
    onDone = resolve;
    void exited.then((code) => reject(new Error(`go client exited ${String(code)} without its counts: ${stderr}`)));
  });
  done.catch(() => {}); // a test that never awaits it must not crash on the rejection
  if (child.pid === undefined) throw new Error('go client has no pid');
  return {
    pid: child.pid,
    go: () => child.stdin?.end('go\n'),
    requests,
    errors,
    done,
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}

export function killAllGoClients(): void {
  for (const c of live) c.kill('SIGKILL');
}

process.once('exit', killAllGoClients);
