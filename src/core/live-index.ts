// The reconciler's live sockets and the ways to find one: by inode (what a poll gives), by
// connectionKey() where a source has no inode, and by tuple or cookie (what between-poll evidence
// gives). One place, so a record is never in one index and missing from another.
import { connectionKey, type Connection, type Endpoint } from '../model';
import type { LiveRecord } from './live-record';
import { TupleIndex } from './lifecycle-match';

export class LiveIndex {
  /** every live record (listeners included), in first-seen order */
  readonly records = new Set<LiveRecord>();
  private readonly byInode = new Map<number, LiveRecord>();
  /** by connectionKey(), the records of sockets whose inode is unknown (0) */
  private readonly byKey = new Map<string, LiveRecord>();
  private readonly byTuple = new TupleIndex<LiveRecord>();
  private readonly byCookie = new Map<string, LiveRecord>();
  private listeners = 0;

  get listenerCount(): number {
    return this.listeners;
  }

  /** live connections, listening sockets not counted */
  get connectionCount(): number {
    return this.records.size - this.listeners;
  }

  add(rec: LiveRecord): void {
    this.records.add(rec);
    const c = rec.connection;
    if (c.inode > 0) this.byInode.set(c.inode, rec);
    else this.byKey.set(connectionKey(c), rec);
    this.byTuple.addIfAbsent(rec);
    this.indexCookie(rec);
    if (rec.listener) this.listeners++;
  }

  /** the live record a connection of a snapshot would be, by inode or (without one) by key */
  recordOf(c: Connection): LiveRecord | undefined {
    return c.inode > 0 ? this.byInode.get(c.inode) : this.byKey.get(connectionKey(c));
  }

  /** Indexes the record's cookie once the source gives one (or a new one). */
  indexCookie(rec: LiveRecord): void {
    const cookie = rec.connection.tcp?.cookie;
    if (cookie === undefined || cookie === rec.cookie) return;
    if (rec.cookie !== undefined && this.byCookie.get(rec.cookie) === rec) this.byCookie.delete(rec.cookie);
    rec.cookie = cookie;
    this.byCookie.set(cookie, rec);
  }

  /** a live socket of the target: by cookie, or by tuple unless both cookies are known and differ */
  isLive(local: Endpoint, remote: Endpoint, cookie: string | undefined): boolean {
    if (cookie !== undefined && this.byCookie.has(cookie)) return true;
    const rec = this.byTuple.get(local, remote);
    return rec !== undefined && (rec.cookie === undefined || cookie === undefined || rec.cookie === cookie);
  }

  /** a live socket with exactly these endpoints */
  hasTuple(local: Endpoint, remote: Endpoint): boolean {
    return this.byTuple.has(local, remote);
  }

  forget(rec: LiveRecord): void {
    this.records.delete(rec);
    const inode = rec.connection.inode;
    if (inode > 0) {
      if (this.byInode.get(inode) === rec) this.byInode.delete(inode);
    } else {
      const key = rec.key;
      if (this.byKey.get(key) === rec) this.byKey.delete(key);
    }
    this.byTuple.delete(rec);
    if (rec.cookie !== undefined && this.byCookie.get(rec.cookie) === rec) this.byCookie.delete(rec.cookie);
    if (rec.listener) this.listeners--;
  }

  clear(): void {
    this.records.clear();
    this.byKey.clear();
    this.byInode.clear();
    this.byTuple.clear();
    this.byCookie.clear();
    this.listeners = 0;
  }
}
