import { readFileSync } from 'node:fs';

// uid → name from /etc/passwd. Read once and cached: the file is small and rarely changes, and
// error messages and process info ask for names on every poll. A miss re-reads the file, at most
// every REREAD_AFTER_MISS_MS, so a user created after start-up is still named.
const REREAD_AFTER_MISS_MS = 10_000;

let namesByUid: Map<number, string> | undefined;
let lastReadAtMs = 0;

/** Parses passwd(5) text; later duplicates of a uid do not override the first (as getpwuid). */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    if (fields.length < 3) continue;
    const name = fields[0];
    const uid = Number(fields[2]);
    if (!name || fields[2] === '' || !Number.isInteger(uid) || uid < 0) continue;
    if (!names.has(uid)) names.set(uid, name);
  }
  return names;
}

function readPasswd(): Map<number, string> {
  lastReadAtMs = Date.now();
  try {
    return parsePasswd(readFileSync('/etc/passwd', 'utf8'));
  } catch {
    return new Map();
  }
}

/** The user name for a uid, or undefined when /etc/passwd does not list it. */
export function lookupUserName(uid: number): string | undefined {
  namesByUid ??= readPasswd();
  const name = namesByUid.get(uid);
  if (name !== undefined) return name;
  if (Date.now() - lastReadAtMs >= REREAD_AFTER_MISS_MS) {
    namesByUid = readPasswd();
    return namesByUid.get(uid);
  }
  return undefined;
}

/** A name to show a person: the user name, else `uid N`. */
export function userLabel(uid: number): string {
  return lookupUserName(uid) ?? `uid ${uid}`;
}
