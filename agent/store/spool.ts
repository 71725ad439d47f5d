/**
 * The store spool: what a sensor could not write to its store (PostgreSQL down or restarting,
 * SQLite busy beyond its timeout), held on local disk in arrival order until the store is back.
 *
 * One SQLite file under the sensor's state directory, created 0600, WAL with
 * `synchronous=NORMAL`: a record is in the file when `append` returns, so a kill -9 after that
 * loses nothing spooled (a power loss may roll back the last appends, like the store itself).
 * The file is opened with an exclusive lock: a second sensor pointed at the same spool is refused
 * rather than interleaving its records.
 *
 * What it holds is only what would go to the store, which is PHI-free by contract; every body is
 * checked again for fødselsnummer-like values before it touches the disk (refused and counted),
 * and deleted records are zeroed (`secure_delete`).
 *
 * Bounded by bytes and by age: a record that would take the spool over `maxBytes` is refused
 * (what is already spooled stays a contiguous, in-order run), and records older than `maxAgeMs`
 * are dropped from the head. Every dropped record is counted by reason.
 *
 * Kinds: records of an `append` kind (alert batches, flow buckets) are replayed one by one in
 * order; a `replace` kind (the device inventory, saved whole each time) keeps only its newest
 * record, since a newer save supersedes an older one.
 */
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { containsFnr, safeJson } from './values.js';

export interface StoreSpoolOptions {
  /** Bytes of record bodies held at most (default 256 MiB). */
  maxBytes?: number;
  /** Records older than this are dropped (default 7 days). */
  maxAgeMs?: number;
  /** Clock (epoch ms); default Date.now. */
  now?: () => number;
}

export interface SpoolRecord<T = unknown> {
  seq: number;
  kind: string;
  atMs: number;
  bytes: number;
  body: T;
}

export type SpoolDropReason = 'full' | 'age' | 'phi' | 'rejected';

export interface StoreSpoolStats {
  records: number;
  bytes: number;
  /** Epoch ms of the oldest record, null when empty. */
  oldestMs: number | null;
  /** Records appended since open. */
  appended: number;
  /** Records removed after they were written to the store, since open. */
  drained: number;
  /** Records dropped since open, by reason: over the byte bound, too old, PHI-like, refused by the store. */
  dropped: Record<SpoolDropReason, number>;
}

export const DEFAULT_SPOOL_MAX_BYTES = 256 * 1024 * 1024;
export const DEFAULT_SPOOL_MAX_AGE_MS = 7 * 86_400_000;

/** Creates the file 0600 if it does not exist yet (an explicit mode: the umask can only narrow it). */
function createPrivate(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

export class StoreSpool {
  readonly path: string;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private records = 0;
  private bytes = 0;
  private oldestMs: number | null = null;
  private appended = 0;
  private drained = 0;
  private readonly dropped: Record<SpoolDropReason, number> = { full: 0, age: 0, phi: 0, rejected: 0 };
  private closed = false;

  private readonly sInsert: Database.Statement;
  private readonly sHead: Database.Statement;
  private readonly sDelete: Database.Statement;
  private readonly sDeleteKind: Database.Statement;
  private readonly sKindTotals: Database.Statement;
  private readonly sExpired: Database.Statement;
  private readonly sTotals: Database.Statement;

  static open(path: string, options: StoreSpoolOptions = {}): StoreSpool {
    return new StoreSpool(path, options);
  }

  private constructor(path: string, options: StoreSpoolOptions) {
    this.path = path;
    this.maxBytes = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_SPOOL_MAX_AGE_MS;
    if (!(this.maxBytes > 0) || !(this.maxAgeMs > 0)) throw new Error('spool bounds must be positive');
    this.now = options.now ?? Date.now;
    createPrivate(path);
    const db = new Database(path, { timeout: 0 });
    this.db = db;
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('secure_delete = ON');
      db.pragma('temp_store = MEMORY');
      db.exec(`CREATE TABLE IF NOT EXISTS spool (
        seq   INTEGER PRIMARY KEY AUTOINCREMENT,
        kind  TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        body  TEXT NOT NULL
      )`);
    } catch (e) {
      db.close();
      if ((e as { code?: string }).code === 'SQLITE_BUSY') throw new Error(`the store spool ${path} is in use by another muvakt process`);
      throw e;
    }
    this.sInsert = db.prepare('INSERT INTO spool (kind, at_ms, bytes, body) VALUES (?, ?, ?, ?)');
    this.sHead = db.prepare('SELECT seq, kind, at_ms, bytes, body FROM spool ORDER BY seq LIMIT 1');
    this.sDelete = db.prepare('DELETE FROM spool WHERE seq = ?');
    this.sDeleteKind = db.prepare('DELETE FROM spool WHERE kind = ?');
    this.sKindTotals = db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM spool WHERE kind = ?');
    this.sExpired = db.prepare('DELETE FROM spool WHERE at_ms < ?');
    this.sTotals = db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b, min(at_ms) AS oldest FROM spool');
    this.recount();
    this.expire();
  }

  /** Nothing waiting. */
  get empty(): boolean {
    return this.records === 0;
  }

  get stats(): StoreSpoolStats {
    return { records: this.records, bytes: this.bytes, oldestMs: this.oldestMs, appended: this.appended, drained: this.drained, dropped: { ...this.dropped } };
  }

  /**
   * Adds a record at the tail. Returns false (and counts why) when it is refused: the body holds
   * something fødselsnummer-like, is not JSON, or would take the spool over its byte bound.
   * With `replace`, earlier records of the same kind are removed first (a newer whole-state save).
   */
  append(kind: string, body: unknown, options: { replace?: boolean } = {}): boolean {
    this.assertOpen();
    const json = safeJson(body);
    if (json === null) {
      this.dropped.rejected++;
      return false;
    }
    if (containsFnr(json)) {
      this.dropped.phi++;
      return false;
    }
    const size = Buffer.byteLength(json);
    const at = this.now();
    let ok = false;
    this.db
      .transaction(() => {
        let freed = 0;
        let removed = 0;
        if (options.replace) {
          const t = this.sKindTotals.get(kind) as { n: number; b: number };
          freed = t.b;
          removed = t.n;
        }
        if (this.bytes - freed + size > this.maxBytes) return;
        if (removed > 0) this.sDeleteKind.run(kind);
        this.sInsert.run(kind, at, size, json);
        ok = true;
      })
      .immediate();
    if (!ok) {
      this.dropped.full++;
      return false;
    }
    this.appended++;
    if (options.replace) this.recount();
    else {
      this.records++;
      this.bytes += size;
      if (this.oldestMs === null) this.oldestMs = at;
    }
    return true;
  }

  /** The oldest record, or null when the spool is empty (expired records are dropped first). */
  head<T = unknown>(): SpoolRecord<T> | null {
    this.assertOpen();
    this.expire();
    const r = this.sHead.get() as { seq: number; kind: string; at_ms: number; bytes: number; body: string } | undefined;
    if (r === undefined) return null;
    return { seq: r.seq, kind: r.kind, atMs: r.at_ms, bytes: r.bytes, body: JSON.parse(r.body) as T };
  }

  /** Removes a record once the store has committed it. */
  remove(seq: number): void {
    this.assertOpen();
    if (this.sDelete.run(seq).changes > 0) {
      this.drained++;
      this.recount();
    }
  }

  /** Removes a record the store refused for good (not a transient failure): counted as `rejected`. */
  reject(seq: number): void {
    this.assertOpen();
    if (this.sDelete.run(seq).changes > 0) {
      this.dropped.rejected++;
      this.recount();
    }
  }

  /** Drops records past `maxAgeMs`; returns how many. */
  expire(): number {
    this.assertOpen();
    if (this.oldestMs === null || this.oldestMs >= this.now() - this.maxAgeMs) return 0;
    const n = this.sExpired.run(this.now() - this.maxAgeMs).changes;
    this.dropped.age += n;
    this.recount();
    return n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      // An empty spool leaves a small file behind, not a WAL full of old page images.
      if (this.records === 0) this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }

  private recount(): void {
    const t = this.sTotals.get() as { n: number; b: number; oldest: number | null };
    this.records = t.n;
    this.bytes = t.b;
    this.oldestMs = t.oldest;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the store spool is closed');
  }
}
