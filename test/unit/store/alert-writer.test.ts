import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { SqliteStore } from '../../../agent/store/sqlite-store.js';
import { AlertWriter, RateCap } from '../../../agent/store/alert-writer.js';
import type { UpsertResult } from '../../../agent/store/types.js';
import { T0, cand, iso, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function setup(opts: ConstructorParameters<typeof AlertWriter>[1] = {}) {
  let clock = T0;
  const path = tmp.db();
  const store = SqliteStore.open(path, { now: () => clock });
  const commits: UpsertResult[] = [];
  const writer = new AlertWriter(store, { timers: false, now: () => clock, onCommit: (r) => commits.push(r), ...opts });
  /** What another connection sees: only committed rows. */
  const committedRows = () => {
    const db = new Database(path, { readonly: true });
    const n = (db.prepare('SELECT count(*) AS n, coalesce(sum(count), 0) AS c FROM alerts').get() as { n: number; c: number });
    db.close();
    return n;
  };
  return { store, writer, commits, committedRows, tick: (ms: number) => (clock += ms) };
}

describe('AlertWriter', () => {
  it('buffers and commits in batches: by size, by age, on flush; coalesces repeats', () => {
    const { store, writer, commits, committedRows, tick } = setup({ maxBatch: 10, flushIntervalMs: 1000 });
    for (let i = 0; i < 9; i++) writer.write(cand(i));
    for (let k = 0; k < 100; k++) writer.write(cand(0, { ts: iso(50_000 + k) })); // same alert: coalesced
    expect(commits).toHaveLength(0);
    expect(committedRows()).toEqual({ n: 0, c: 0 }); // nothing in SQLite yet
    expect(writer.pendingCount).toBe(9);

    writer.write(cand(9)); // 10th distinct alert → batch committed synchronously
    expect(commits).toHaveLength(1);
    expect(commits[0].created).toHaveLength(10);
    expect(committedRows()).toEqual({ n: 10, c: 110 });
    expect(writer.stats).toMatchObject({ received: 110, coalesced: 100, batches: 1, created: 10 });
    expect(store.listAlerts({ ip: '10.77.10.0' }).items[0]).toMatchObject({ count: 101, first_seen: iso(0), last_seen: iso(50_099) });

    writer.write(cand(20));
    expect(commits).toHaveLength(1);
    tick(1000);
    writer.write(cand(21)); // the batch is old enough: committed on this write
    expect(commits).toHaveLength(2);
    expect(commits[1].created).toHaveLength(2);

    writer.write(cand(1));
    const r = writer.flush();
    expect(r.updated.map((a) => a.count)).toEqual([2]);
    expect(writer.flush().created).toHaveLength(0); // empty flush: nothing to do, no callback
    expect(commits).toHaveLength(3);
    writer.close();
    store.close();
  });

  it('the flush timer commits without writes; committed() resolves after the commit', async () => {
    const path = tmp.db();
    const store = SqliteStore.open(path, { now: () => T0 });
    const writer = new AlertWriter(store, { flushIntervalMs: 20 });
    writer.write(cand(1));
    const p = writer.committed();
    const r = await p;
    expect(r.created).toHaveLength(1);
    expect(store.listAlerts().items).toHaveLength(1);
    await expect(writer.committed()).resolves.toMatchObject({ created: [] }); // nothing pending
    writer.close();
    store.close();
  });

  it('caps distinct new alerts per rule per hour; updates always pass; counts what it refused', () => {
    const { store, writer, tick } = setup({ maxNewPerRulePerHour: 5, maxBatch: 1000, flushIntervalMs: 1e9 });
    for (let i = 0; i < 12; i++) writer.write(cand(i));
    for (let i = 0; i < 3; i++) writer.write(cand(i, { rule_id: 'G13.obsolete' }));
    let r = writer.flush();
    expect(r.created).toHaveLength(8);
    expect(r.capped).toBe(7);
    expect(writer.stats.capped).toBe(7);
    expect(writer.stats.cappedByRule.get('G2.medical-internet')).toBe(7);

    // Updates to the 5 admitted alerts pass while the rule is capped; new ones still do not.
    for (let i = 0; i < 12; i++) writer.write(cand(i, { ts: iso(100_000) }));
    r = writer.flush();
    expect(r.updated).toHaveLength(5);
    expect(r.capped).toBe(7);

    tick(3_600_000); // next hour
    for (let i = 0; i < 12; i++) writer.write(cand(i, { ts: iso(200_000) }));
    r = writer.flush();
    expect(r.updated).toHaveLength(5);
    expect(r.created).toHaveLength(5);
    expect(r.capped).toBe(2);
    expect(store.listAlerts({ rule_id: 'G2.medical-internet', limit: 100 }).items).toHaveLength(10);
    writer.close();
    store.close();
  });

  it('RateCap windows are per key and per clock hour', () => {
    let now = 0;
    const cap = new RateCap(2, () => now);
    expect([cap.admit('a'), cap.admit('a'), cap.admit('a'), cap.admit('b')]).toEqual([true, true, false, true]);
    now = 3_600_000;
    expect(cap.admit('a')).toBe(true);
    expect(cap.capped.get('a')).toBe(1);
  });

  it('a failed commit keeps the batch pending and retries it; the cap on pending bounds memory', () => {
    const errors: Error[] = [];
    const { store, writer, commits } = setup({ maxBatch: 1000, maxPending: 1000, maxNewPerRulePerHour: 10_000, onError: (e) => errors.push(e) });
    const spy = vi.spyOn(store, 'upsertAlerts').mockImplementationOnce(() => {
      throw new Error('SQLITE_FULL: database or disk is full');
    });
    writer.write(cand(1));
    writer.write(cand(2));
    expect(() => writer.flush()).toThrow(/SQLITE_FULL/);
    expect(writer.pendingCount).toBe(2);
    expect(writer.stats.commitErrors).toBe(1);
    expect(commits).toHaveLength(0);
    const r = writer.flush();
    expect(r.created).toHaveLength(2);
    expect(writer.pendingCount).toBe(0);
    spy.mockRestore();

    // While commits fail, at most maxPending distinct alerts are held; repeats of those still count.
    const fail = vi.spyOn(store, 'upsertAlerts').mockImplementation(() => {
      throw new Error('disk full');
    });
    for (let i = 0; i < 1500; i++) writer.write(cand(100 + i));
    writer.write(cand(100));
    expect(writer.pendingCount).toBe(1000);
    expect(writer.stats.dropped).toBe(500);
    expect(errors.length).toBeGreaterThan(0); // the size-triggered flushes reported, did not throw into write()
    fail.mockRestore();
    expect(writer.flush().created).toHaveLength(1000);
    writer.close();
    store.close();
  });

  it('close() commits what is pending and stops accepting writes', () => {
    const { store, writer } = setup();
    writer.write(cand(1));
    writer.close();
    expect(store.listAlerts().items).toHaveLength(1);
    expect(() => writer.write(cand(2))).toThrow(/closed/);
    store.close();
  });

  it('prune() commits first, then applies the retention', () => {
    const { store, writer, tick } = setup();
    writer.write(cand(1));
    tick(200 * 86_400_000);
    writer.write(cand(2, { ts: iso(199 * 86_400_000) }));
    expect(writer.prune()).toEqual({ alerts: 1, history: 0, audit: 0, flow_history: 0 });
    expect(store.listAlerts().items.map((a) => a.subject.src_ip)).toEqual(['10.77.10.2']);
    writer.close();
    store.close();
  });
});
