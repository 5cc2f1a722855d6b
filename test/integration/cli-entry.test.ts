// The installed entry point, bin/sockwatch.js, run the way npm installs it: through a symlink in
// another directory (node_modules/.bin, or the global bin directory of `npm link`). A JS entry
// point, not a sh script: npm's Windows shim and macOS before 12.3 (no `readlink -f`) need it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI } from '../helpers/cli';

const VERSION = (JSON.parse(fs.readFileSync(path.join(path.dirname(CLI), '..', 'package.json'), 'utf8')) as { version: string }).version;

test('package.json names bin/sockwatch.js, an executable node script, as the command', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(CLI), '..', 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.equal(pkg.bin.sockwatch, 'bin/sockwatch.js');
  assert.ok((fs.statSync(CLI).mode & 0o111) !== 0, 'executable');
  assert.match(fs.readFileSync(CLI, 'utf8').split('\n')[0]!, /^#!\/usr\/bin\/env node$/);
});

test('package.json names no module entry point: sockwatch is a command, not a library', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(CLI), '..', 'package.json'), 'utf8')) as Record<string, unknown>;
  // A "main" or "exports" would promise an API; the contracts are the CLI flags and the JSON lines.
  assert.equal(pkg['main'], undefined);
  assert.equal(pkg['exports'], undefined);
});

test('through a symlink elsewhere it runs the CLI, and exit codes pass through', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-bin-'));
  try {
    const link = path.join(dir, 'sockwatch');
    fs.symlinkSync(CLI, link);
    // PATH must find this node, as it would for a user whose npm installed the link
    const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };
    const viaLink = spawnSync(link, ['--version'], { env, encoding: 'utf8', timeout: 20_000 });
    assert.equal(viaLink.status, 0, viaLink.stderr);
    assert.equal(viaLink.stdout.trim(), VERSION);

    const usage = spawnSync(link, ['snapshot', 'nope'], { env, encoding: 'utf8', timeout: 20_000 });
    assert.equal(usage.status, 2, 'a usage error exits 2 through the link');
    assert.match(usage.stderr, /nope/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
