// Every file sockwatch writes (snapshot --output, --record, TUI exports, reports, the `run` log)
// goes through here. We often run as root, in directories others can write to, so the rules are:
// - only a regular file or a new path is written (replaced via temp file + rename, or appended);
//   a directory, block device, socket, FIFO or character device is refused with one line —
//   except that `--output` (`passThrough`) writes straight into a FIFO or character device, as
//   `tee` would, so `--output /dev/null` and `--output fifo` work;
// - a symbolic link as the last component is never followed (O_NOFOLLOW, and an fstat after
//   open must match what lstat saw), with one exception for `--output`: the descriptor aliases
//   /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N, which the user names on purpose;
// - in a sticky directory others can write to (/tmp), a file owned by another user (neither us nor
//   the directory's owner) is refused, naming its owner, as the kernel's protected_regular does
//   for O_CREAT opens: otherwise a planted file would be handed back to its planter, filled by us;
// - a new file is created with O_EXCL, so it is ours (owned by the user running sockwatch);
// - a replaced file keeps its mode and owner, but never its set-user/group-ID bits: we wrote its
//   content;
// - nothing blocks the event loop: FIFOs and devices are opened with O_NONBLOCK.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SockwatchError } from '../../errors';
import { userLabel } from '../../process/user-names';

const C = fs.constants;
/** the sticky bit (not in fs.constants) */
const S_ISVTX = 0o1000;
/** How long `--output fifo` waits for a reader to open the other end before giving up. */
export const FIFO_READER_WAIT_MS = 2000;
/** A FIFO or device whose reader takes nothing for this long is given up on. */
export const STALLED_READER_MS = 60_000;
const RETRY_MS = 20;

export function errorReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT': return 'no such directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EROFS': return 'read-only file system';
    case 'ENOSPC': return 'no space left on device';
    case 'EDQUOT': return 'disk quota exceeded';
    case 'EIO': return 'input/output error';
    case 'EPIPE': return 'the reader went away (broken pipe)';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'a path component is not a directory';
    case 'ELOOP': return 'is a symbolic link (not followed)';
    case 'ENXIO': return 'no reader on the other end';
    default: return err?.message ?? String(e);
  }
}

function cannotWrite(file: string, e: unknown): SockwatchError {
  return e instanceof SockwatchError ? e : new SockwatchError('io_error', `cannot write ${file}: ${errorReason(e)}`);
}

function refuse(file: string, why: string): SockwatchError {
  return new SockwatchError('io_error', `refusing to write ${file}: ${why}`);
}

function kindOf(st: fs.Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link (not followed; give the path it points to)';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The protected_regular rule (see the file comment) for `st`, the file at `file` as lstat or fstat
 * saw it. A directory whose stat fails is left to the open to report.
 */
function refuseForeignInSharedDir(file: string, st: fs.Stats): void {
  const me = process.geteuid?.();
  if (me === undefined || st.uid === me) return;
  const dirPath = path.dirname(file);
  let dir: fs.Stats;
  try {
    dir = fs.statSync(dirPath);
  } catch {
    return;
  }
  const shared = (dir.mode & S_ISVTX) !== 0 && (dir.mode & (C.S_IWOTH | C.S_IWGRP)) !== 0;
  if (!shared || st.uid === dir.uid) return;
  const owner = userLabel(st.uid);
  throw refuse(file, `it is owned by ${owner === `uid ${st.uid}` ? owner : `${owner} (uid ${st.uid})`}, in the sticky shared directory ${dirPath}; remove it or choose another name`);
}

/** what a file we wrote may keep of an older file's mode: no set-user/group-ID or sticky bit */
const KEPT_MODE_BITS = 0o777;

function lstatOrUndefined(file: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function sameFile(a: fs.Stats, b: fs.Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino && (a.mode & C.S_IFMT) === (b.mode & C.S_IFMT);
}

/** write(2) until all of `buf` is out; a short write is followed by the error it was hiding. */
function writeAllSync(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length; ) off += fs.writeSync(fd, buf, off, buf.length - off);
}

export interface OutputOptions {
  /** `--output`: write into a FIFO or character device (and descriptor aliases) instead of refusing */
  passThrough: boolean;
}

/**
 * Writes `data` to `file` as a whole: a regular file or new path is replaced atomically (a reader
 * never sees half a file; a failure leaves the old file and no temp file). See the file comment.
 */
export async function writeOutputFile(file: string, data: string | Buffer, opts: OutputOptions): Promise<void> {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const abs = path.resolve(file);
  try {
    const alias = opts.passThrough ? descriptorAlias(abs) : undefined;
    if (alias === 1 || alias === 2) {
      // The process's own stdout/stderr: the exit waits for them to drain and reports their errors.
      (alias === 1 ? process.stdout : process.stderr).write(buf);
      return;
    }
    const st = lstatOrUndefined(abs);
    // a FIFO too: the kernel's protected_fifos guards only O_CREAT opens, which a write-through is not
    if (st !== undefined && (st.isFile() || st.isFIFO())) refuseForeignInSharedDir(abs, st);
    if (st === undefined || st.isFile()) return replaceFile(abs, buf, st);
    if (alias !== undefined && st.isSymbolicLink()) {
      const target = fs.statSync(abs);
      if (target.isFIFO() || target.isCharacterDevice()) return await writeThrough(abs, buf, target, true);
      throw refuse(file, `it is a link to ${kindOf(target)}; only a FIFO or character device is written through`);
    }
    if (opts.passThrough && (st.isFIFO() || st.isCharacterDevice())) return await writeThrough(abs, buf, st, false);
    throw refuse(file, `it is ${kindOf(st)}`);
  } catch (e) {
    throw cannotWrite(file, e);
  }
}

/** /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N → N */
function descriptorAlias(abs: string): number | undefined {
  if (abs === '/dev/stdout') return 1;
  if (abs === '/dev/stderr') return 2;
  const m = /^(?:\/dev\/fd|\/proc\/self\/fd|\/proc\/thread-self\/fd)\/(\d+)$/.exec(abs) ?? new RegExp(`^/proc/${process.pid}/fd/(\\d+)$`).exec(abs);
  return m ? Number(m[1]) : undefined;
}

function replaceFile(file: string, buf: Buffer, existing: fs.Stats | undefined): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_NOCTTY, 0o644);
    writeAllSync(fd, buf);
    if (existing) {
      try {
        fs.fchownSync(fd, existing.uid, existing.gid);
      } catch {
        // Not ours to give away (not root): the file becomes ours.
      }
      fs.fchmodSync(fd, existing.mode & KEPT_MODE_BITS);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    // rename() replaces whatever is at `file` without following it; this check narrows the
    // window in which something else could have been planted there since we looked.
    const now = lstatOrUndefined(file);
    if (now !== undefined && (existing === undefined || !sameFile(now, existing))) {
      throw refuse(file, `it changed while being written (now ${kindOf(now)})`);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  syncDir(dir);
}

/** The rename is durable only once the directory is; failing that is no reason to fail the write. */
function syncDir(dir: string): void {
  try {
    const d = fs.openSync(dir, C.O_RDONLY | C.O_DIRECTORY);
    try {
      fs.fsyncSync(d);
    } finally {
      fs.closeSync(d);
    }
  } catch {
    // some file systems refuse fsync on a directory
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Writes into a FIFO or character device that already exists, as `tee` would (no truncation, no rename). */
async function writeThrough(file: string, buf: Buffer, checked: fs.Stats, viaAlias: boolean): Promise<void> {
  const flags = C.O_WRONLY | C.O_NONBLOCK | C.O_NOCTTY | (viaAlias ? 0 : C.O_NOFOLLOW);
  let fd: number | undefined;
  const waitUntil = Date.now() + FIFO_READER_WAIT_MS;
  for (;;) {
    try {
      fd = fs.openSync(file, flags);
      break;
    } catch (e) {
      // ENXIO: a FIFO nobody has open for reading yet; give a reader started beside us a moment.
      if ((e as NodeJS.ErrnoException).code !== 'ENXIO' || !checked.isFIFO()) throw e;
      if (Date.now() >= waitUntil) throw new SockwatchError('io_error', `cannot write ${file}: no reader opened this FIFO within ${FIFO_READER_WAIT_MS / 1000} s`);
      await sleep(RETRY_MS * 5);
    }
  }
  try {
    if (!sameFile(fs.fstatSync(fd), checked)) throw refuse(file, 'it changed between the check and the open');
    let off = 0;
    let progressAt = Date.now();
    while (off < buf.length) {
      try {
        off += fs.writeSync(fd, buf, off, buf.length - off);
        progressAt = Date.now();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        if (Date.now() - progressAt > STALLED_READER_MS) {
          throw new SockwatchError('io_error', `cannot write ${file}: its reader took nothing for ${STALLED_READER_MS / 1000} s`);
        }
        await sleep(RETRY_MS);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

export interface AppendFile {
  fd: number;
  /** bytes in the file when opened */
  size: number;
}

/**
 * Opens `file` for appending (`--record`): a missing file is created with O_EXCL (0644 before
 * umask), an existing one keeps its mode and owner (less any set-id bit). Only a regular file: a
 * FIFO, device, directory, socket or symbolic link is refused at once, so a recording can neither
 * block the poll loop nor land elsewhere; so is another user's file in a sticky shared directory.
 */
export function openAppendFile(file: string): AppendFile {
  let fd: number | undefined;
  try {
    const st = lstatOrUndefined(file);
    if (st !== undefined && !st.isFile()) throw refuse(file, `it is ${kindOf(st)}; a recording needs a regular file`);
    // O_NONBLOCK: should a FIFO be planted after the lstat, the open fails or returns at once.
    const flags = C.O_WRONLY | C.O_APPEND | C.O_NOFOLLOW | C.O_NONBLOCK | C.O_NOCTTY;
    try {
      fd = fs.openSync(file, st === undefined ? flags | C.O_CREAT | C.O_EXCL : flags, 0o644);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (st === undefined && code === 'EEXIST') throw refuse(file, 'something was created at that name while it was being opened');
      if (st !== undefined && code === 'ENOENT') throw refuse(file, 'it was removed while being opened');
      throw e;
    }
    const opened = fs.fstatSync(fd);
    if (!opened.isFile() || (st !== undefined && !sameFile(opened, st))) {
      throw refuse(file, `it changed between the check and the open (now ${kindOf(opened)})`);
    }
    refuseForeignInSharedDir(file, opened);
    if ((opened.mode & ~KEPT_MODE_BITS & 0o7777) !== 0) fs.fchmodSync(fd, opened.mode & KEPT_MODE_BITS);
    return { fd, size: opened.size };
  } catch (e) {
    if (fd !== undefined) fs.closeSync(fd);
    throw cannotWrite(file, e);
  }
}

/** How many numbered names createNewFile tries after `name` itself, before a random one. */
const NUMBERED_NAMES = 20;

/**
 * Creates a new file in `dir` (O_EXCL, O_NOFOLLOW) named `stem` + `ext`, or `stem-1` + `ext`, …
 * when that name is taken — by a file, a link, anything: nothing that exists is ever opened.
 * Returns the descriptor (write-only, appending) and the path used. For names others can predict.
 */
export function createNewFile(dir: string, stem: string, ext: string, mode: number): { fd: number; file: string } {
  const flags = C.O_WRONLY | C.O_APPEND | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW | C.O_NOCTTY;
  let file = path.join(dir, stem + ext);
  for (let i = 0; ; i++) {
    try {
      const fd = fs.openSync(file, flags, mode);
      return { fd, file };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || i > NUMBERED_NAMES) throw cannotWrite(file, e);
    }
    const n = i < NUMBERED_NAMES ? String(i + 1) : Math.random().toString(36).slice(2, 10);
    file = path.join(dir, `${stem}-${n}${ext}`);
  }
}

/**
 * Appends one whole record. On failure (ENOSPC, EIO…) the file is cut back to `size` so it never
 * ends in a fragment, and the error is thrown; returns the new size.
 */
export function appendRecord(f: AppendFile, record: string): number {
  const buf = Buffer.from(record, 'utf8');
  try {
    writeAllSync(f.fd, buf);
  } catch (e) {
    try {
      fs.ftruncateSync(f.fd, f.size);
    } catch {
      // nothing more to do: the error below says the recording failed
    }
    throw e;
  }
  f.size += buf.length;
  return f.size;
}

/**
 * For `--export-dir`, checked when a watch starts rather than when `e` is pressed: an existing
 * directory we can write into.
 */
export function checkWritableDir(dir: string, what: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SockwatchError('io_error', `${what} ${dir}: ${code === 'ENOENT' ? 'no such directory' : errorReason(e)}`);
  }
  if (!st.isDirectory()) throw new SockwatchError('io_error', `${what} ${dir}: not a directory`);
  try {
    fs.accessSync(dir, C.W_OK | C.X_OK);
  } catch (e) {
    throw new SockwatchError('io_error', `${what} ${dir}: ${errorReason(e)}`);
  }
}
