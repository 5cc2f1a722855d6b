// The process table read from the real /proc: a child tree this test starts is found by name,
// by PID with its descendants, and forgotten once it exits.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { spawn } from 'node:child_process';
import { readProcessTable, readProcessEntry } from '../../src/process/process-table';
import { selectTargets } from '../../src/process/target-selection';

test('a spawned sh → sleep tree is found by PID with --children and by argv[0] name, then forgotten', async () => {
  // sh -c runs sleep as a child (not exec'd: a second command follows it)
  const sh = spawn('/bin/sh', ['-c', 'sleep 30; true'], { stdio: 'ignore', detached: true });
  try {
    let kids: number[] = [];
    for (let i = 0; i < 50 && kids.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 20));
      kids = selectTargets(readProcessTable(), { pids: [sh.pid!], children: true });
    }
    assert.equal(kids.length, 2, `sh and its sleep child: ${kids.join(',')}`);
    assert.equal(kids[0], sh.pid);
    const sleep = readProcessEntry(kids[1]!);
    assert.equal(sleep?.ppid, sh.pid);
    assert.equal(sleep?.comm, 'sleep');
    assert.ok(selectTargets(readProcessTable(), { pids: [], name: 'sleep', children: false }).includes(kids[1]!));
  } finally {
    process.kill(-sh.pid!, 'SIGKILL'); // the group: the sleep too
  }
  await new Promise((r) => sh.once('exit', r));
  assert.equal(readProcessEntry(sh.pid!), undefined, 'an exited (reaped) process is not in the table');
});
