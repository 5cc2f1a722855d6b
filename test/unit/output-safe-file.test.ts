import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { appendRecord, checkWritableDir, openAppendFile, writeOutputFile } from '../../src/views/output/safe-file';
import { isSockwatchError } from '../../src/errors';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sockwatch-safe-'));
}
const ioError = (re: RegExp) => (e: unknown): boolean => isSockwatchError(e) && e.code === 'io_error' && re.test(e.message) && !e.message.includes('\n');

test('writeOutputFile writes whole files and leaves nothing behind on failure', async () => {
  const dir = tempDir();
  try {
    const f = path.join(dir, 'out.json');
    await writeOutputFile(f, 'hello\n', { passThrough: false });
    assert.equal(fs.readFileSync(f, 'utf8'), 'hello\n');
    assert.deepEqual(fs.readdirSync(dir), ['out.json']);
    await assert.rejects(writeOutputFile(path.join(dir, 'no', 'such', 'dir', 'x.json'), 'x', { passThrough: true }), ioError(/cannot write .*no such directory/));
    fs.mkdirSync(path.join(dir, 'isdir.json'));
    await assert.rejects(writeOutputFile(path.join(dir, 'isdir.json'), 'x', { passThrough: true }), ioError(/is a directory/));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['isdir.json', 'out.json'], 'no temp file left');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('replacing a file keeps its mode and owner (incl. set-id bits when root)', async () => {
  const dir = tempDir();
  try {
    const f = path.join(dir, 'keep');
    fs.writeFileSync(f, 'old');
    fs.chmodSync(f, 0o640);
    fs.chownSync(f, 65534, 65534);
    await writeOutputFile(f, 'new', { passThrough: false });
    const st = fs.statSync(f);
    assert.equal(st.mode & 0o7777, 0o640);
    assert.equal(st.uid, 65534);
    assert.equal(st.gid, 65534);
    assert.equal(fs.readFileSync(f, 'utf8'), 'new');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a symbolic link is neither followed nor replaced, for output and for appending', async () => {
  const dir = tempDir();
  try {
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'precious');
    const link = path.join(dir, 'link');
    fs.symlinkSync(target, link);
    await assert.rejects(writeOutputFile(link, 'x', { passThrough: true }), ioError(/refusing to write .*symbolic link/));
    assert.throws(() => openAppendFile(link), ioError(/refusing to write .*symbolic link/));
    assert.equal(fs.readFileSync(target, 'utf8'), 'precious');
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    // a dangling link too: no file is created where it points
    const dangling = path.join(dir, 'dangling');
    fs.symlinkSync(path.join(dir, 'created-through-link'), dangling);
    await assert.rejects(writeOutputFile(dangling, 'x', { passThrough: true }), ioError(/symbolic link/));
    assert.throws(() => openAppendFile(dangling), ioError(/symbolic link/));
    assert.equal(fs.existsSync(path.join(dir, 'created-through-link')), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('appendRecord appends whole records and tracks the size', () => {
  const dir = tempDir();
  try {
    const f = path.join(dir, 'rec.ndjson');
    fs.writeFileSync(f, '{"a":1}\n');
    fs.chmodSync(f, 0o600);
    const a = openAppendFile(f);
    assert.equal(a.size, 8);
    assert.equal(appendRecord(a, '{"b":2}\n'), 16);
    fs.closeSync(a.fd);
    assert.equal(fs.readFileSync(f, 'utf8'), '{"a":1}\n{"b":2}\n');
    assert.equal(fs.statSync(f).mode & 0o777, 0o600);
    assert.throws(() => openAppendFile(dir), ioError(/is a directory|a directory/));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('checkWritableDir: missing, a file, a directory', () => {
  const dir = tempDir();
  try {
    assert.throws(() => checkWritableDir(path.join(dir, 'nope'), '--export-dir'), ioError(/^--export-dir .*nope: no such directory$/));
    fs.writeFileSync(path.join(dir, 'file'), '');
    assert.throws(() => checkWritableDir(path.join(dir, 'file'), '--export-dir'), ioError(/not a directory$/));
    checkWritableDir(dir, '--export-dir');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
