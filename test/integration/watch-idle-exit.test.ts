// Issue 20, item 6: a watch of an idle process ended once in 17 tries with `terminate called …
// Napi::Error`, exit 134 and no summary. Each watch here must end with exit 0 and its summary,
// while another process churns loopback connections so that destroy notifications keep arriving
// (during the watch, at its stop and at the process's exit), in line mode and with --json.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { runCli } from '../helpers/cli';
import { startNamespaceChurn, type Churner } from '../helpers/namespace-churn';

const RUNS = 4;

let idle: ChildProcess;
let churn: Churner;
before(async () => {
  idle = spawn('sleep', ['600'], { stdio: 'ignore' });
  churn = await startNamespaceChurn();
});
after(async () => {
  idle.kill('SIGKILL');
  await churn.stop();
});

for (const json of [false, true]) {
  test(`${RUNS} ${json ? '--json' : 'line-mode'} watches of an idle process each exit 0 with a summary`, async () => {
    for (let i = 0; i < RUNS; i++) {
      const r = await runCli(['watch', String(idle.pid), '--duration', '1s', ...(json ? ['--json'] : [])]);
      const what = `run ${i + 1}: exit ${r.code} ${r.signal ?? ''}\nstderr: ${r.stderr}`;
      assert.equal(r.signal, null, what);
      assert.equal(r.code, 0, what);
      assert.doesNotMatch(r.stderr, /terminate called|Napi/, what);
      const lines = r.stdout.trimEnd().split('\n');
      if (json) assert.equal((JSON.parse(lines.at(-1) ?? '') as { type: string }).type, 'summary', what);
      else assert.ok(lines.some((l) => /^summary: watched /.test(l)), `${what}\nstdout: ${r.stdout}`);
    }
  });
}
