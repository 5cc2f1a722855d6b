// PID reuse, forced for real: in a new PID namespace the harness kills the watched target and
// gives its PID to a new process (ns_last_pid). sockwatch must say the PID now belongs to another
// process (exit reason pid_reused), not merely "exited". It runs inside the namespace and watches
// the namespace PID: ns_last_pid numbers that namespace only, the host PIDs of A and B differ.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { runHarness } from '../helpers/pid-reuse';

type Ev = { type: string; reason?: string; process?: { pid: number }; connection?: { local: { port: number }; preexisting?: boolean } };

describe('forced PID reuse in a PID namespace', () => {
  it('can run: root and unshare -p', () => {
    assert.equal(process.getuid?.(), 0, 'this test needs root (unshare -p, ns_last_pid)');
    assert.equal(spawnSync('unshare', ['-p', '-f', '--mount-proc', 'true']).status, 0, 'unshare -p -f --mount-proc is missing or not permitted');
  });

  for (const source of ['procfs', 'netlink', 'systeminformation']) {
    it(`--source ${source}: close of A's connection, then exit with reason pid_reused naming A`, async () => {
      const interval = source === 'systeminformation' ? 1000 : 400;
      const r = await runHarness(source, interval);
      assert.equal(r.error, undefined, r.error);
      assert.equal(r.b.pid, r.a.pid, 'the harness did not get A’s PID for B: the test proves nothing');
      assert.ok(r.swapMs < interval / 2, `the swap took ${r.swapMs} ms: a poll may have seen the PID free`);
      assert.equal(r.sockwatch.code, 0, r.sockwatch.stderr);
      const events = r.sockwatch.stdout.trim().split('\n').map((l) => JSON.parse(l) as Ev);
      const exits = events.filter((e) => e.type === 'exit');
      assert.equal(exits.length, 1, r.sockwatch.stdout);
      assert.equal(exits[0]!.reason, 'pid_reused', r.sockwatch.stdout);
      assert.equal(exits[0]!.process?.pid, r.a.pid);
      const iExit = events.indexOf(exits[0]!);
      const iClose = events.findIndex((e) => e.type === 'close' && e.connection?.local.port === r.a.localPort);
      assert.ok(iClose >= 0 && iClose < iExit, `A's connection must close before the exit:\n${r.sockwatch.stdout}`);
      assert.equal(events.at(-1)!.type, 'summary');
      // the newcomer is never adopted: none of B's connections is reported, the summary is A's
      assert.ok(!events.some((e) => e.connection?.local.port === r.b.localPort), `B's connection was reported:\n${r.sockwatch.stdout}`);
      const summary = events.at(-1) as Ev & { process?: { pid: number }; connections?: unknown[]; closed?: number };
      assert.deepEqual(summary.connections, [], 'nothing of B is live in the summary');
      assert.equal(summary.closed, 1, 'A\'s one connection');
    });
  }
});
