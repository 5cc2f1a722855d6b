// Forged sockwatch.event/1 recordings, as fast-check arbitraries: the shape a recorder writes
// (json-shapes.ts) with every number and string replaced by what an attacker might choose —
// 1e-9 and 1e308 intervals, negative and NaN-ish counts, times from year 0 to 275760, long and
// control-laden strings, deep nesting and `__proto__` keys. Used by the unit tests (the reader and
// plan directly) and the CLI tests (replay and report as child processes).
import fc from 'fast-check';

const T0 = Date.parse('2026-01-01T12:00:00.000Z');

/** Numbers no watch writes. Strings too: a field that should be a number may be "NaN". */
export const absurdNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(1e-9, 1e308, -1e308, -1, 0, -0, 5e-324, Number.MAX_SAFE_INTEGER + 2, 2 ** 53, 1e21, 0.5),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e999', '', '0x10', null, true, [], {}),
);

/** ISO times far outside any watch, and not times at all. */
export const absurdTime: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('+275760-09-13T00:00:00.000Z', '-271821-04-20T00:00:00.000Z', '1970-01-01T00:00:00.000Z', 'yesterday', '', 42),
  fc.integer({ min: -1e6, max: 1e7 }).map((s) => new Date(T0 + s * 1000).toISOString()),
);

/** Control and bidi characters, long runs, astral characters. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\u001b]0;T\u0007\u001b[2J', 'ab\u202egnp.exe', '\u200b', '=cmd|x', '__proto__'),
  fc.integer({ min: 1, max: 200_000 }).map((n) => 'x'.repeat(n)),
);

// A marker replaced by the nesting itself once the line is text: JSON.stringify would overflow.
const nested = (depth: number): string => `@@deep:${depth}@@`;
const unnest = (line: string): string => line.replace(/"@@deep:(\d+)@@"/g, (_, d: string) => '['.repeat(Number(d)) + ']'.repeat(Number(d)));

const endpoint = fc.record({ address: fc.oneof(fc.constant('127.0.0.1'), hostileString), port: fc.oneof(fc.integer({ min: 0, max: 65535 }), absurdNumber) });

const connection = fc.record({
  protocol: fc.constantFrom('tcp', 'tcp6', 'udp'),
  local: endpoint,
  remote: endpoint,
  state: fc.constantFrom('ESTABLISHED', 'CLOSE_WAIT', 'BOGUS'),
  inode: absurdNumber,
  fd: absurdNumber,
  id: fc.oneof(fc.integer({ min: 0, max: 50 }).map((i) => `c${i}`), hostileString),
  firstSeen: absurdTime,
  exchanges: absurdNumber,
  direction: fc.oneof(fc.constantFrom('inbound', 'outbound'), hostileString),
  tcp: fc.record({ bytesSent: absurdNumber, bytesReceived: absurdNumber, rttMs: absurdNumber, retransmits: absurdNumber, cookie: hostileString }),
  timer: fc.record({ kind: fc.constantFrom('keepalive', 'retransmit'), expiresMs: absurdNumber, probes: absurdNumber }),
});

const event: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ type: fc.constantFrom('open', 'close', 'state'), time: absurdTime, connection, lifetimeMs: absurdNumber, from: fc.constant('ESTABLISHED'), to: fc.constant('CLOSE_WAIT'), brief: fc.boolean() }),
  fc.record({ type: fc.constant('exit'), time: absurdTime, reason: fc.oneof(fc.constantFrom('exited', 'pid_reused'), hostileString), process: fc.record({ pid: absurdNumber, command: hostileString, cmdline: hostileString, user: hostileString }) }),
  fc.record({ type: fc.constant('finding'), time: absurdTime, finding: fc.record({ kind: hostileString, message: hostileString, since: absurdTime, ids: fc.array(hostileString, { maxLength: 5 }) }) }),
  fc.record({ type: fc.constant('summary'), time: absurdTime, opened: fc.oneof(absurdNumber, fc.integer({ min: 1, max: 100_000 }).map(nested)), closed: absurdNumber, peak: absurdNumber, durationMs: absurdNumber, connections: fc.array(connection, { maxLength: 3 }), findings: fc.array(fc.record({ kind: hostileString, count: absurdNumber, ids: fc.array(hostileString, { maxLength: 3 }) }), { maxLength: 2 }) }),
  fc.constantFrom<Record<string, unknown>>({ type: 'mystery', time: new Date(T0).toISOString() }, JSON.parse('{"type":"open","__proto__":{"polluted":1},"time":"2026-01-01T12:00:01.000Z"}') as Record<string, unknown>),
);

export const hostileStart = fc.record({
  intervalMs: fc.oneof(absurdNumber, fc.constant(1e-9)),
  time: fc.constant(new Date(T0).toISOString()),
  command: hostileString,
  cmdline: hostileString,
  states: fc.oneof(fc.constant(['ESTABLISHED']), fc.array(fc.constantFrom('ESTABLISHED', 'CLOSE_WAIT', 'X'), { maxLength: 100 })),
});

/** The lines of a forged recording: a start line, then events (some of them not even JSON). */
export const hostileRecording: fc.Arbitrary<string[]> = fc
  .tuple(
    hostileStart,
    fc.array(fc.oneof({ weight: 8, arbitrary: event.map((e) => unnest(JSON.stringify({ pid: 1, ...e }))) }, { weight: 1, arbitrary: hostileString }), { maxLength: 30 }),
  )
  .map(([s, events]) => [
    JSON.stringify({ schema: 'sockwatch.event/1', type: 'start', time: s.time, pid: 1, process: { pid: 1, command: s.command, cmdline: s.cmdline, user: 'u' }, intervalMs: s.intervalMs, source: 'procfs', states: s.states }),
    ...events,
  ]);
