/**
 * The alert writer through the store gate on a real PostgreSQL that is stopped for a few seconds
 * mid-run: writes go to the disk spool while it is down, nothing is reported as stored before it
 * is committed, and when it is back every alert is in the database and the spool is empty.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertWriter } from '../../../agent/store/alert-writer.js';
import { PostgresStore } from '../../../agent/store/postgres-store.js';
import { SpoolGate } from '../../../agent/store/spool-gate.js';
import { StoreSpool } from '../../../agent/store/spool.js';
import type { UpsertResult } from '../../../agent/store/types.js';
import { startPostgres, type PostgresCluster } from '../../support/postgres.js';
import { cand, iso, tempDir } from './helpers.js';

const tmp = tempDir('muvakt-spool-pg-');
let pg: PostgresCluster;
beforeAll(async () => {
  pg = await startPostgres();
}, 60_000);
afterAll(async () => {
  await pg?.stop();
  tmp.cleanup();
});

describe('store spool with PostgreSQL stopped mid-run', () => {
  it('spools while the database is down and drains every alert, in order, when it is back', async () => {
    const url = await pg.createDatabase();
    const store = await PostgresStore.open(url, { sensor: 'bygg-a', connectTimeoutMs: 1000 });
    const gate = new SpoolGate(StoreSpool.open(tmp.db('pg.spool')), {}, { retryMinMs: 100, retryMaxMs: 500 });
    const reported: string[] = [];
    const writer = new AlertWriter(store, { timers: false, gate, onCommit: (r: UpsertResult) => reported.push(...r.created.map((a) => a.subject.src_ip)) });
    gate.start();

    for (let i = 0; i < 5; i++) writer.write(cand(i, { ts: iso(i * 1000) }));
    await writer.flush();
    expect(reported).toHaveLength(5);

    await pg.halt();
    for (let i = 5; i < 25; i++) {
      writer.write(cand(i, { ts: iso(i * 1000) }));
      writer.write(cand(0, { ts: iso(i * 1000), evidence: { n: i } })); // the first alert keeps firing
      await writer.flush();
    }
    expect(reported).toHaveLength(5); // nothing reported while the database is down
    expect(gate.stats.records).toBeGreaterThan(0);
    expect(gate.stats.storeUnavailable).toBe(true);
    await new Promise((r) => setTimeout(r, 2000));
    await pg.start();

    for (let i = 0; i < 200 && !(gate.idle && gate.stats.records === 0); i++) await new Promise((r) => setTimeout(r, 50));
    expect(gate.stats).toMatchObject({ records: 0, storeUnavailable: false });
    expect(reported).toHaveLength(25); // every new alert reported once, after its commit
    const all = (await store.listAlerts({ limit: 100 })).items;
    expect(all).toHaveLength(25);
    const first = all.find((a) => a.subject.src_ip === cand(0).subject.src_ip && a.subject.dst_ip === cand(0).subject.dst_ip)!;
    expect(first.count).toBe(21);
    expect(first.evidence).toEqual({ n: 24 }); // replayed in order: the last write wins
    expect(first.sensors).toEqual(['bygg-a']);
    await writer.close();
    await gate.close();
    await store.close();
  }, 60_000);
});
