import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startLoopbackServer, stopLoopbackChildren, type LoopbackServer } from '../helpers/loopback';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
// the compiled src/ next to this compiled test (dist/test/integration → dist/src)
const COMPILED_SRC = path.join(__dirname, '../../src');

/** Makes a tree readable and traversable by everyone (mkdtemp creates 0700). */
function openUp(dir: string): void {
  chmodSync(dir, 0o755);
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) openUp(p);
    else chmodSync(p, 0o644);
  }
}

/** Runs `code` as nobody with `modules` pointing at a readable copy of dist/src; returns its JSON line. */
function runAsNobody(modules: string, code: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code], {
      uid: NOBODY,
      gid: NOBODY,
      cwd: modules,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SRC: modules },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out) as Record<string, unknown>); // the probe prints one JSON object
      } catch {
        reject(new Error(`probe printed ${JSON.stringify(out)}; stderr: ${err}`));
      }
    });
  });
}

const PROBE = (call: string): string => `
  const path = require('node:path');
  const src = process.env.SRC;
  const { readSocketInodes } = require(path.join(src, 'sources/procfs/fd-inodes.js'));
  const { createProcfsSource } = require(path.join(src, 'sources/procfs/procfs-source.js'));
  (async () => { ${call} })().then(
    (r) => console.log(JSON.stringify({ ok: true, result: r })),
    (e) => console.log(JSON.stringify({ ok: false, code: e.code, message: e.message, uid: process.getuid() })),
  );
`;

describe('permission denied on another user’s process', { skip: !isRoot && 'needs root to run a probe as nobody' }, () => {
  let modules: string;
  let target: LoopbackServer;

  before(async () => {
    // copy, rather than rely on every directory above dist/ being traversable by nobody
    const dir = mkdtempSync(path.join(tmpdir(), 'sockwatch-perm-'));
    modules = path.join(dir, 'src');
    cpSync(COMPILED_SRC, modules, { recursive: true });
    openUp(dir);
    target = await startLoopbackServer(); // root-owned
  });
  after(async () => {
    await stopLoopbackChildren();
    rmSync(path.dirname(modules), { recursive: true, force: true });
  });

  it('readSocketInodes rejects with permission_denied naming root', async () => {
    const r = await runAsNobody(modules, PROBE(`return [...(await readSocketInodes(${target.pid})).entries()];`));
    assert.equal(r.uid, NOBODY, JSON.stringify(r));
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.equal(r.code, 'permission_denied');
    assert.match(String(r.message), new RegExp(`PID ${target.pid} \\(owned by root\\)`));
    assert.match(String(r.message), /as root/);
  });

  it('the procfs source opens (process info is public) but its snapshot is permission_denied', async () => {
    const r = await runAsNobody(
      modules,
      PROBE(`const s = await createProcfsSource(${target.pid}); return await s.snapshot('all');`),
    );
    assert.equal(r.ok, false, JSON.stringify(r));
    assert.equal(r.code, 'permission_denied');
    assert.match(String(r.message), /owned by root/);
  });

  it('the probe can read its own sockets (the copy of the modules works as nobody)', async () => {
    const r = await runAsNobody(modules, PROBE(`return (await readSocketInodes(process.pid)).size;`));
    assert.equal(r.ok, true, JSON.stringify(r));
  });
});
