// The struct sock / tcp_sock fields the tcp-life program reads, located in this kernel's BTF.
// Reading the 5 MB of /sys/kernel/btf/vmlinux and walking its types costs 20–40 ms of CPU, most
// of the eBPF start-up, for a dozen numbers that cannot change until the next boot: they are kept
// in /run (a tmpfs, emptied at boot), keyed by the boot id, and read from there the next time.
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { BtfTypes, type MemberLocation } from './btf-members';
import type { KernelOffsets } from './tcp-life-program';

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';
export const CACHE_DIR = '/run/sockwatch';
const CACHE_FILE = `${CACHE_DIR}/kernel-offsets.json`;

const FIELDS: readonly (keyof KernelOffsets)[] = ['bytesSent', 'bytesAcked', 'bytesReceived', 'segsOut', 'segsIn', 'totalRetrans', 'srttUs', 'cookie', 'netPointer', 'netnsInum'];

export function kernelOffsetsFrom(btf: BtfTypes): KernelOffsets {
  const tcp = (name: string): MemberLocation => btf.member('tcp_sock', [name]);
  return {
    bytesSent: tcp('bytes_sent'),
    bytesAcked: tcp('bytes_acked'),
    bytesReceived: tcp('bytes_received'),
    segsOut: tcp('data_segs_out'),
    segsIn: tcp('data_segs_in'),
    totalRetrans: tcp('total_retrans'),
    srttUs: tcp('srtt_us'),
    cookie: btf.member('sock', ['__sk_common', 'skc_cookie']),
    netPointer: btf.member('sock', ['__sk_common', 'skc_net', 'net']),
    netnsInum: btf.member('net', ['ns', 'inum']),
  };
}

/** This boot of this kernel: the offsets cannot change within it. */
function bootKey(): string | undefined {
  try {
    return `${readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim()} ${os.release()} ${os.version()}`;
  } catch {
    return undefined;
  }
}

/** The running kernel's offsets (cached per boot); throws one line when the kernel has no BTF. */
export function readKernelOffsets(path = VMLINUX_BTF): KernelOffsets {
  return cachedPerBoot(CACHE_FILE, path, kernelOffsetsFrom, parseCache);
}

/**
 * What `derive` makes of the kernel's BTF at `path`, kept in `cacheFile` for the rest of this boot
 * (only for the running kernel's own BTF) and read back through `parse`, which refuses a file of
 * another boot.
 */
export function cachedPerBoot<T>(cacheFile: string, path: string, derive: (btf: BtfTypes) => T, parse: (text: string, key: string) => T | undefined): T {
  const key = path === VMLINUX_BTF ? bootKey() : undefined;
  const cached = key === undefined ? undefined : readCache(cacheFile, key, parse);
  if (cached) return cached;
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    throw new Error(`the kernel has no BTF type information (${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}; needs CONFIG_DEBUG_INFO_BTF)`);
  }
  const value = derive(new BtfTypes(data));
  if (key !== undefined) writeCache(cacheFile, key, value);
  return value;
}

/** A cache file's value when it is this boot's and the file is sockwatch's own; else undefined. */
function readCache<T>(cacheFile: string, key: string, parse: (text: string, key: string) => T | undefined): T | undefined {
  try {
    const euid = process.geteuid?.();
    for (const p of [CACHE_DIR, cacheFile]) {
      const st = statSync(p);
      if (st.uid !== euid || (st.mode & 0o022) !== 0) return undefined;
    }
    return parse(readFileSync(cacheFile, 'utf8'), key);
  } catch {
    return undefined;
  }
}

/** A cache file's `{key, offsets}` object when it is for `key`, else undefined. */
export function cachedOffsets(text: string, key: string): Record<string, unknown> | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as { key?: unknown; offsets?: unknown };
  if (o.key !== key || typeof o.offsets !== 'object' || o.offsets === null) return undefined;
  return o.offsets as Record<string, unknown>;
}

/** The offsets in a cache file's text when it is for `key` and well formed. */
export function parseCache(text: string, key: string): KernelOffsets | undefined {
  const offsets = cachedOffsets(text, key);
  if (offsets === undefined) return undefined;
  const out: Partial<KernelOffsets> = {};
  for (const f of FIELDS) {
    const m = offsets[f] as { offset?: unknown; size?: unknown } | undefined;
    if (!m || !Number.isInteger(m.offset) || !Number.isInteger(m.size)) return undefined;
    out[f] = { offset: m.offset as number, size: m.size as number };
  }
  return out as KernelOffsets;
}

function writeCache(cacheFile: string, key: string, offsets: unknown): void {
  try {
    mkdirSync(CACHE_DIR, { mode: 0o700, recursive: true });
    // only into a directory of our own that no one else can write to, and as a new file: a link
    // planted at the name is never followed
    const dir = statSync(CACHE_DIR);
    if (!dir.isDirectory() || dir.uid !== process.geteuid?.() || (dir.mode & 0o022) !== 0) return;
    const tmp = `${cacheFile}.${process.pid}`;
    rmSync(tmp, { force: true });
    writeFileSync(tmp, JSON.stringify({ key, offsets }) + '\n', { mode: 0o600, flag: 'wx' });
    renameSync(tmp, cacheFile);
  } catch {
    // no /run, or not writable: the next start reads BTF again
  }
}
