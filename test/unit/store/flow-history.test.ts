import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_FLOW_HISTORY_DDL, PgFlowHistory } from '../../../agent/store/pg-flow-history.js';
import { SqliteStore } from '../../../agent/store/sqlite-store.js';
import { StoreInputError, type FlowHistoryExtent, type FlowHistoryRow, type FlowHistoryWriteResult, type FlowMatrix, type FlowMatrixQuery } from '../../../agent/store/types.js';
import { startPostgres, type PostgresCluster } from '../../support/postgres.js';
import { T0, someFnr, tempDir } from './helpers.js';

const tmp = tempDir('muvakt-flow-history-');
let cluster: PostgresCluster;
const pools: pg.Pool[] = [];
beforeAll(async () => {
  cluster = await startPostgres();
}, 120_000);
afterAll(async () => {
  for (const p of pools) await p.end().catch(() => {});
  await cluster?.stop();
  tmp.cleanup();
});

/** The flow-history methods of a store, as both backends answer them (awaited: one may be async). */
interface FlowStore {
  addFlowHistory(rows: readonly FlowHistoryRow[]): FlowHistoryWriteResult | Promise<FlowHistoryWriteResult>;
  flowMatrix(q?: FlowMatrixQuery): FlowMatrix | Promise<FlowMatrix>;
  flowHistoryExtent(sensor?: string): FlowHistoryExtent | Promise<FlowHistoryExtent>;
  close(): void | Promise<void>;
}

interface Backend {
  name: string;
  /** A new empty store's location. */
  fresh(): Promise<string>;
  open(location: string): Promise<FlowStore>;
}

const BACKENDS: Backend[] = [
  { name: 'SQLite', fresh: async () => tmp.db(), open: async (path) => SqliteStore.open(path, { now: () => T0 + DAY }) },
  {
    name: 'PostgreSQL',
    fresh: async () => {
      const url = await cluster.createDatabase();
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      await pool.query(PG_FLOW_HISTORY_DDL);
      await pool.end();
      return url;
    },
    open: async (url) => {
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      pools.push(pool);
      const h = new PgFlowHistory(pool);
      return { addFlowHistory: (r) => h.add(r), flowMatrix: (q = {}) => h.matrix(q), flowHistoryExtent: (s) => h.extent(s), close: () => pool.end() };
    },
  },
];

const MIN5 = 300_000;
const DAY = 86_400_000;

function row(bucket: number, over: Partial<FlowHistoryRow> = {}): FlowHistoryRow {
  return { bucketMs: T0 + bucket * MIN5, bucketSeconds: 300, sensor: 'sensor-a', zoneSrc: 'MU', zoneDst: 'pacs', app: 'dicom', encrypted: false, bytes: 1000, flows: 2, phiFlows: 1, ...over };
}

/** The flow-history half of the store contract, on both backends. */
describe.each(BACKENDS)('flow history in the $name store', (backend) => {
  const open = async (location?: string) => backend.open(location ?? (await backend.fresh()));

  it('two writes of the same key add up; other sensors, apps and encryption are rows of their own', async () => {
    const s = await open();
    expect(await s.addFlowHistory([row(0), row(0, { encrypted: true, bytes: 5, flows: 1, phiFlows: 0 })])).toEqual({ written: 2, rejected: 0 });
    await s.addFlowHistory([row(0, { bytes: 10, flows: 1, phiFlows: 0 }), row(0, { sensor: 'sensor-b', bytes: 7, flows: 1, phiFlows: 1 }), row(1, { app: 'hl7', zoneDst: 'his' })]);
    const all = await s.flowMatrix();
    expect(all.items).toEqual([
      { zone_src: 'MU', zone_dst: 'pacs', app: 'dicom', encrypted: false, bytes: 1017, flows: 4, phi: 2 },
      { zone_src: 'MU', zone_dst: 'his', app: 'hl7', encrypted: false, bytes: 1000, flows: 2, phi: 1 },
      { zone_src: 'MU', zone_dst: 'pacs', app: 'dicom', encrypted: true, bytes: 5, flows: 1, phi: 0 },
    ]);
    expect([all.from, all.to, all.truncated]).toEqual([new Date(T0).toISOString().replace('Z', '000Z'), new Date(T0 + 2 * MIN5).toISOString().replace('Z', '000Z'), false]);
    const b = await s.flowMatrix({ sensor: 'sensor-b' });
    expect(b.items).toEqual([{ zone_src: 'MU', zone_dst: 'pacs', app: 'dicom', encrypted: false, bytes: 7, flows: 1, phi: 1 }]);
    expect((await s.flowMatrix({ sensor: 'nobody' })).items).toEqual([]);
    await s.close();
  });

  it('a range takes every bucket it overlaps, whole; the span summed is reported', async () => {
    const s = await open();
    await s.addFlowHistory([row(0, { bytes: 1 }), row(1, { bytes: 10 }), row(2, { bytes: 100 }), row(12, { bytes: 1000 })]);
    const bytes = async (q: FlowMatrixQuery) => (await s.flowMatrix(q)).items.reduce((n, i) => n + i.bytes, 0);
    expect(await bytes({ since: T0 + MIN5 + 1, until: T0 + 2 * MIN5 })).toBe(110); // since inside bucket 1, until at bucket 2's start
    expect(await bytes({ since: T0 + MIN5 })).toBe(1110); // bucket 0 ends exactly at since: not in
    expect(await bytes({ until: T0 + MIN5 - 1 })).toBe(1);
    expect(await bytes({ since: new Date(T0 + 12 * MIN5).toISOString() })).toBe(1000);
    const m = await s.flowMatrix({ since: T0 + 3 * MIN5, until: T0 + 4 * MIN5 });
    expect(m).toEqual({ items: [], from: null, to: null, truncated: false });
    await expect(async () => s.flowMatrix({ since: T0 + MIN5, until: T0 })).rejects.toThrow(StoreInputError);
    await expect(async () => s.flowMatrix({ since: 'yesterday' })).rejects.toThrow(/since: expected an ISO 8601 time/);
    await s.close();
  });

  it('refuses malformed rows and names that hold a fødselsnummer, and writes the rest', async () => {
    const s = await open();
    const r = await s.addFlowHistory([
      row(0),
      row(0, { zoneSrc: `pasient-${someFnr('010190')}` }),
      row(0, { app: '' }),
      row(0, { bytes: -1 }),
      row(0, { flows: 1.5 }),
      row(0, { bucketSeconds: 0 }),
      row(0, { sensor: 'x'.repeat(200) }),
      { ...row(0), encrypted: 'no' as unknown as boolean },
    ]);
    expect(r).toEqual({ written: 1, rejected: 7 });
    expect((await s.flowMatrix()).items).toHaveLength(1);
    await s.close();
  });

  it('tells which sensors and time span it holds, and survives a reopen', async () => {
    const path = await backend.fresh();
    const s = await open(path);
    expect(await s.flowHistoryExtent()).toEqual({ sensors: [], from: null, to: null, bucket_seconds: null });
    await s.addFlowHistory([row(3, { sensor: 'b' }), row(5, { sensor: 'a' })]);
    await s.close();
    const again = await open(path);
    expect(await again.flowHistoryExtent()).toEqual({
      sensors: ['a', 'b'],
      from: new Date(T0 + 3 * MIN5).toISOString().replace('Z', '000Z'),
      to: new Date(T0 + 6 * MIN5).toISOString().replace('Z', '000Z'),
      bucket_seconds: 300,
    });
    expect((await again.flowHistoryExtent('b')).to).toBe(new Date(T0 + 4 * MIN5).toISOString().replace('Z', '000Z'));
    await again.close();
  });
});

describe('flow history retention', () => {
  it('keeps history for the retention counted back from the newest bucket, so old captures stay; a reader never prunes', async () => {
    const path = tmp.db();
    const s = SqliteStore.open(path, { now: () => T0 + 2 * 365 * DAY, retentionDays: 30 });
    // A capture from two years ago: 40 days of buckets.
    await s.addFlowHistory([row(0, { bytes: 1 }), row((15 * DAY) / MIN5, { bytes: 10 }), row((40 * DAY) / MIN5, { bytes: 100 })]);
    expect(await s.prune()).toMatchObject({ flow_history: 1 });
    expect((await s.flowMatrix()).items[0].bytes).toBe(110);
    await s.close();
    const reader = SqliteStore.open(path, { now: () => T0 + 5 * 365 * DAY, retentionDays: 1, pruneOnOpen: false });
    expect((await reader.flowMatrix()).items[0].bytes).toBe(110);
    reader.close();
    // A writer opening later prunes at open, again relative to the newest bucket.
    const writer = SqliteStore.open(path, { now: () => T0 + 5 * 365 * DAY, retentionDays: 20 });
    expect((await writer.flowMatrix()).items[0].bytes).toBe(100);
    writer.close();
  });


  it('PostgreSQL cuts at the same point: days before the end of the newest bucket, or the clock if earlier', async () => {
    const url = await BACKENDS[1].fresh();
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    pools.push(pool);
    const h = new PgFlowHistory(pool);
    expect(await h.cutoff(T0, 30)).toBe(T0 - 30 * DAY);
    await h.add([row(0, { bytes: 1 }), row((15 * DAY) / MIN5, { bytes: 10 }), row((40 * DAY) / MIN5, { bytes: 100 })]);
    const cut = await h.cutoff(T0 + 2 * 365 * DAY, 30);
    expect(cut).toBe(T0 + 40 * DAY + MIN5 - 30 * DAY);
    expect(await h.prune(cut)).toBe(1);
    expect((await h.matrix({})).items[0].bytes).toBe(110);
  });
});
