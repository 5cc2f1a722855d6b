// What ships is what runs: bin/sockwatch.js loads esbuild's bundles (scripts/bundle-cli.js), the
// plain snapshot from the small entry bundle alone and everything else from the full one, and
// falls back to tsc's module tree only when the bundle is missing or older than tsc's last build.
// Every other CLI test runs bin/sockwatch.js; this file makes sure that meant the bundle.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startLoopbackClient, startLoopbackServer, stopLoopbackChildren, type LoopbackClient } from '../helpers/loopback';
import { CLI } from '../helpers/cli';

const ROOT = path.join(path.dirname(CLI), '..');
const DIST = path.join(ROOT, 'dist');
const TREE = path.join(DIST, 'src');
const ENTRY_BUNDLE = path.join(TREE, 'cli', 'sockwatch.cjs');
const FULL_BUNDLE = path.join(TREE, 'cli', 'sockwatch-full.cjs');
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** every file the CLI's process required, as require.cache names them (real paths) */
  modules: string[];
}

let work: string;

/** Runs `bin` (the real entry unless given) with a preload that writes require.cache's keys at exit. */
function runProbed(args: string[], bin = CLI): Run {
  const out = path.join(work, 'modules.json');
  fs.rmSync(out, { force: true });
  const r = spawnSync(process.execPath, ['-r', path.join(work, 'probe.js'), bin, ...args], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, SOCKWATCH_PROBE_OUT: out },
  });
  const modules = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, 'utf8')) as string[]) : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, modules };
}

/** Modules of tsc's tree (dist/src/**.js) that were loaded. */
const treeModules = (r: Run): string[] => r.modules.filter((m) => m.startsWith(TREE + path.sep) && m.endsWith('.js'));

describe('the shipped bundle', () => {
  let client: LoopbackClient;

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-bundle-'));
    fs.writeFileSync(
      path.join(work, 'probe.js'),
      "process.on('exit', () => require('fs').writeFileSync(process.env.SOCKWATCH_PROBE_OUT, JSON.stringify(Object.keys(require.cache))));\n",
    );
    const server = await startLoopbackServer();
    client = await startLoopbackClient([{ host: '127.0.0.1', port: server.ipv4Port, count: 3 }]);
  });
  after(async () => {
    await stopLoopbackChildren();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('was built by the test build, after tsc', () => {
    const hint = 'run `npm run build` (tsc alone does not bundle, and leaves an older bundle unused)';
    for (const f of [ENTRY_BUNDLE, FULL_BUNDLE]) assert.ok(fs.existsSync(f), `${f} is missing: ${hint}`);
    const tsc = fs.statSync(path.join(DIST, '.tsbuildinfo')).mtimeMs;
    assert.ok(fs.statSync(ENTRY_BUNDLE).mtimeMs >= tsc, `${ENTRY_BUNDLE} is older than tsc's last build: ${hint}`);
  });

  it('the plain snapshot loads the entry bundle alone: nothing of tsc’s tree, not the full CLI', () => {
    const r = runProbed(['snapshot', String(client.pid), '--format', 'csv']);
    assert.equal(r.status, 0, r.stderr);
    // truth from the client itself: its own sockets' ports
    const rows = r.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(','));
    assert.deepEqual(rows.map((f) => Number(f[3])).sort(), client.connections.map((c) => c.localPort).sort());
    assert.ok(r.modules.includes(ENTRY_BUNDLE), `entry bundle not loaded:\n${r.modules.join('\n')}`);
    assert.deepEqual(treeModules(r), [], 'modules of the unbundled tree were loaded');
    assert.ok(!r.modules.includes(FULL_BUNDLE), 'the plain snapshot loaded the full CLI');
  });

  it('every other command runs the full bundle, commander inside it', () => {
    const help = runProbed(['--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: sockwatch/m);
    const watch = runProbed(['watch', String(client.pid), '--json', '--duration', '300ms']);
    assert.equal(watch.status, 0, watch.stderr);
    const start = JSON.parse(watch.stdout.split('\n')[0]!) as { type: string; pid: number };
    assert.deepEqual([start.type, start.pid], ['start', client.pid]);
    // prom-client (external, about a hundred files) is for --metrics only
    assert.deepEqual(watch.modules.filter((m) => m.includes(`${path.sep}prom-client${path.sep}`)), [], 'a watch without --metrics loaded prom-client');
    for (const r of [help, watch]) {
      assert.ok(r.modules.includes(ENTRY_BUNDLE) && r.modules.includes(FULL_BUNDLE), `bundles not loaded:\n${r.modules.join('\n')}`);
      assert.deepEqual(treeModules(r), [], 'modules of the unbundled tree were loaded');
      assert.deepEqual(r.modules.filter((m) => m.includes(`${path.sep}commander${path.sep}`)), [], 'commander is bundled, not required');
    }
  });

  // A copy of the entry point beside a dist/ made of links to the real one, to change what it
  // finds without touching the dist/ other tests run.
  function fakePackage(name: string, opts: { bundle: boolean; tscBuiltAfterBundle: boolean }): string {
    const pkg = path.join(work, name);
    fs.mkdirSync(path.join(pkg, 'bin'), { recursive: true });
    fs.copyFileSync(CLI, path.join(pkg, 'bin', 'sockwatch.js'));
    const cli = path.join(pkg, 'dist', 'src', 'cli');
    fs.mkdirSync(cli, { recursive: true });
    for (const e of fs.readdirSync(TREE)) if (e !== 'cli') fs.symlinkSync(path.join(TREE, e), path.join(pkg, 'dist', 'src', e));
    for (const e of fs.readdirSync(path.join(TREE, 'cli'))) {
      if (opts.bundle || !e.includes('.cjs')) fs.symlinkSync(path.join(TREE, 'cli', e), path.join(cli, e));
    }
    const info = path.join(pkg, 'dist', '.tsbuildinfo');
    fs.writeFileSync(info, '');
    const bundleTime = fs.statSync(ENTRY_BUNDLE).mtime.getTime() / 1000;
    const t = opts.tscBuiltAfterBundle ? bundleTime + 60 : bundleTime - 60;
    fs.utimesSync(info, t, t);
    return path.join(pkg, 'bin', 'sockwatch.js');
  }

  it('a bundle older than tsc’s build, or none, gives way to the tree; a current one is taken', () => {
    const cases = [
      { name: 'stale', opts: { bundle: true, tscBuiltAfterBundle: true }, bundled: false },
      { name: 'missing', opts: { bundle: false, tscBuiltAfterBundle: false }, bundled: false },
      { name: 'current', opts: { bundle: true, tscBuiltAfterBundle: false }, bundled: true },
    ];
    for (const c of cases) {
      const r = runProbed(['--version'], fakePackage(c.name, c.opts));
      assert.equal(r.status, 0, `${c.name}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), VERSION, c.name);
      assert.equal(r.modules.includes(ENTRY_BUNDLE), c.bundled, `${c.name}:\n${r.modules.join('\n')}`);
      assert.equal(r.modules.includes(path.join(TREE, 'cli', 'main.js')), !c.bundled, `${c.name}:\n${r.modules.join('\n')}`);
    }
  });
});
