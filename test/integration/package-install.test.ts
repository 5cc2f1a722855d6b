// What a user installs is what `npm pack` makes: the tarball goes into a clean prefix the way the
// README says (`npm install -g --prefix DIR ./sockwatch-*.tgz`, dependencies from the registry or
// npm's cache), and the installed `sockwatch` runs from there — its version, the demo (child scripts
// loaded by path) and a snapshot of a real process (koffi's native module). A file the
// package.json "files" list leaves out, or a dependency that needed its install script, fails here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, ndjson } from '../helpers/cli';
import { HOLDER_SCRIPT } from '../helpers/holder-script';

const ROOT = path.join(path.dirname(CLI), '..');
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (killed after `timeoutMs`); never rejects, the caller asserts. */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs, maxBuffer: 16 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr: err !== null && code === null ? `${stderr}\n(${err.message})` : stderr });
    });
  });
}

/**
 * npm as a user runs it: without the npm_* variables `npm test` puts in its scripts' environment
 * (npm_config_prefix, npm_config_global, … would redirect or reshape the install).
 */
function userEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
}

describe('the package as installed from its tarball', () => {
  let work: string;
  let installed: string;
  let bin: string;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-pack-'));
    // `npm test` has just built dist/; --ignore-scripts: `prepare` would build it all over again
    const pack = await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: ROOT, env: userEnv(), timeoutMs: 60_000 });
    assert.equal(pack.code, 0, `npm pack failed:\n${pack.stderr}`);
    const tarball = `sockwatch-${VERSION}.tgz`;
    assert.ok(fs.existsSync(path.join(work, tarball)), `npm pack wrote no ${tarball} in ${work}: ${fs.readdirSync(work).join(', ')}`);

    const prefix = path.join(work, 'prefix');
    const install = await run('npm', ['install', '-g', '--prefix', prefix, `./${tarball}`, '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: work,
      env: userEnv(),
      timeoutMs: 120_000,
    });
    assert.equal(install.code, 0, `npm could not install the packed tarball (the registry or npm's cache must be reachable for its dependencies):\n${install.stderr}`);
    installed = path.join(prefix, 'lib', 'node_modules', 'sockwatch');
    bin = path.join(prefix, 'bin', 'sockwatch');
    assert.ok(fs.existsSync(bin), `npm installed no bin/sockwatch under ${prefix}`);
  });

  after(() => {
    if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
  });

  it('ships what runs, and no tests, benchmarks or build state', () => {
    const files = fs.readdirSync(installed, { recursive: true, encoding: 'utf8' }).filter((f) => !f.startsWith('node_modules'));
    for (const f of ['package.json', 'README.md', 'bin/sockwatch.js', 'dist/src/cli/sockwatch.cjs', 'dist/src/cli/sockwatch-full.cjs', 'dist/src/cli/main.js', 'dist/src/demo/demo-client.js', 'prometheus/sockwatch-alerts.yml', 'docs/metrics.md']) {
      assert.ok(files.includes(f), `the package lacks ${f}`);
    }
    const extra = files.filter((f) => /^dist\/(test|bench)(\/|$)|\.tsbuildinfo$|\.map$|\.ts$/.test(f));
    assert.deepEqual(extra, [], 'the package ships files that never run');
  });

  it('sockwatch --version prints the package version', async () => {
    const r = await run(bin, ['--version'], { cwd: work, timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), VERSION);
  });

  it('sockwatch demo --duration 3s watches the demo client and writes its report', async () => {
    const report = path.join(work, 'demo.html');
    const r = await run(bin, ['demo', '--duration', '3s', '--json', '--report', report], { cwd: work, timeoutMs: 40_000 });
    assert.equal(r.code, 0, `demo failed:\n${r.stderr}`);
    const events = ndjson(r.stdout);
    assert.ok(events.some((e) => e.type === 'open'), `the demo printed no open event:\n${r.stdout.slice(0, 2000)}`);
    assert.ok(events.some((e) => e.type === 'summary'), 'the demo printed no summary');
    assert.match(fs.readFileSync(report, 'utf8'), /^<!doctype html>/i);
  });

  it('sockwatch snapshot sees the loopback connections a process holds, through koffi', async () => {
    // koffi resolves from the installed package, as its own require() would find it
    const req = createRequire(path.join(installed, 'package.json'));
    for (const addon of ['koffi']) {
      assert.doesNotThrow(() => req(addon), `${addon} does not load from the installed package`);
    }
    const holder: ChildProcess = spawn(process.execPath, ['-e', HOLDER_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const held = await new Promise<{ pid: number; ports: number[] }>((resolve, reject) => {
        let out = '';
        holder.stdout?.on('data', (b: Buffer) => {
          out += b.toString('utf8');
          if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as { pid: number; ports: number[] });
        });
        holder.once('exit', (code) => reject(new Error(`the holder exited (${code}) before connecting`)));
      });
      const r = await run(bin, ['snapshot', String(held.pid), '--format', 'json', '--source', 'netlink'], { cwd: work, timeoutMs: 20_000 });
      assert.equal(r.code, 0, r.stderr);
      const snap = JSON.parse(r.stdout) as { source: string; process: { pid: number }; connections: { local: { port: number }; remote: { port: number } }[] };
      assert.equal(snap.source, 'netlink');
      assert.equal(snap.process.pid, held.pid);
      const localPorts = snap.connections.map((c) => c.local.port);
      for (const port of held.ports) assert.ok(localPorts.includes(port), `snapshot lacks the holder's connection from port ${port}: ${r.stdout}`);
    } finally {
      holder.stdin?.end();
      holder.kill();
    }
  });
});
