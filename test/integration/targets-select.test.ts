// Selecting targets as a user would: a name that does not exist yet (--wait), a name that never
// does, a parent whose sockets are all in its child (the --children hint), and serve --name
// following a service through a restart. The processes are this test's own, named by argv[0].
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { ndjson, runCli, sleep, startCli } from '../helpers/cli';

let server: net.Server;
let port = 0;
const children = new Set<ChildProcess>();
/** the server's side of every connection, so the end of the file closes them (a grandchild may hold the other side) */
const accepted = new Set<net.Socket>();
/** connections accepted since the start (never goes down, unlike accepted.size) */
let acceptedTotal = 0;

/** resolves once the server has accepted `n` more connections than it had at `before` */
async function acceptedMore(before: number, n = 1, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (acceptedTotal < before + n) {
    if (Date.now() > deadline) throw new Error(`the server accepted ${acceptedTotal - before} of ${n} connections in ${timeoutMs} ms`);
    await sleep(50);
  }
}

before(async () => {
  server = net.createServer((s) => {
    s.on('error', () => undefined);
    accepted.add(s);
    acceptedTotal++;
    s.on('close', () => accepted.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
after(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of accepted) s.destroy();
  server.close();
});

/** A node process named `name` (its argv[0]) holding `count` connections to the test's server. */
function holder(name: string, count = 1): ChildProcess {
  const code = `const net=require('net');for(let i=0;i<${count};i++){const s=net.connect(${port},'127.0.0.1');s.on('error',()=>{});}setInterval(()=>{},1000);`;
  const c = spawn(process.execPath, ['-e', code], { argv0: name, stdio: 'ignore' });
  children.add(c);
  return c;
}

const unique = (): string => `swtest-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

describe('selecting targets', { concurrency: 2 }, () => {
  it('--name with --wait waits for the process, then watches it', async () => {
    const name = unique();
    const cli = startCli(['watch', '--name', name, '--wait', '--json', '--brief', 'none', '--interval', '200ms', '--duration', '2s']);
    // the target starts only once sockwatch says it is waiting for it
    await cli.waitFor(new RegExp(`waiting.*${name}`, 'i'), 15_000, 'stderr');
    assert.equal(cli.child.exitCode, null, 'still waiting');
    const target = holder(name);
    const r = await cli.result;
    assert.equal(r.code, 0, r.stderr);
    const events = ndjson(r.stdout);
    const start = events.find((e) => e.type === 'start') as { process: { pid: number } };
    assert.equal(start.process.pid, target.pid);
    const opens = events.filter((e) => e.type === 'open') as { connection: { remote: { port: number }; pid: number } }[];
    assert.ok(opens.some((o) => o.connection.remote.port === port && o.connection.pid === target.pid), r.stdout);
    target.kill('SIGKILL');
  });

  it('a name that matches nothing, without --wait: exit 1, naming what was tried', async () => {
    const name = unique();
    const r = await runCli(['watch', '--name', name, '--json', '--brief', 'none', '--duration', '1s']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`^sockwatch: .*name "${name}"`));
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  it('a parent holding no TCP socket while its child does: the start event hints --children', async () => {
    const name = unique();
    // the child says when its connection is up, on the stdout it shares with the parent (a count of
    // the server's accepts would not do: the tests beside this one connect to it too)
    const code = `const {spawn}=require('child_process');const c=spawn(process.execPath,['-e',"const s=require('net').connect(${port},'127.0.0.1',()=>console.log('connected'));s.on('error',()=>{});setInterval(()=>{},1000)"],{stdio:['ignore','inherit','ignore']});process.on('SIGTERM',()=>{c.kill('SIGKILL');process.exit(0)});setInterval(()=>{},1000);`;
    const parent = spawn(process.execPath, ['-e', code], { argv0: name, stdio: ['ignore', 'pipe', 'ignore'] });
    children.add(parent);
    // the watch starts once the child's connection is there
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the child did not connect in 15 s (stdout: ${JSON.stringify(out)})`)), 15_000);
      parent.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('connected')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const r = await runCli(['watch', String(parent.pid), '--json', '--brief', 'none', '--duration', '1s']);
    assert.equal(r.code, 0, r.stderr);
    const start = ndjson(r.stdout)[0] as { type: string; hint?: string };
    assert.equal(start.type, 'start');
    assert.match(start.hint ?? '', /--children/);
    // with --children the child's connection is there, held by the child
    const withKids = await runCli(['watch', String(parent.pid), '--children', '--json', '--brief', 'none', '--duration', '1s']);
    const opens = ndjson(withKids.stdout).filter((e) => e.type === 'open') as { connection: { remote: { port: number }; pid: number } }[];
    assert.ok(opens.some((o) => o.connection.remote.port === port && o.connection.pid !== parent.pid), withKids.stdout);
    parent.kill('SIGTERM');
  });

  it('serve --name keeps running when the process exits and follows it when it comes back', async () => {
    const name = unique();
    const before = acceptedTotal;
    const first = holder(name);
    await acceptedMore(before);
    const cli = startCli(['serve', '--name', name, '--json', '--brief', 'none', '--interval', '200ms', '--metrics', '127.0.0.1:0']);
    await cli.waitFor(/"type":"open"/);
    first.kill('SIGKILL');
    await cli.waitFor(/"type":"exit"/);
    await sleep(500);
    assert.equal(cli.child.exitCode, null, 'serve is still running after the target exited');
    const second = holder(name, 2);
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline && !new RegExp(`"pid":${second.pid}`).test(cli.stdout())) await sleep(100);
    cli.child.kill('SIGTERM');
    const r = await cli.result;
    assert.equal(r.code, 0, r.stderr);
    const opens = ndjson(r.stdout).filter((e) => e.type === 'open') as { connection: { pid: number } }[];
    assert.equal(opens.filter((o) => o.connection.pid === second.pid).length, 2, r.stdout);
    second.kill('SIGKILL');
  });
});
