/**
 * The one way a sensor's writes reach its store: straight through while the store takes them,
 * through the disk spool (spool.ts) while it does not.
 *
 *   submit(kind, body) ─┬─ spool empty, store up ──► apply ──► onStored      (reported as stored)
 *                       └─ spool not empty, or the store unavailable ──► spool ──► drain ──► apply ──► onStored
 *
 * Order: writes are applied one at a time, in the order they were submitted, whether directly
 * or from the spool; while anything is spooled, new writes queue behind it. The drain retries
 * with exponential backoff (`retryMinMs` doubling to `retryMaxMs`) and replays the spool head
 * first until it is empty.
 *
 * "Reported as stored" means `onStored` was called, which happens only after the store
 * committed the record. A spooled record is on disk (it survives kill -9) but not yet stored.
 * A record the store refuses for good (see unavailable.ts) is dropped from the spool and counted,
 * so one bad record never blocks the ones behind it.
 *
 * Replay is at least once: if the store commits a record and the connection breaks before the
 * answer arrives, the record stays spooled and is applied again (an alert's count may then
 * include that batch twice; device saves are idempotent).
 */
import type { StoreSpool, StoreSpoolStats } from './spool.js';
import { isStoreUnavailable } from './unavailable.js';

export interface SpoolKind<T = unknown, R = unknown> {
  /** Writes one record to the store; resolves (or returns) once it is committed. */
  apply(body: T): Promise<R> | R;
  /** Only the newest record of this kind matters (a whole-state save such as the inventory). */
  replace?: boolean;
  /** Called for every record committed, directly or from the spool: the only "stored" report. */
  onStored?(result: R, body: T): void;
}

export interface SpoolGateOptions {
  /** First retry after this long (default 500 ms); doubles per failure up to `retryMaxMs` (default 30 s). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Which errors mean "try later" (default: isStoreUnavailable). */
  isUnavailable?: (e: unknown) => boolean;
  /** Store failures (each streak reported once), refusals and callback exceptions. Never given record contents. */
  onError?: (e: Error, what: 'unavailable' | 'refused' | 'callback' | 'spool') => void;
  /** Told when the store took writes again after a failure, and when the spool has drained empty. */
  onRecovered?: () => void;
  onDrained?: () => void;
  /** Retry on a timer (default true; tests drive `drain()` themselves). */
  timers?: boolean;
}

export type SubmitOutcome<R> = { state: 'stored'; result: R } | { state: 'spooled' } | { state: 'dropped' };

export interface SpoolGateStats extends StoreSpoolStats {
  /** True from the first unavailable error until the store takes a write again. */
  storeUnavailable: boolean;
  /** Failed attempts against the store (direct or replay). */
  failures: number;
}

export class SpoolGate {
  private chain: Promise<unknown> = Promise.resolve();
  private unavailable = false;
  private failures = 0;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  private draining: Promise<boolean> | null = null;
  private started = false;
  private closed = false;
  private readonly kinds = new Map<string, SpoolKind<never, unknown>>();
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly unavailableTest: (e: unknown) => boolean;

  /**
   * `kinds` may be given here or registered later (`register`); nothing is replayed before
   * `start()`, so a spool left by the last run waits until every writer has registered its kind.
   */
  constructor(
    readonly spool: StoreSpool,
    kinds: Readonly<Record<string, SpoolKind<never, unknown>>> = {},
    private readonly options: SpoolGateOptions = {},
  ) {
    this.retryMinMs = options.retryMinMs ?? 500;
    this.retryMaxMs = Math.max(options.retryMaxMs ?? 30_000, this.retryMinMs);
    this.backoffMs = this.retryMinMs;
    this.unavailableTest = options.isUnavailable ?? isStoreUnavailable;
    for (const [k, v] of Object.entries(kinds)) this.kinds.set(k, v);
  }

  /** Adds a kind of write (alert batches, device saves, flow buckets, …): how it is applied and reported. */
  register<T, R>(kind: string, k: SpoolKind<T, R>): void {
    if (this.kinds.has(kind)) throw new Error(`store write kind "${kind}" is registered twice`);
    this.kinds.set(kind, k as unknown as SpoolKind<never, unknown>);
  }

  /** Every kind is registered: replay what the last run left in the spool (a crash, or the store down at shutdown). */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (!this.spool.empty) this.schedule(0);
  }

  get stats(): SpoolGateStats {
    return { ...this.spool.stats, storeUnavailable: this.unavailable, failures: this.failures };
  }

  /** Nothing spooled and no write in flight. */
  get idle(): boolean {
    return this.spool.empty && this.draining === null;
  }

  /**
   * Writes `body` now, or spools it when the store is unavailable or older writes are still
   * spooled. A refusal by the store (not a transient failure) is thrown, as the store threw it.
   * 'dropped': the spool refused it (full, or PHI-like: see StoreSpool.append).
   */
  submit<T, R>(kind: string, body: T): Promise<SubmitOutcome<R>> {
    const k = this.kind(kind) as unknown as SpoolKind<T, R>;
    return this.serial(async (): Promise<SubmitOutcome<R>> => {
      if (this.closed) throw new Error('the store gate is closed');
      if (!this.spool.empty) return this.toSpool(kind, body, k);
      let result: R;
      try {
        result = await k.apply(body);
      } catch (e) {
        if (!this.unavailableTest(e)) throw e;
        this.markUnavailable(e);
        return this.toSpool(kind, body, k);
      }
      this.markAvailable();
      this.stored(k, result, body);
      return { state: 'stored', result };
    });
  }

  /**
   * Replays the spool in order until it is empty (true) or the store fails again (false; a retry
   * is scheduled). Concurrent calls share one drain.
   */
  drain(): Promise<boolean> {
    this.started = true;
    if (this.draining !== null) return this.draining;
    this.clearRetry();
    const run = this.serial(async () => {
      for (;;) {
        let head;
        try {
          head = this.spool.head();
        } catch (e) {
          this.report(e, 'spool');
          return false;
        }
        if (head === null) return true;
        const k = this.kinds.get(head.kind);
        if (k === undefined) {
          // A kind this version does not write (a spool from a newer muvakt): not ours to replay.
          this.spool.reject(head.seq);
          continue;
        }
        let result: unknown;
        try {
          result = await (k.apply as (b: unknown) => unknown)(head.body);
        } catch (e) {
          if (this.unavailableTest(e)) {
            this.markUnavailable(e);
            return false;
          }
          this.report(e, 'refused');
          this.spool.reject(head.seq);
          continue;
        }
        this.markAvailable();
        this.spool.remove(head.seq);
        this.stored(k, result, head.body);
      }
    });
    this.draining = run.then(
      (empty) => {
        this.draining = null;
        if (empty) this.options.onDrained?.();
        else this.schedule(this.nextBackoff());
        return empty;
      },
      (e: unknown) => {
        this.draining = null;
        this.report(e, 'spool');
        this.schedule(this.nextBackoff());
        return false;
      },
    );
    return this.draining;
  }

  /**
   * Stops retrying and closes the spool. With `drainFirst`, one last drain is tried (what the
   * store does not take stays on disk for the next start).
   */
  async close(drainFirst = true): Promise<void> {
    if (this.closed) return;
    if (drainFirst && !this.spool.empty) await this.drain();
    await this.serial(async () => {
      this.closed = true;
    });
    this.clearRetry();
    this.spool.close();
  }

  private toSpool<T, R>(kind: string, body: T, k: SpoolKind<T, R>): SubmitOutcome<R> {
    let ok: boolean;
    try {
      ok = this.spool.append(kind, body, { replace: k.replace === true });
    } catch (e) {
      this.report(e, 'spool');
      ok = false;
    }
    if (this.retryTimer === null && this.draining === null) this.schedule(this.unavailable ? this.backoffMs : 0);
    return ok ? { state: 'spooled' } : { state: 'dropped' };
  }

  private stored<T, R>(k: SpoolKind<T, R>, result: R, body: T): void {
    if (k.onStored === undefined) return;
    try {
      k.onStored(result, body);
    } catch (e) {
      this.report(e, 'callback');
    }
  }

  private markUnavailable(e: unknown): void {
    this.failures++;
    if (!this.unavailable) {
      this.unavailable = true;
      this.report(e, 'unavailable');
    }
  }

  private markAvailable(): void {
    this.backoffMs = this.retryMinMs;
    if (!this.unavailable) return;
    this.unavailable = false;
    this.options.onRecovered?.();
  }

  private nextBackoff(): number {
    const ms = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.retryMaxMs);
    return ms;
  }

  private schedule(ms: number): void {
    if (!this.started || this.closed || this.options.timers === false || this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.drain();
    }, ms);
    this.retryTimer.unref();
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Runs `fn` after everything queued before it: one write at a time, in order. */
  private serial<X>(fn: () => Promise<X>): Promise<X> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private kind(kind: string): SpoolKind<never, unknown> {
    const k = this.kinds.get(kind);
    if (k === undefined) throw new Error(`no store write of kind "${kind}"`);
    return k;
  }

  private report(e: unknown, what: 'unavailable' | 'refused' | 'callback' | 'spool'): void {
    this.options.onError?.(e instanceof Error ? e : new Error(String(e)), what);
  }
}
