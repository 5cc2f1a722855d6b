// Builds the bench's scene on loopback: a sink holding every accepted connection, background
// holders that fill the host's TCP table, and the target holding its own connections.
// Loopback only (127.0.0.x), ephemeral ports only.
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { maxFdsPerChild, spawnNode, waitForLine } from './children-registry';

export interface SceneSpec {
  /** TCP sockets on the host once built (both ends of each loopback connection count) */
  hostSockets: number;
  targetConnections: number;
}

export interface Scene {
  targetPid: number;
  targetConnections: number;
  backgroundConnections: number;
  /** counted from /proc/net/tcp{,6} after building */
  hostSockets: number;
  buildMs: number;
}

export interface Endpoint {
  address: string;
  port: number;
}

/** An ephemeral source port is unique per destination; stay well under the 28,232 ports. */
const CONNECTIONS_PER_ENDPOINT = 12_000;
/** Per background holder: under a default 20,000-fd hard limit when prlimit cannot raise it. */
const PER_HOLDER = 9_000;

export const CHILD_DIR = path.join(__dirname, 'children');

const isEndpoints = (v: unknown): v is { endpoints: Endpoint[] } =>
  typeof v === 'object' && v !== null && Array.isArray((v as { endpoints?: unknown }).endpoints);
const isReady = (v: unknown): v is { ready: number; failed: number } =>
  typeof v === 'object' && v !== null && typeof (v as { ready?: unknown }).ready === 'number';

export async function startSink(addresses: string[], fds: number): Promise<Endpoint[]> {
  const child = spawnNode(path.join(CHILD_DIR, 'sink.js'), addresses, fds);
  return (await waitForLine(child, isEndpoints, 10_000)).endpoints;
}

export async function startHolder(endpoints: Endpoint[], count: number, traffic: number): Promise<{ pid: number; ready: number }> {
  const args = [JSON.stringify(endpoints), String(count)];
  if (traffic > 0) args.push('--traffic', String(traffic));
  const child = spawnNode(path.join(CHILD_DIR, 'holder.js'), args, count + 1000);
  const r = await waitForLine(child, isReady, 180_000);
  if (r.failed > 0) process.stderr.write(`bench: holder ${child.pid}: ${r.failed} connections failed\n`);
  return { pid: child.pid!, ready: r.ready };
}

/** TCP sockets in /proc/net/tcp{,6}, TIME_WAIT left out (earlier runs leave those for 60 s). */
export function countHostTcpSockets(): number {
  let n = 0;
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(f, 'latin1');
    } catch {
      continue; // no IPv6
    }
    for (const line of text.split('\n').slice(1)) {
      const state = line.trim().split(/\s+/)[3];
      if (state !== undefined && state !== '06') n++;
    }
  }
  return n;
}

function addressesFor(first: number, connections: number): string[] {
  const n = Math.max(1, Math.ceil(connections / CONNECTIONS_PER_ENDPOINT));
  return Array.from({ length: n }, (_, i) => `127.0.0.${first + i}`);
}

/**
 * Background and target use separate sinks and addresses, so the background can be built once
 * and targets of different sizes added and removed on top of it.
 */
export async function buildBackground(connections: number): Promise<number> {
  const t0 = Date.now();
  if (connections <= 0) return 0;
  const endpoints = await startSink(addressesFor(2, connections), connections + 1000);
  const holders: Promise<unknown>[] = [];
  for (let left = connections; left > 0; left -= PER_HOLDER) holders.push(startHolder(endpoints, Math.min(PER_HOLDER, left), 0));
  await Promise.all(holders);
  return Date.now() - t0;
}

/** Returns the target's PID and how many connections it really holds. */
export async function buildTarget(wanted: number, firstAddress: number): Promise<{ pid: number; connections: number }> {
  // one process holds the target's connections: without a way to raise its fd limit, that caps it
  const connections = Math.min(wanted, maxFdsPerChild());
  const endpoints = await startSink(addressesFor(firstAddress, connections), connections + 1000);
  const t = await startHolder(endpoints, connections, Math.min(50, connections));
  return { pid: t.pid, connections: t.ready };
}

export async function buildScene(spec: SceneSpec): Promise<Scene> {
  const t0 = Date.now();
  const background = Math.max(0, Math.round((spec.hostSockets - 2 * spec.targetConnections) / 2));
  await buildBackground(background);
  const target = await buildTarget(spec.targetConnections, 100);
  return {
    targetPid: target.pid,
    targetConnections: target.connections,
    backgroundConnections: background,
    hostSockets: countHostTcpSockets(),
    buildMs: Date.now() - t0,
  };
}
