/**
 * The store spool and its gate against a real SQLite store: while another connection holds the
 * write lock beyond the store's busy timeout, writes go to the spool file; when the lock is
 * released the spool drains, every write arrives once and in order, and nothing is reported as
 * stored before it was committed.
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SpoolGate, type SpoolKind } from '../../../agent/store/spool-gate.js';
import { StoreSpool } from '../../../agent/store/spool.js';
import { SqliteStore } from '../../../agent/store/sqlite-store.js';
import type { AlertCandidate, UpsertResult } from '../../../agent/store/types.js';
import { isStoreUnavailable } from '../../../agent/store/unavailable.js';
import { StoreInputError } from '../../../agent/store/types.js';
import { T0, cand, iso, someFnr, tempDir } from './helpers.js';

const tmp = tempDir('muvakt-spool-');
afterAll(() => tmp.cleanup());

/** Another process's write transaction on the store file: the store's writes wait, then fail SQLITE_BUSY. */
function holdWriteLock(path: string): () => void {
  const other = new Database(path);
  other.exec('BEGIN IMMEDIATE');
  return () => {
    other.exec('COMMIT');
    other.close();
  };
}

function alertKinds(store: SqliteStore, stored: { batch: number; result: UpsertResult }[]): Record<string, SpoolKind<never, unknown>> {
  const kind: SpoolKind<{ n: number; batch: AlertCandidate[] }, UpsertResult> = {
    apply: (b) => store.upsertAlerts(b.batch),
    onStored: (result, b) => stored.push({ batch: b.n, result }),
  };
  return { alerts: kind as unknown as SpoolKind<never, unknown> };
}

describe('StoreSpool', () => {
  it('keeps records in order across a reopen, 0600, with one owner at a time', () => {
    const path = tmp.db('order.spool');
    const spool = StoreSpool.open(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    for (let i = 0; i < 5; i++) expect(spool.append('alerts', { i })).toBe(true);
    expect(() => StoreSpool.open(path)).toThrow(/in use by another muvakt process/);
    expect(spool.stats).toMatchObject({ records: 5, appended: 5 });
    spool.close();

    const again = StoreSpool.open(path);
    const seen: number[] = [];
    for (let r = again.head<{ i: number }>(); r !== null; r = again.head<{ i: number }>()) {
      seen.push(r.body.i);
      again.remove(r.seq);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(again.stats).toMatchObject({ records: 0, bytes: 0, oldestMs: null, drained: 5 });
    again.close();
  });

  it('is bounded by bytes (refuses the newest, counted) and by age (drops the oldest, counted)', () => {
    let clock = T0;
    const spool = StoreSpool.open(tmp.db('bounds.spool'), { maxBytes: 1000, maxAgeMs: 60_000, now: () => clock });
    const body = { pad: 'x'.repeat(180) }; // ~192 bytes as JSON
    let accepted = 0;
    for (let i = 0; i < 10; i++) if (spool.append('alerts', { ...body, i })) accepted++;
    expect(accepted).toBe(5);
    expect(spool.stats.bytes).toBeLessThanOrEqual(1000);
    expect(spool.stats.dropped.full).toBe(5);
    expect(spool.head<{ i: number }>()!.body.i).toBe(0); // what is kept is the oldest, contiguous run

    clock += 30_000;
    spool.append('alerts', { i: 99 });
    clock += 45_000; // the first five are now 75 s old, the last 45 s
    expect(spool.head<{ i: number }>()!.body.i).toBe(99);
    expect(spool.stats).toMatchObject({ records: 1, dropped: { full: 5, age: 5 } });
    expect(spool.stats.oldestMs).toBe(T0 + 30_000);
    spool.close();
  });

  it('keeps only the newest record of a replace kind, and refuses PHI-like bodies', () => {
    const spool = StoreSpool.open(tmp.db('replace.spool'));
    spool.append('alerts', { a: 1 });
    spool.append('devices', { v: 1 }, { replace: true });
    spool.append('alerts', { a: 2 });
    spool.append('devices', { v: 2 }, { replace: true });
    expect(spool.append('alerts', { evidence: { note: `pasient ${someFnr('010190')}` } })).toBe(false);
    const kinds: string[] = [];
    for (let r = spool.head<Record<string, number>>(); r !== null; r = spool.head()) {
      kinds.push(`${r.kind}:${JSON.stringify(r.body)}`);
      spool.remove(r.seq);
    }
    expect(kinds).toEqual(['alerts:{"a":1}', 'alerts:{"a":2}', 'devices:{"v":2}']);
    expect(spool.stats.dropped.phi).toBe(1);
    spool.close();
  });
});

describe('isStoreUnavailable', () => {
  it('retries what passes with time, not refusals', () => {
    expect(isStoreUnavailable(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }))).toBe(true);
    expect(isStoreUnavailable(Object.assign(new Error('disk full'), { code: 'SQLITE_FULL' }))).toBe(true);
    expect(isStoreUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isStoreUnavailable(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(true);
    expect(isStoreUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isStoreUnavailable(Object.assign(new Error('unique violation'), { code: '23505' }))).toBe(false);
    expect(isStoreUnavailable(Object.assign(new Error('constraint'), { code: 'SQLITE_CONSTRAINT_CHECK' }))).toBe(false);
    expect(isStoreUnavailable(new StoreInputError('limit'))).toBe(false);
  });
});

describe('SpoolGate with a SQLite store busy beyond its timeout', () => {
  it('spools while the store is locked, then drains: every batch once, in order, reported only after commit', async () => {
    const dbPath = tmp.db();
    const store = SqliteStore.open(dbPath, { busyTimeoutMs: 20, sensor: 'bygg-a' });
    const stored: { batch: number; result: UpsertResult }[] = [];
    const errors: string[] = [];
    const gate = new SpoolGate(StoreSpool.open(tmp.db('gate.spool')), alertKinds(store, stored), {
      timers: false,
      onError: (_e, what) => errors.push(what),
    });
    // Batch 0 goes straight through.
    expect((await gate.submit('alerts', { n: 0, batch: [cand(0, { evidence: { batch: 0 } })] })).state).toBe('stored');

    const release = holdWriteLock(dbPath);
    // Batches 1..20 each touch alert 0 (evidence = the batch number) and a new alert.
    for (let n = 1; n <= 20; n++) {
      const out = await gate.submit('alerts', { n, batch: [cand(0, { ts: iso(n * 1000), evidence: { batch: n } }), cand(n)] });
      expect(out.state).toBe('spooled');
    }
    expect(stored.map((s) => s.batch)).toEqual([0]); // nothing reported while spooled
    expect(gate.stats).toMatchObject({ records: 20, storeUnavailable: true });
    expect(gate.stats.failures).toBe(1); // after the first failure, later writes queue behind the spool
    expect(errors).toEqual(['unavailable']); // one report per outage
    expect(await gate.drain()).toBe(false); // still locked
    expect(gate.stats.records).toBe(20);

    release();
    expect(await gate.drain()).toBe(true);
    expect(stored.map((s) => s.batch)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    expect(gate.stats).toMatchObject({ records: 0, bytes: 0, storeUnavailable: false, drained: 20 });
    const all = (await store.listAlerts({ limit: 1000 })).items;
    expect(all).toHaveLength(21);
    const a0 = all.find((a) => a.subject.src_ip === cand(0).subject.src_ip && a.subject.dst_ip === cand(0).subject.dst_ip)!;
    expect(a0.count).toBe(21); // every batch once
    expect(a0.evidence).toEqual({ batch: 20 }); // applied in order: the last batch's evidence wins
    expect(a0.last_seen).toBe(iso(20_000));
    expect(a0.sensors).toEqual(['bygg-a']);
    await gate.close();
    await store.close();
  });

  it('a write submitted while older ones are spooled waits behind them', async () => {
    const dbPath = tmp.db();
    const store = SqliteStore.open(dbPath, { busyTimeoutMs: 20 });
    const stored: { batch: number; result: UpsertResult }[] = [];
    const gate = new SpoolGate(StoreSpool.open(tmp.db('behind.spool')), alertKinds(store, stored), { timers: false });
    const release = holdWriteLock(dbPath);
    await gate.submit('alerts', { n: 1, batch: [cand(1)] });
    release();
    // The store is free again, but batch 1 is still spooled: batch 2 must not overtake it.
    expect((await gate.submit('alerts', { n: 2, batch: [cand(2)] })).state).toBe('spooled');
    expect(await gate.drain()).toBe(true);
    expect(stored.map((s) => s.batch)).toEqual([1, 2]);
    await gate.close();
    await store.close();
  });

  it('retries on its own with backoff and drains when the store is back', async () => {
    const dbPath = tmp.db();
    const store = SqliteStore.open(dbPath, { busyTimeoutMs: 10 });
    const stored: { batch: number; result: UpsertResult }[] = [];
    let drained = 0;
    const gate = new SpoolGate(StoreSpool.open(tmp.db('timer.spool')), alertKinds(store, stored), {
      retryMinMs: 20,
      retryMaxMs: 80,
      onDrained: () => drained++,
    });
    gate.start();
    const release = holdWriteLock(dbPath);
    for (let n = 0; n < 5; n++) await gate.submit('alerts', { n, batch: [cand(n)] });
    await new Promise((r) => setTimeout(r, 200)); // several failed retries
    expect(gate.stats.failures).toBeGreaterThan(2);
    release();
    for (let i = 0; i < 100 && !gate.idle; i++) await new Promise((r) => setTimeout(r, 20));
    expect(gate.idle).toBe(true);
    expect(drained).toBe(1);
    expect(stored.map((s) => s.batch)).toEqual([0, 1, 2, 3, 4]);
    await gate.close();
    await store.close();
  });

  it('a restart with a non-empty spool drains it', async () => {
    const dbPath = tmp.db();
    const spoolPath = tmp.db('restart.spool');
    const store = SqliteStore.open(dbPath, { busyTimeoutMs: 10 });
    const release = holdWriteLock(dbPath);
    const first = new SpoolGate(StoreSpool.open(spoolPath), alertKinds(store, []), { timers: false });
    for (let n = 0; n < 7; n++) await first.submit('alerts', { n, batch: [cand(n)] });
    await first.close(); // tries once more, the store is still locked: the records stay on disk
    release();
    await store.close();

    const reopened = SqliteStore.open(dbPath);
    const stored: { batch: number; result: UpsertResult }[] = [];
    const second = new SpoolGate(StoreSpool.open(spoolPath), {}, { retryMinMs: 10 });
    expect(second.stats.records).toBe(7);
    await new Promise((r) => setTimeout(r, 50));
    expect(second.stats.records).toBe(7); // nothing is replayed before every kind is registered and start() is called
    second.register('alerts', alertKinds(reopened, stored).alerts);
    second.start();
    for (let i = 0; i < 100 && !second.idle; i++) await new Promise((r) => setTimeout(r, 10)); // drains at start, on its own
    expect(stored.map((s) => s.batch)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect((await reopened.listAlerts({ limit: 100 })).items).toHaveLength(7);
    await second.close();
    await reopened.close();
  });

  it('a record the store refuses for good is dropped and counted; the ones behind it pass', async () => {
    const dbPath = tmp.db();
    const store = SqliteStore.open(dbPath, { busyTimeoutMs: 10 });
    const stored: number[] = [];
    const kinds: Record<string, SpoolKind<never, unknown>> = {
      alerts: {
        apply: (b: { n: number; batch: AlertCandidate[] }) => {
          if (b.n === 1) throw new StoreInputError('refused');
          return store.upsertAlerts(b.batch);
        },
        onStored: (_r: unknown, b: { n: number }) => stored.push(b.n),
      } as unknown as SpoolKind<never, unknown>,
    };
    const gate = new SpoolGate(StoreSpool.open(tmp.db('refuse.spool')), kinds, { timers: false });
    const release = holdWriteLock(dbPath);
    for (let n = 0; n < 3; n++) await gate.submit('alerts', { n, batch: [cand(n)] });
    release();
    expect(await gate.drain()).toBe(true);
    expect(stored).toEqual([0, 2]);
    expect(gate.stats.dropped.rejected).toBe(1);
    await gate.close();
    await store.close();
  });
});
