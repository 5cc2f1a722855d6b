// Property tests of the /proc per-process text parsers: any text → no throw, only sane values;
// a stat line written as the kernel writes it (any comm, parentheses and spaces included) parses
// back; a stray ')' after comm is malformed, not a state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cmdlineFromProc, parseBootTime, parseProcStat, parseStatusUids, startTimeIso } from '../../src/process/proc-text';
import { parsePasswd } from '../../src/process/user-names';

const RUNS = { numRuns: 3000 };
const STATES = ['R', 'S', 'D', 'T', 't', 'X', 'Z', 'P', 'I'];

/** fs/proc/array.c do_task_stat, fields 1–52 (values after 22 are plausible constants). */
function statLine(pid: number, comm: string, state: string, startTicks: number | bigint, nice = 0): string {
  return `${pid} (${comm}) ${state} 1 ${pid} ${pid} 0 -1 4194560 1021 0 0 0 12 3 0 0 20 ${nice} 11 0 ${startTicks} 1216512000 12000 18446744073709551615 1 1 0 0 0 0 0 4096 134234626 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n`;
}

// comm: up to 15 bytes of anything but NUL and newline, as the kernel allows (prctl PR_SET_NAME)
const comm = fc.string({ maxLength: 15 }).map((s) => s.replace(/[\0\n]/g, '?'));

test('round trip: any comm, any state letter, any start time the kernel can print', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4_194_304 }), comm, fc.constantFrom(...STATES), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: -20, max: 19 }), (pid, c, state, start, nice) => {
      assert.deepEqual(parseProcStat(statLine(pid, c, state, start, nice)), { state, ppid: 1, startTicks: start });
    }),
    RUNS,
  );
});

test('any text, and near-miss stat lines: no throw; a state is one known letter, start ticks a safe integer', () => {
  const nearMiss = fc
    .tuple(comm, fc.constantFrom(...STATES), fc.nat(40), fc.constantFrom(')', '(', ') )', 'x', '', '-', '1e400', '99999999999999999999'))
    .map(([c, state, at, junk]) => {
      const parts = statLine(1234, c, state, 5678).split(' ');
      parts.splice(at % parts.length, 0, junk);
      return parts.join(' ');
    });
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 200 }), nearMiss), (text) => {
      const st = parseProcStat(text);
      if (st) {
        assert.ok(STATES.includes(st.state) || ['x', 'K', 'W'].includes(st.state), `state ${JSON.stringify(st.state)}`);
        assert.ok(Number.isSafeInteger(st.startTicks) && st.startTicks >= 0);
      }
    }),
    RUNS,
  );
});

test('a stray ")" after comm is malformed, not a state', () => {
  assert.equal(parseProcStat(statLine(1234, 'node', ')', 5678)), undefined);
  // (`1234 (node) ) S 1 …` stays valid: it is what a comm of "node) " looks like)
  assert.equal(parseProcStat(statLine(1234, "node", "S", 5678).replace(" 1216512000 ", " ) ")), undefined);
  // a start time past 2^53 would not compare exactly
  assert.equal(parseProcStat(statLine(1234, 'node', 'S', 2n ** 60n)), undefined);
});

test('startTimeIso never throws: a valid ISO string or undefined', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 999_999_999_999_999 }), (ticks, boot) => {
      const iso = startTimeIso(ticks, boot);
      if (iso !== undefined) assert.equal(new Date(iso).toISOString(), iso);
    }),
    RUNS,
  );
});

test('btime, Uid:, cmdline and passwd parsers: no throw, values in range, round trip', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 120 }), (text) => {
      const b = parseBootTime(text);
      if (b !== undefined) assert.ok(Number.isSafeInteger(b) && b >= 0);
      const u = parseStatusUids(text);
      if (u) for (const id of [u.real, u.effective]) assert.ok(Number.isInteger(id) && id >= 0 && id <= 0xffffffff);
      assert.equal(typeof cmdlineFromProc(text), 'string');
      for (const [uid, name] of parsePasswd(text)) assert.ok(Number.isInteger(uid) && uid >= 0 && name !== '');
    }),
    RUNS,
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.nat(2 ** 40), (real, eff, btime) => {
      assert.deepEqual(parseStatusUids(`Name:\tx\nUid:\t${real}\t${eff}\t${eff}\t${eff}\nGid:\t0\t0\t0\t0\n`), { real, effective: eff });
      assert.equal(parseBootTime(`cpu 1 2 3\nbtime ${btime}\nprocesses 5\n`), btime);
    }),
    RUNS,
  );
  assert.equal(parseStatusUids('Uid:\t4294967296\t0\t0\t0\n'), undefined);
  assert.equal(parseStatusUids('Uid:\t99999999999999999999999\t0\t0\t0\n'), undefined);
});
