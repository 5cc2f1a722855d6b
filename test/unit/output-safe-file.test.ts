import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { appendRecord, checkWritableDir, createNewFile, openAppendFile, writeOutputFile } from '../../src/views/output/safe-file';
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

test('replacing a file keeps its mode and owner (outside a sticky shared directory)', async () => {
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

/** a 1777 directory like /tmp, inside a private temp dir */
function stickyDir(): { dir: string; shared: string } {
  const dir = tempDir();
  const shared = path.join(dir, 'shared');
  fs.mkdirSync(shared);
  fs.chmodSync(shared, 0o1777);
  return { dir, shared };
}

/** uid 65534's name, from the system's own database rather than sockwatch's reader */
function nobodyName(): string {
  const r = spawnSync('getent', ['passwd', '65534'], { encoding: 'utf8' });
  return r.status === 0 ? `${r.stdout.split(':')[0]} (uid 65534)` : 'uid 65534';
}

test('in a sticky shared directory another user\'s file is refused, naming the owner, and left as it was', async () => {
  const { dir, shared } = stickyDir();
  try {
    const planted = path.join(shared, 'out.json');
    fs.writeFileSync(planted, 'planted\n');
    fs.chownSync(planted, 65534, 65534);
    fs.chmodSync(planted, 0o4777);
    const owner = new RegExp(`^refusing to write ${planted}: it is owned by ${nobodyName().replace(/[()]/g, '\\$&')}, in the sticky shared directory ${shared}; remove it or choose another name$`);
    await assert.rejects(writeOutputFile(planted, 'x', { passThrough: false }), ioError(owner));
    await assert.rejects(writeOutputFile(planted, 'x', { passThrough: true }), ioError(owner));
    assert.throws(() => openAppendFile(planted), ioError(owner));
    const st = fs.statSync(planted);
    assert.deepEqual([fs.readFileSync(planted, 'utf8'), st.uid, st.mode & 0o7777], ['planted\n', 65534, 0o4777]);
    // a FIFO planted there is not written through either (the kernel's protected_fifos guards O_CREAT only)
    const fifo = path.join(shared, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    fs.chownSync(fifo, 65534, 65534);
    await assert.rejects(writeOutputFile(fifo, 'x', { passThrough: true }), ioError(/^refusing to write .*fifo: it is owned by .*uid 65534/));
    assert.deepEqual(fs.readdirSync(shared).sort(), ['fifo', 'out.json'], 'no temp file left');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('in a sticky shared directory: our own file and the directory owner\'s are written; a new file is ours', async () => {
  const { dir, shared } = stickyDir();
  try {
    const own = path.join(shared, 'own.json');
    fs.writeFileSync(own, 'old');
    fs.chmodSync(own, 0o6755);
    await writeOutputFile(own, 'new', { passThrough: false });
    let st = fs.statSync(own);
    assert.deepEqual([fs.readFileSync(own, 'utf8'), st.uid, st.mode & 0o7777], ['new', process.geteuid!(), 0o755], 'set-id bits dropped');
    // appending to our own set-id file drops them too
    fs.chmodSync(own, 0o4640);
    const a = openAppendFile(own);
    fs.closeSync(a.fd);
    assert.equal(fs.statSync(own).mode & 0o7777, 0o640);

    const fresh = path.join(shared, 'fresh.ndjson');
    const f = openAppendFile(fresh);
    appendRecord(f, '{}\n');
    fs.closeSync(f.fd);
    st = fs.statSync(fresh);
    assert.equal(st.uid, process.geteuid!());

    // the directory's owner may own files in it (the kernel's rule too)
    const theirs = path.join(dir, 'theirs');
    fs.mkdirSync(theirs);
    fs.chmodSync(theirs, 0o1777);
    fs.chownSync(theirs, 65534, 65534);
    const byDirOwner = path.join(theirs, 'x.json');
    fs.writeFileSync(byDirOwner, 'old');
    fs.chownSync(byDirOwner, 65534, 65534);
    await writeOutputFile(byDirOwner, 'new', { passThrough: false });
    assert.equal(fs.readFileSync(byDirOwner, 'utf8'), 'new');

    // a directory that is shared but not sticky is not the kernel's case: the owner is kept
    const open = path.join(dir, 'open');
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o777);
    const kept = path.join(open, 'x.json');
    fs.writeFileSync(kept, 'old');
    fs.chownSync(kept, 65534, 65534);
    fs.chmodSync(kept, 0o2664);
    await writeOutputFile(kept, 'new', { passThrough: false });
    st = fs.statSync(kept);
    assert.deepEqual([st.uid, st.mode & 0o7777], [65534, 0o664]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('createNewFile never opens what exists: a taken name (file, link, dangling link) gets a numbered one', () => {
  const { dir, shared } = stickyDir();
  try {
    const victim = path.join(dir, 'victim');
    fs.writeFileSync(victim, 'precious\n');
    fs.symlinkSync(victim, path.join(shared, 'log.log'));
    fs.writeFileSync(path.join(shared, 'log-1.log'), 'someone else\n');
    fs.symlinkSync(path.join(dir, 'would-be-created'), path.join(shared, 'log-2.log'));
    const made = createNewFile(shared, 'log', '.log', 0o600);
    fs.writeSync(made.fd, 'ours\n');
    fs.closeSync(made.fd);
    assert.equal(made.file, path.join(shared, 'log-3.log'));
    const st = fs.lstatSync(made.file);
    assert.ok(st.isFile());
    assert.deepEqual([st.uid, st.mode & 0o777, fs.readFileSync(made.file, 'utf8')], [process.geteuid!(), 0o600, 'ours\n']);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious\n');
    assert.equal(fs.readFileSync(path.join(shared, 'log-1.log'), 'utf8'), 'someone else\n');
    assert.equal(fs.existsSync(path.join(dir, 'would-be-created')), false);
    // every numbered name taken: a random one, still new
    for (let i = 4; i <= 20; i++) fs.writeFileSync(path.join(shared, `log-${i}.log`), '');
    const last = createNewFile(shared, 'log', '.log', 0o600);
    fs.closeSync(last.fd);
    assert.match(path.basename(last.file), /^log-[a-z0-9]+\.log$/);
    assert.equal(fs.statSync(last.file).size, 0);
    assert.throws(() => createNewFile(path.join(dir, 'missing'), 'log', '.log', 0o600), ioError(/cannot write .*missing\/log\.log: no such directory/));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
