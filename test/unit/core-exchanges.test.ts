import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { firstExchangeState, nextExchangeState, type ExchangeSample, type ExchangeState } from '../../src/core/exchanges';

/**
 * The estimator under test run over one connection's samples. Not an oracle: the truth these
 * tests compare with is the traffic they generate (its exchanges are known by construction).
 */
function countExchanges(samples: readonly ExchangeSample[]): number {
  let state: ExchangeState | undefined;
  for (const s of samples) state = state === undefined ? firstExchangeState(s) : nextExchangeState(state, s);
  return state?.count ?? 0;
}

// ---- a connection's traffic as the kernel counts it, sampled at polls ------------------------

interface Send {
  atMs: number;
  /** 'out': this socket sent; 'in': it received */
  dir: 'out' | 'in';
  segments: number;
  bytes: number;
}

/**
 * The counters tcp_info gives for `sends` at each poll time: cumulative data segments and bytes,
 * and the idle times in whole jiffies of `jiffyMs` (the kernel's resolution), measured from
 * `openedAtMs` for a direction that has not moved yet.
 */
function sample(sends: readonly Send[], polls: readonly number[], opts: { jiffyMs?: number; openedAtMs?: number } = {}): ExchangeSample[] {
  const jiffy = opts.jiffyMs ?? 4;
  const opened = opts.openedAtMs ?? 0;
  const j = (ms: number): number => Math.floor(ms / jiffy);
  return polls.map((t) => {
    let segmentsSent = 0;
    let segmentsReceived = 0;
    let bytesSent = 0;
    let lastOut = opened;
    let lastIn = opened;
    for (const s of sends) {
      if (s.atMs > t) continue;
      if (s.dir === 'out') {
        segmentsSent += s.segments;
        bytesSent += s.bytes;
        lastOut = Math.max(lastOut, s.atMs);
      } else {
        segmentsReceived += s.segments;
        lastIn = Math.max(lastIn, s.atMs);
      }
    }
    return {
      bytesSent,
      segmentsSent,
      segmentsReceived,
      retransmits: 0,
      lastSendMs: (j(t) - j(lastOut)) * jiffy,
      lastReceiveMs: (j(t) - j(lastIn)) * jiffy,
    };
  });
}

interface Conversation {
  /** when each request leaves */
  requestTimes: readonly number[];
  /** ms from a request to its reply */
  latencyMs: number;
  requestSegments?: number;
  replySegments?: number;
  /** the socket watched: the client's ('out' = requests) or the server's accepted one */
  side: 'client' | 'server';
}

function conversation(c: Conversation): Send[] {
  const req = c.side === 'client' ? 'out' : 'in';
  const rep = c.side === 'client' ? 'in' : 'out';
  return c.requestTimes.flatMap((t) => [
    { atMs: t, dir: req, segments: c.requestSegments ?? 1, bytes: 120 },
    { atMs: t + c.latencyMs, dir: rep, segments: c.replySegments ?? 1, bytes: 900 },
  ]);
}

function every(stepMs: number, fromMs: number, toMs: number): number[] {
  const out: number[] = [];
  for (let t = fromMs; t <= toMs; t += stepMs) out.push(t);
  return out;
}

const within = (n: number, truth: number): boolean => Math.abs(n - truth) <= Math.max(1, truth * 0.1);

// ---- the cases of issue 9 ---------------------------------------------------------------------

test('a request every 500 ms watched at the default 1 s: every request counted, client and server side', () => {
  const requests = every(500, 137, 137 + 19 * 500); // 20 requests
  for (const side of ['client', 'server'] as const) {
    for (const latencyMs of [0.2, 3, 60]) {
      const sends = conversation({ requestTimes: requests, latencyMs, side });
      const n = countExchanges(sample(sends, every(1000, 0, 11_000)));
      assert.equal(n, 20, `${side}, latency ${latencyMs} ms`);
    }
  }
});

test('400 requests/s for 5 s on one connection, polled every second: within 10 %', () => {
  const requests = every(2.5, 10, 10 + 1999 * 2.5);
  for (const side of ['client', 'server'] as const) {
    const sends = conversation({ requestTimes: requests, latencyMs: 0.4, side });
    const n = countExchanges(sample(sends, every(1000, 0, 6000)));
    assert.ok(within(n, 2000), `${side}: ${n}`);
    assert.ok(n <= 2000, `${side}: ${n} is more than the requests`);
  }
});

test('a back-to-back loop (next request as soon as the reply lands): at most one short per poll', () => {
  const sends: Send[] = [];
  for (let i = 0, t = 5; i < 3000; i++, t += 1) {
    sends.push({ atMs: t, dir: 'out', segments: 1, bytes: 80 }, { atMs: t + 0.9, dir: 'in', segments: 1, bytes: 200 });
  }
  const polls = every(1000, 0, 4000);
  const n = countExchanges(sample(sends, polls));
  assert.ok(n >= 3000 - polls.length && n <= 3000, `${n}`);
});

test('replies of many segments: the single-segment requests are counted, not the reply segments', () => {
  const requests = every(500, 20, 20 + 29 * 500);
  for (const side of ['client', 'server'] as const) {
    for (const latencyMs of [1, 250, 700]) {
      const sends = conversation({ requestTimes: requests, latencyMs, replySegments: 7, side });
      const n = countExchanges(sample(sends, every(1000, 0, 17_000)));
      assert.equal(n, 30, `${side}, latency ${latencyMs}`);
    }
  }
});

test('requests written in two segments (headers, then body) with one-segment replies', () => {
  const requests = every(100, 50, 50 + 99 * 100);
  const sends = conversation({ requestTimes: requests, latencyMs: 30, requestSegments: 2, side: 'client' });
  assert.equal(countExchanges(sample(sends, every(1000, 0, 12_000))), 100);
});

test('both sides multi-segment: over-counts by the smaller segment count (the documented limit)', () => {
  const requests = every(200, 50, 50 + 49 * 200);
  const sends = conversation({ requestTimes: requests, latencyMs: 10, requestSegments: 2, replySegments: 5, side: 'client' });
  assert.equal(countExchanges(sample(sends, every(1000, 0, 11_000))), 100);
});

test('pipelined requests sharing a segment: under-counts (the documented limit)', () => {
  // 10 bursts of 5 requests in one segment, answered by 5 one-segment replies
  const sends: Send[] = [];
  for (let b = 0; b < 10; b++) {
    sends.push({ atMs: 100 + b * 300, dir: 'out', segments: 1, bytes: 500 });
    for (let r = 0; r < 5; r++) sends.push({ atMs: 101 + b * 300 + r, dir: 'in', segments: 1, bytes: 300 });
  }
  assert.equal(countExchanges(sample(sends, every(1000, 0, 4000))), 10);
});

test('an upload then a download: surplus segments of an answered message are not carried over', () => {
  const sends: Send[] = [
    // a POST of 40 segments answered by one, then a GET of one answered by 40, each in its own poll
    { atMs: 100, dir: 'out', segments: 40, bytes: 40 * 1448 },
    { atMs: 150, dir: 'in', segments: 1, bytes: 200 },
    { atMs: 1100, dir: 'out', segments: 1, bytes: 100 },
    { atMs: 1150, dir: 'in', segments: 40, bytes: 40 * 1448 },
  ];
  assert.equal(countExchanges(sample(sends, [0, 1000, 2000])), 2);
});

test('an exchange straddling polls is counted once, at the poll that sees its reply', () => {
  // request at 900, reply at 2100: polls at 1000 and 2000 see only the request
  const sends = conversation({ requestTimes: [900, 3900], latencyMs: 1200, side: 'client' });
  const samples = sample(sends, every(1000, 0, 6000));
  const counts: number[] = [];
  let s = firstExchangeState(samples[0]!);
  for (const x of samples.slice(1)) {
    s = nextExchangeState(s, x);
    counts.push(s.count);
  }
  assert.deepEqual(counts, [0, 0, 1, 1, 1, 2]);
});

test('a connection first seen mid-life: its cumulative counters count its history', () => {
  const sends = conversation({ requestTimes: every(50, 10, 10 + 99 * 50), latencyMs: 2, replySegments: 3, side: 'server' });
  // first poll long after 100 exchanges, then 40 more
  const more = conversation({ requestTimes: every(50, 10_000, 10_000 + 39 * 50), latencyMs: 2, replySegments: 3, side: 'server' });
  assert.equal(countExchanges(sample([...sends, ...more], [9000, 10_500, 11_000, 13_000])), 140);
  // one sample only: the history alone
  assert.equal(countExchanges(sample(sends, [9000])), 100);
  // a fresh connection that has not carried anything
  assert.equal(countExchanges(sample([], [0])), 0);
});

test('retransmitted segments are not counted as requests', () => {
  const base = { bytesSent: 100, lastSendMs: 5, lastReceiveMs: 0 };
  const s0 = firstExchangeState({ ...base, segmentsSent: 10, segmentsReceived: 10, retransmits: 0 });
  assert.equal(s0.count, 10);
  // 5 requests, 3 of them sent twice; 5 replies
  const s1 = nextExchangeState(s0, { ...base, segmentsSent: 18, segmentsReceived: 15, retransmits: 3 });
  assert.equal(s1.count, 15);
});

// ---- malformed and backwards counters ---------------------------------------------------------

const at = (segmentsSent: number, segmentsReceived: number, extra: Partial<ExchangeSample> = {}): ExchangeSample => ({
  bytesSent: segmentsSent * 100,
  segmentsSent,
  segmentsReceived,
  retransmits: 0,
  lastSendMs: 10,
  lastReceiveMs: 5,
  ...extra,
});

test('counters going backwards count nothing and the next growth is measured from the new value', () => {
  const s1 = firstExchangeState(at(50, 50));
  const s2 = nextExchangeState(s1, at(3, 3)); // glitch: another socket's counters, or a reset
  assert.equal(s2.count, 50); // bytesSent went backwards too: no burst either
  assert.equal(nextExchangeState(s2, at(8, 8)).count, 55);
  // one direction backwards is as bad as both
  assert.equal(nextExchangeState(s1, at(60, 40)).count, 50);
});

test('a u32 counter wrapping at 2^32 is growth, not a glitch', () => {
  const top = 2 ** 32 - 3;
  const s1 = firstExchangeState(at(top, top));
  assert.equal(nextExchangeState(s1, at(4, 4)).count, top + 7);
});

test('malformed counters (NaN, negative, infinite, missing) fall back to bursts of sending and never throw', () => {
  for (const bad of [NaN, -1, Infinity, undefined]) {
    const s1 = firstExchangeState(at(10, 10, { segmentsReceived: bad }));
    assert.equal(s1.count, 1, `${bad}: the first burst`);
    const s2 = nextExchangeState(s1, at(20, 20, { segmentsReceived: bad, bytesSent: bad === undefined ? 2000 : bad }));
    assert.ok(Number.isFinite(s2.count), `${bad}`);
  }
  // counters appearing later start from where they appear: no history invented
  const s1 = firstExchangeState(at(0, 0, { segmentsSent: undefined, segmentsReceived: undefined, bytesSent: 0 }));
  const s2 = nextExchangeState(s1, at(500, 500));
  assert.equal(s2.count, 1); // the burst only
  assert.equal(nextExchangeState(s2, at(503, 503)).count, 4);
});

// ---- the fallback: bursts of sending (kernels without data-segment counters) ------------------

const bytesOnly = (bytesSent: number): ExchangeSample => ({ bytesSent, retransmits: 0, lastSendMs: 0, lastReceiveMs: 0 });
const bursts = (series: number[]): number => countExchanges(series.map(bytesOnly));

test('fallback: growth after a poll without growth starts another exchange; a burst over several polls counts once', () => {
  assert.equal(bursts([]), 0);
  assert.equal(bursts([0, 0, 0]), 0);
  assert.equal(bursts([512]), 1);
  assert.equal(bursts([0, 100, 100, 200, 200, 300]), 3);
  assert.equal(bursts([100, 200, 300, 400]), 1);
  assert.equal(bursts([0, 100, 200, 300, 300, 400, 500]), 2);
  // backwards: no growth, and the next growth is seen
  const s2 = nextExchangeState(firstExchangeState(bytesOnly(1000)), bytesOnly(10));
  assert.equal(s2.count, 1);
  assert.equal(nextExchangeState(s2, bytesOnly(20)).count, 2);
});

// ---- any rate, any interval -------------------------------------------------------------------

test('property: non-pipelined conversations where one side fits a segment are counted exactly, at any rate and interval', () => {
  fc.assert(
    fc.property(
      fc.record({
        side: fc.constantFrom('client' as const, 'server' as const),
        gaps: fc.array(fc.double({ min: 0.5, max: 900, noNaN: true }), { minLength: 1, maxLength: 300 }),
        latencyMs: fc.double({ min: 0.05, max: 400, noNaN: true }),
        segments: fc.integer({ min: 1, max: 12 }),
        bigSide: fc.constantFrom('request' as const, 'reply' as const),
        intervalMs: fc.integer({ min: 20, max: 3000 }),
        jiffyMs: fc.constantFrom(1, 4, 10),
      }),
      (c) => {
        // the next request leaves only after the previous reply (no pipelining)
        const requestTimes: number[] = [];
        let t = 1;
        for (const g of c.gaps) {
          requestTimes.push(t);
          t += c.latencyMs + g;
        }
        const big = { [c.bigSide === 'request' ? 'requestSegments' : 'replySegments']: c.segments };
        const sends = conversation({ side: c.side, latencyMs: c.latencyMs, requestTimes, ...big });
        const polls = every(c.intervalMs, 0, t + c.intervalMs);
        const n = countExchanges(sample(sends, polls, { jiffyMs: c.jiffyMs }));
        return n === requestTimes.length;
      },
    ),
    { numRuns: 300 },
  );
});
