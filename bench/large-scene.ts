// The large scene (issue 23): a host with ≥ 100,000 TCP sockets, as a busy proxy's host has.
// Three sinks hold ~16,700 accepted connections each (under the 20,000-fd hard limit a child
// inherits when prlimit cannot raise it), filled by holders of the same size; every sink listens
// on two 127.1.S.x addresses so no destination needs more than ~8,400 ephemeral source ports.
// Targets are then added on top and removed again (scene.ts's buildTarget).
import { startSink, startHolder } from './scene';

/** Background connections: both ends count, so 100,200 host sockets before any target. */
export const LARGE_BACKGROUND = 50_100;
const SINKS = 3;
const ADDRESSES_PER_SINK = 2;

/** Builds the large background; resolves its build time in ms. */
export async function buildLargeBackground(connections = LARGE_BACKGROUND): Promise<number> {
  const t0 = Date.now();
  const perSink = Math.ceil(connections / SINKS);
  const holders: Promise<unknown>[] = [];
  for (let s = 0; s < SINKS; s++) {
    const addresses = Array.from({ length: ADDRESSES_PER_SINK }, (_, i) => `127.1.${s + 1}.${i + 1}`);
    const endpoints = await startSink(addresses, perSink + 1000);
    holders.push(startHolder(endpoints, perSink, 0));
  }
  await Promise.all(holders);
  return Date.now() - t0;
}
