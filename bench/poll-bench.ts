// Steady-state polling, in this process, through the real sources. The sources' clocks are
// replaced by one that advances one interval per poll, so the rescan rules behave as in
// `watch --interval 1s` while the polls themselves run back to back.
import type { StateFilter } from '../src/model';
import { createNetlinkSource } from '../src/sources/netlink/netlink-source';
import { createProcfsSource } from '../src/sources/procfs/procfs-source';
import type { Source } from '../src/sources/source';
import { summarize, timeInProcess, type Sample, type Summary } from './measure';
import { keepYoungGenerationSmall, tuneYoungGenerationFor } from '../src/util/long-run-heap';

/** What `watch` asks its source for every poll: every state (--state only filters the views). */
export const POLL_STATES: StateFilter = 'all';
const INTERVAL_MS = 1000;

export interface PollResult {
  first: Summary;
  /** the polls after the first while V8 compiles the hot paths: a one-time cost, kept apart */
  warmup: Summary | undefined;
  /** every poll after the first: median = a steady poll, mean = amortized over the rescan rule */
  steady: Summary;
  connections: number;
  /** what the sources did, e.g. "3 table reads" */
  note: string;
}

/**
 * Polls after the first that are not counted as steady: V8 compiles the poll's hot paths over the
 * first few dozen polls (compiler threads' CPU included), once per process.
 */
const WARMUP_POLLS = 20;

async function pollLoop(source: Source, polls: number, counters: () => string, warmupPolls: number): Promise<PollResult> {
  const first: Sample[] = [];
  let connections = 0;
  // the young generation as `watch` sets it around its first poll (bench/run.ts set the rest of its heap settings)
  keepYoungGenerationSmall();
  first.push(await timeInProcess(async () => (connections = (await source.snapshot(POLL_STATES)).connections.length)));
  tuneYoungGenerationFor(connections);
  const warm: Sample[] = [];
  for (let i = 0; i < warmupPolls; i++) warm.push(await timeInProcess(() => source.snapshot(POLL_STATES)));
  const before = counters();
  const steady: Sample[] = [];
  for (let i = 0; i < polls; i++) steady.push(await timeInProcess(() => source.snapshot(POLL_STATES)));
  source.close();
  return { first: summarize(first), warmup: warm.length > 0 ? summarize(warm) : undefined, steady: summarize(steady), connections, note: `${before} → ${counters()}` };
}

export async function benchProcfs(pid: number, polls: number, warmupPolls = WARMUP_POLLS): Promise<PollResult> {
  let now = 0;
  const source = await createProcfsSource(pid, { nowMs: () => (now += INTERVAL_MS) });
  return pollLoop(source, polls, () => `${source.tableReads} table reads`, warmupPolls);
}

export async function benchNetlink(pid: number, polls: number, opts: { warmupPolls?: number } = {}): Promise<PollResult> {
  let now = 0;
  const source = await createNetlinkSource(pid, { nowMs: () => (now += INTERVAL_MS) });
  return pollLoop(source, polls, () => {
    const c = source.counters();
    return `${c.dumps} dumps, ${c.filteredDumps} filtered dumps, ${c.lookups} lookups`;
  }, opts.warmupPolls ?? WARMUP_POLLS);
}
