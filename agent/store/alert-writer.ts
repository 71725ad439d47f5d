/**
 * Takes alert candidates from the packet path and commits them in batches, so the store never
 * runs per packet. `write()` is a Map lookup: repeats of the same (rule_id, subject) inside
 * a batch are coalesced (count, first/last seen, latest evidence). A batch is committed when
 * it holds `maxBatch` distinct alerts, when `flushIntervalMs` has passed (checked by a timer
 * and on every write, so a long synchronous analysis still commits), on `flush()` and on
 * `close()`. "Reported as stored" = `onCommit` has been called / `committed()` or `flush()`
 * resolved: the transaction is committed (SQLite: in the WAL; PostgreSQL: acknowledged by the
 * server) and survives kill -9 of this process. One commit is in flight at a time; what arrives
 * meanwhile waits for the next one. A failed commit puts its batch back (merged with what came
 * since), so it is retried by the next flush.
 *
 * Bounded: at most `maxNewPerRulePerHour` new alerts per rule per clock hour (updates to
 * existing alerts always pass), and at most `maxPending` distinct alerts held while commits
 * fail (e.g. disk full); beyond that candidates are dropped and counted.
 */
import type { SpoolGate } from './spool-gate.js';
import type { Store } from './store.js';
import type { AlertCandidate, PruneResult, UpsertResult } from './types.js';
import { alertKey, parseTs } from './values.js';

export interface AlertWriterOptions {
  /** Commit when this many distinct alerts are pending (default 500). */
  maxBatch?: number;
  /** Commit pending alerts at least this often (default 250 ms). */
  flushIntervalMs?: number;
  /** New distinct alerts per rule per clock hour (default 1000). Updates are never capped. */
  maxNewPerRulePerHour?: number;
  /** Distinct alerts held while commits fail; beyond that, new ones are dropped (default 20 000). */
  maxPending?: number;
  /** Prune the store this often (default daily; 0 = never). The store also prunes at open. */
  pruneIntervalMs?: number;
  /** Run the flush and prune timers (default true; off for tests that drive `flush()`). */
  timers?: boolean;
  /** Clock (epoch ms) for the rate-cap window and the flush interval; default Date.now. */
  now?: () => number;
  /** Called after every committed batch (not called for empty flushes). */
  onCommit?: (result: UpsertResult) => void;
  /** Commit or prune failures from timers, and exceptions thrown by onCommit. */
  onError?: (error: Error) => void;
  /**
   * Batches go through this gate: while the store is unavailable they are held in its disk spool
   * (counted in `spooled`) instead of memory, and replayed in order; `onCommit` is called when a
   * replayed batch commits. Without it, a failed batch stays pending in memory (bounded by maxPending).
   */
  gate?: SpoolGate;
}

export interface AlertWriterStats {
  /** Candidates passed to write(). */
  received: number;
  /** Candidates merged into an alert already pending in the same batch. */
  coalesced: number;
  batches: number;
  created: number;
  updated: number;
  reopened: number;
  /** New alerts refused by the per-rule cap, in total and per rule id. */
  capped: number;
  cappedByRule: Map<string, number>;
  rejectedPhi: number;
  invalid: number;
  /** Candidates dropped because commits were failing and `maxPending` was reached. */
  dropped: number;
  /** Distinct alerts handed to the disk spool because the store was unavailable (reported when replayed). */
  spooled: number;
  commitErrors: number;
  pruned: PruneResult;
}

const HOUR_MS = 3_600_000;

/** At most `limit` admissions per key per fixed clock-hour window. */
export class RateCap {
  private readonly windows = new Map<string, { window: number; n: number }>();
  readonly capped = new Map<string, number>();

  constructor(
    readonly limit: number,
    private readonly now: () => number = Date.now,
    readonly windowMs = HOUR_MS,
  ) {}

  admit(key: string): boolean {
    const window = Math.floor(this.now() / this.windowMs);
    let w = this.windows.get(key);
    if (w === undefined) {
      w = { window, n: 0 };
      this.windows.set(key, w);
    } else if (w.window !== window) {
      w.window = window;
      w.n = 0;
    }
    if (w.n >= this.limit) {
      this.capped.set(key, (this.capped.get(key) ?? 0) + 1);
      return false;
    }
    w.n++;
    return true;
  }
}

interface Pending {
  c: AlertCandidate;
  first: string;
  last: string;
  count: number;
}

export class AlertWriter {
  readonly stats: AlertWriterStats = {
    received: 0,
    coalesced: 0,
    batches: 0,
    created: 0,
    updated: 0,
    reopened: 0,
    capped: 0,
    cappedByRule: new Map(),
    rejectedPhi: 0,
    invalid: 0,
    dropped: 0,
    spooled: 0,
    commitErrors: 0,
    pruned: { alerts: 0, history: 0, audit: 0, flow_history: 0, remote_sessions: 0 },
  };
  private pending = new Map<string, Pending>();
  private readonly maxBatch: number;
  private readonly flushIntervalMs: number;
  private readonly maxPending: number;
  private readonly now: () => number;
  private readonly cap: RateCap;
  private readonly admit: (ruleId: string) => boolean;
  private lastFlush: number;
  private inFlight: Promise<UpsertResult> | null = null;
  /** The batch being committed: still held (not stored yet) and counted against maxPending. */
  private inFlightBatch: Map<string, Pending> | null = null;
  /** A flush is waiting for the one in flight: writes need not queue another. */
  private queued = false;
  private closed = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    readonly store: Pick<Store, 'upsertAlerts' | 'prune'>,
    private readonly options: AlertWriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 500;
    this.flushIntervalMs = options.flushIntervalMs ?? 250;
    this.maxPending = Math.max(options.maxPending ?? 20_000, this.maxBatch);
    this.now = options.now ?? Date.now;
    this.cap = new RateCap(options.maxNewPerRulePerHour ?? 1000, this.now);
    this.admit = (ruleId) => this.cap.admit(ruleId);
    this.stats.cappedByRule = this.cap.capped;
    options.gate?.register<{ batch: AlertCandidate[] }, UpsertResult>('alerts', {
      apply: (b) => this.store.upsertAlerts(b.batch, { admitNew: this.admit }),
      onStored: (result) => this.recordCommit(result),
    });
    this.lastFlush = this.now();
    if (options.timers ?? true) {
      const t = setInterval(() => {
        if (this.pending.size > 0) this.flushQuietly();
      }, this.flushIntervalMs);
      t.unref();
      this.timers.push(t);
      const pruneMs = options.pruneIntervalMs ?? 86_400_000;
      if (pruneMs > 0) {
        const p = setInterval(() => {
          this.prune().catch((e: unknown) => this.report(e));
        }, pruneMs);
        p.unref();
        this.timers.push(p);
      }
    }
  }

  /** Distinct alerts not committed yet (waiting, or in the commit in flight). */
  get pendingCount(): number {
    const f = this.inFlightBatch;
    if (f === null) return this.pending.size;
    let n = f.size;
    for (const k of this.pending.keys()) if (!f.has(k)) n++;
    return n;
  }

  /** Queues a candidate; may start a commit (size or age reached). */
  write(c: AlertCandidate): void {
    if (this.closed) throw new Error('AlertWriter is closed');
    this.stats.received++;
    const subject = c?.subject;
    const t = typeof c?.ts === 'string' && typeof c.rule_id === 'string' && typeof subject === 'object' && subject !== null ? parseTs(c.ts) : null;
    const f = t !== null && c.first_ts !== undefined ? parseTs(c.first_ts) : t;
    if (t === null || f === null) {
      this.stats.invalid++;
      return;
    }
    const key = alertKey(c.rule_id, subject);
    const n = c.count ?? 1;
    const p = this.pending.get(key);
    if (p !== undefined) {
      this.stats.coalesced++;
      p.c = c; // latest title, severity, evidence, recommendation
      p.count += n;
      if (t.iso > p.last) p.last = t.iso;
      if (f.iso < p.first) p.first = f.iso;
    } else if (this.pending.size + (this.inFlightBatch?.size ?? 0) >= this.maxPending && !this.inFlightBatch?.has(key)) {
      this.stats.dropped++;
      return;
    } else {
      this.pending.set(key, { c, first: f.iso, last: t.iso, count: n });
    }
    if (this.pending.size >= this.maxBatch || this.now() - this.lastFlush >= this.flushIntervalMs) this.flushQuietly();
  }

  /**
   * Commits everything pending (after the commit in flight, if any) in one transaction and
   * resolves with what it did. Rejects if the commit fails; the alerts stay pending and are
   * retried by the next flush.
   */
  async flush(): Promise<UpsertResult> {
    // The commit in flight: its result is this flush's when nothing arrived since.
    let previous: UpsertResult | null = null;
    while (this.inFlight !== null) {
      this.queued = true;
      previous = await this.inFlight.catch(() => null);
    }
    this.queued = false;
    if (this.pending.size === 0) return previous ?? emptyResult();
    this.lastFlush = this.now();
    const taken = this.pending;
    this.pending = new Map();
    const commit = this.commit(taken);
    this.inFlight = commit;
    this.inFlightBatch = taken;
    try {
      return await commit;
    } finally {
      this.inFlight = null;
      this.inFlightBatch = null;
    }
  }

  private async commit(taken: Map<string, Pending>): Promise<UpsertResult> {
    const batch: AlertCandidate[] = [];
    for (const p of taken.values()) batch.push({ ...p.c, ts: p.last, first_ts: p.first, count: p.count });
    const gate = this.options.gate;
    if (gate !== undefined) {
      // Reported (stats, onCommit) by the gate's onStored, directly or when the spool is replayed.
      let out;
      try {
        out = await gate.submit<{ batch: AlertCandidate[] }, UpsertResult>('alerts', { batch });
      } catch (e) {
        this.stats.commitErrors++;
        this.putBack(taken);
        throw e;
      }
      if (out.state === 'stored') return out.result;
      this.stats.commitErrors++;
      if (out.state === 'spooled') this.stats.spooled += batch.length;
      else this.stats.dropped += batch.length;
      return emptyResult();
    }
    let result: UpsertResult;
    try {
      result = await this.store.upsertAlerts(batch, { admitNew: this.admit });
    } catch (e) {
      this.stats.commitErrors++;
      this.putBack(taken);
      throw e;
    }
    this.recordCommit(result);
    return result;
  }

  /** Counts a committed batch and hands it on: the one place an alert becomes "reported as stored". */
  private recordCommit(result: UpsertResult): void {
    const s = this.stats;
    s.batches++;
    s.created += result.created.length;
    s.updated += result.updated.length;
    s.reopened += result.reopened.length;
    s.capped += result.capped;
    s.rejectedPhi += result.rejected_phi;
    s.invalid += result.invalid;
    if (this.options.onCommit !== undefined) {
      try {
        this.options.onCommit(result);
      } catch (e) {
        this.report(e);
      }
    }
  }

  /** A failed batch goes back in front of what arrived while it was in flight (merged by key). */
  private putBack(taken: Map<string, Pending>): void {
    for (const [key, q] of this.pending) {
      const p = taken.get(key);
      if (p === undefined) {
        taken.set(key, q);
        continue;
      }
      p.c = q.c;
      p.count += q.count;
      if (q.last > p.last) p.last = q.last;
      if (q.first < p.first) p.first = q.first;
    }
    this.pending = taken;
  }

  /** Resolves after a commit that includes everything written so far (it starts one now). */
  committed(): Promise<UpsertResult> {
    return this.flush();
  }

  /** Commits pending alerts, then deletes what is past the store's retention. */
  async prune(): Promise<PruneResult> {
    await this.flush();
    const r = await this.store.prune(this.now());
    this.stats.pruned.alerts += r.alerts;
    this.stats.pruned.history += r.history;
    this.stats.pruned.audit += r.audit;
    this.stats.pruned.flow_history += r.flow_history;
    return r;
  }

  /** Stops the timers and commits what is pending (rejects if that commit fails). Does not close the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    this.closed = true;
    await this.flush();
  }

  private flushQuietly(): void {
    if (this.queued) return;
    this.flush().catch((e: unknown) => this.report(e));
  }

  private report(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    if (this.options.onError !== undefined) this.options.onError(err);
  }
}

function emptyResult(): UpsertResult {
  return { created: [], updated: [], reopened: [], capped: 0, rejected_phi: 0, invalid: 0 };
}
