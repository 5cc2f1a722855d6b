// The installed entry point, bin/sockwatch (a sh script), run the way npm installs it: through a
// symlink in another directory. It must reach the CLI and drop NODE_EXTRA_CA_CERTS, which Node
// would otherwise read at start-up (see the script for why).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI } from '../helpers/cli';

const ENTRY = path.join(path.dirname(CLI), 'sockwatch');
const VERSION = (JSON.parse(fs.readFileSync(path.join(path.dirname(CLI), '..', 'package.json'), 'utf8')) as { version: string }).version;

/** A certificate file that cannot be loaded: Node warns on stderr when it tries. */
const env: NodeJS.ProcessEnv = { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/sockwatch-test-ca.pem' };

test('package.json names bin/sockwatch as the command', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(CLI), '..', 'package.json'), 'utf8')) as { bin: Record<string, string> };
  assert.equal(pkg.bin.sockwatch, 'bin/sockwatch');
  assert.ok((fs.statSync(ENTRY).mode & 0o111) !== 0, 'executable');
});

test('through a symlink elsewhere it runs the CLI, without Node reading NODE_EXTRA_CA_CERTS', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-bin-'));
  try {
    const link = path.join(dir, 'sockwatch');
    fs.symlinkSync(ENTRY, link);
    // PATH must find this node, as it would for a user whose npm installed the link
    const withPath = { ...env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${env.PATH ?? ''}` };
    const viaEntry = spawnSync(link, ['--version'], { env: withPath, encoding: 'utf8', timeout: 20_000 });
    assert.equal(viaEntry.status, 0, viaEntry.stderr);
    assert.equal(viaEntry.stdout.trim(), VERSION);
    assert.equal(viaEntry.stderr, '', 'no certificate warning: the variable never reached Node');

    const usage = spawnSync(link, ['snapshot', 'nope'], { env: withPath, encoding: 'utf8', timeout: 20_000 });
    assert.equal(usage.status, 2, 'exit codes pass through the script');

    // The reason for the script: run directly, Node does read the file at start-up.
    const direct = spawnSync(process.execPath, [CLI, '--version'], { env, encoding: 'utf8', timeout: 20_000 });
    assert.equal(direct.status, 0);
    assert.match(direct.stderr, /extra certs/i);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
