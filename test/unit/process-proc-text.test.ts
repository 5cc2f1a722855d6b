import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  cmdlineFromProc,
  parseBootTime,
  parseProcStat,
  parseStatusUids,
  startTimeIso,
} from '../../src/process/proc-text';
import { parsePasswd } from '../../src/process/user-names';

// a real stat line's shape: pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
// majflt cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime ...
const statLine = (comm: string, state = 'S', start = 123456): string =>
  `4242 (${comm}) ${state} 1 4242 4242 0 -1 4194560 1021 0 0 0 12 3 0 0 20 0 11 0 ${start} 1216512000 12000 18446744073709551615 1 1 0 0 0 0 0 4096 134234626 0 0 0 17 1 0 0 0 0 0\n`;

describe('parseProcStat', () => {
  it('reads state, parent (field 4) and start ticks (field 22)', () => {
    assert.deepEqual(parseProcStat(statLine('node')), { state: 'S', ppid: 1, startTicks: 123456 });
  });

  it('survives a comm with spaces and ") ("', () => {
    assert.deepEqual(parseProcStat(statLine('a) (b c) 9 9 (')), { state: 'S', ppid: 1, startTicks: 123456 });
    assert.deepEqual(parseProcStat(statLine(') R 1 2 3')), { state: 'S', ppid: 1, startTicks: 123456 });
    assert.deepEqual(parseProcStat(statLine('')), { state: 'S', ppid: 1, startTicks: 123456 });
  });

  it('reports a zombie state as such', () => {
    assert.equal(parseProcStat(statLine('x', 'Z'))?.state, 'Z');
  });

  it('rejects truncated or garbage text', () => {
    assert.equal(parseProcStat('4242 (node) S 1 2 3'), undefined);
    assert.equal(parseProcStat('no parenthesis at all'), undefined);
    assert.equal(parseProcStat(''), undefined);
    assert.equal(parseProcStat(statLine('x', 'S').replace(' 123456 ', ' 12x456 ')), undefined);
  });
});

describe('other /proc text', () => {
  it('btime from /proc/stat', () => {
    assert.equal(parseBootTime('cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n'), 1700000000);
    assert.equal(parseBootTime('cpu 1\n'), undefined);
  });

  it('start time = btime + ticks / 100', () => {
    assert.equal(startTimeIso(12345, 1700000000), '2023-11-14T22:15:23.450Z');
  });

  it('Uid line of /proc/PID/status: real and effective', () => {
    assert.deepEqual(parseStatusUids('Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t5\t5\t5\t5\n'), { real: 1000, effective: 0 });
    assert.equal(parseStatusUids('Name:\tx\n'), undefined);
  });

  it('cmdline: NULs become spaces, trailing NULs go', () => {
    assert.equal(cmdlineFromProc('node\0server.js\0--port\x000\0'), 'node server.js --port 0');
    assert.equal(cmdlineFromProc(''), '');
  });

  it('passwd: uid → first name, comments and junk skipped', () => {
    const names = parsePasswd('root:x:0:0::/root:/bin/sh\n# c\nbad\nnobody:x:65534:65534::/:/x\ntoor:x:0:0::/:/x\n:x:5:5::/:/x\n');
    assert.equal(names.get(0), 'root');
    assert.equal(names.get(65534), 'nobody');
    assert.equal(names.has(5), false);
    assert.equal(names.size, 2);
  });
});
