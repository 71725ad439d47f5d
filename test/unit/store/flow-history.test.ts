import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PgFlowHistory } from '../../../agent/store/pg-flow-history.js';
import { StoreInputError, type FlowHistoryRow, type FlowMatrixQuery } from '../../../agent/store/types.js';
import { BACKENDS, postgresBackend, setupBackends } from './backends.js';
import { T0, someFnr } from './helpers.js';

setupBackends();
const DAY = 86_400_000;
const MIN5 = 300_000;

function row(bucket: number, over: Partial<FlowHistoryRow> = {}): FlowHistoryRow {
  return { bucketMs: T0 + bucket * MIN5, bucketSeconds: 300, sensor: 'sensor-a', zoneSrc: 'MU', zoneDst: 'pacs', app: 'dicom', encrypted: false, bytes: 1000, flows: 2, phiFlows: 1, ...over };
}

/** The flow-history half of the store contract, on both backends. */
describe.each(BACKENDS)('flow history in the $name store', (backend) => {
  const open = async (location?: string) => backend.open(location ?? (await backend.fresh()), { now: () => T0 + DAY });

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

  it('keeps history for the retention counted back from the newest bucket, so old captures stay; a reader never prunes', async () => {
    const path = await backend.fresh();
    const s = await backend.open(path, { now: () => T0 + 2 * 365 * DAY, retentionDays: 30 });
    // A capture from two years ago: 40 days of buckets.
    await s.addFlowHistory([row(0, { bytes: 1 }), row((15 * DAY) / MIN5, { bytes: 10 }), row((40 * DAY) / MIN5, { bytes: 100 })]);
    expect(await s.prune()).toMatchObject({ flow_history: 1 });
    expect((await s.flowMatrix()).items[0].bytes).toBe(110);
    await s.close();
    const reader = await backend.open(path, { now: () => T0 + 5 * 365 * DAY, retentionDays: 1, pruneOnOpen: false });
    expect((await reader.flowMatrix()).items[0].bytes).toBe(110);
    await reader.close();
    // A writer opening later prunes at open, again relative to the newest bucket.
    const writer = await backend.open(path, { now: () => T0 + 5 * 365 * DAY, retentionDays: 20 });
    expect((await writer.flowMatrix()).items[0].bytes).toBe(100);
    await writer.close();
  });
});

describe('flow history on PostgreSQL, several writers', () => {
  it('sensors writing the same bucket at once all add up (the upsert serialises on the row)', async () => {
    const url = await postgresBackend.fresh();
    const store = await postgresBackend.open(url, { now: () => T0 + DAY });
    const pool = new pg.Pool({ connectionString: url, max: 8 });
    try {
      const h = new PgFlowHistory(pool);
      await Promise.all(Array.from({ length: 16 }, () => h.add([row(0, { bytes: 3, flows: 1, phiFlows: 0 }), row(0, { bytes: 3, flows: 1, phiFlows: 0 })])));
      expect((await store.flowMatrix()).items).toEqual([{ zone_src: 'MU', zone_dst: 'pacs', app: 'dicom', encrypted: false, bytes: 96, flows: 32, phi: 0 }]);
    } finally {
      await pool.end();
      await store.close();
    }
  });
});

/** The address-pair rows (flow_peers) beside the zone rows, on both backends. */
describe.each(BACKENDS)('flow peers in the $name store', (backend) => {
  const HOUR = 3_600_000;
  const peer = (hour: number, over: Partial<FlowHistoryRow> = {}): FlowHistoryRow => ({
    ...row(0),
    bucketMs: T0 + hour * HOUR,
    bucketSeconds: 3600,
    clientIp: '10.77.10.50',
    serverIp: '10.77.20.9',
    ...over,
  });
  const open = async () => backend.open(await backend.fresh(), { now: () => T0 + DAY });

  it('peer rows add up by pair, stay out of the zone matrix, and answer by address or by zone pair with a series per bucket', async () => {
    const s = await open();
    expect(
      await s.addFlowHistory([
        row(0),
        peer(0),
        peer(0, { bytes: 24, flows: 1, phiFlows: 0 }),
        peer(2, { bytes: 5, flows: 1, phiFlows: 0, encrypted: true, app: 'tls' }),
        peer(1, { clientIp: '198.51.100.7', serverIp: '10.77.10.50', zoneSrc: 'external', zoneDst: 'MU', app: 'vnc', bytes: 700, flows: 1, phiFlows: 0 }),
        peer(1, { clientIp: '10.77.30.5', serverIp: '10.77.20.9', zoneSrc: 'lab', bytes: 9, flows: 1, phiFlows: 0 }),
      ]),
    ).toEqual({ written: 6, rejected: 0 });
    // The zone matrix holds the zone row only.
    expect((await s.flowMatrix()).items).toEqual([{ zone_src: 'MU', zone_dst: 'pacs', app: 'dicom', encrypted: false, bytes: 1000, flows: 2, phi: 1 }]);
    const at = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');
    const dev = await s.flowPeers({ ips: ['10.77.10.50'] });
    expect(dev.items).toEqual([
      { client_ip: '10.77.10.50', server_ip: '10.77.20.9', zone_src: 'MU', zone_dst: 'pacs', app: 'dicom', encrypted: false, first_seen: at(T0), last_seen: at(T0 + HOUR), bytes: 1024, flows: 3, phi: 1 },
      { client_ip: '198.51.100.7', server_ip: '10.77.10.50', zone_src: 'external', zone_dst: 'MU', app: 'vnc', encrypted: false, first_seen: at(T0 + HOUR), last_seen: at(T0 + 2 * HOUR), bytes: 700, flows: 1, phi: 0 },
      { client_ip: '10.77.10.50', server_ip: '10.77.20.9', zone_src: 'MU', zone_dst: 'pacs', app: 'tls', encrypted: true, first_seen: at(T0 + 2 * HOUR), last_seen: at(T0 + 3 * HOUR), bytes: 5, flows: 1, phi: 0 },
    ]);
    expect(dev.series).toEqual([
      { start: at(T0), seconds: 3600, flows: 3, bytes: 1024 },
      { start: at(T0 + HOUR), seconds: 3600, flows: 1, bytes: 700 },
      { start: at(T0 + 2 * HOUR), seconds: 3600, flows: 1, bytes: 5 },
    ]);
    expect([dev.from, dev.to, dev.truncated]).toEqual([at(T0), at(T0 + 3 * HOUR), false]);
    // A range takes the buckets it overlaps.
    expect((await s.flowPeers({ ips: ['10.77.10.50'], since: T0 + HOUR + 1, until: T0 + 2 * HOUR - 1 })).items.map((i) => i.app)).toEqual(['vnc']);
    // One matrix cell: its pairs, whatever the device.
    const cell = await s.flowPeers({ zone_src: 'MU', zone_dst: 'pacs' });
    expect(cell.items.map((i) => [i.client_ip, i.app, i.flows])).toEqual([['10.77.10.50', 'dicom', 3], ['10.77.10.50', 'tls', 1]]);
    expect((await s.flowPeers({ zone_src: 'lab', zone_dst: 'pacs', sensor: 'sensor-a' })).items.map((i) => i.client_ip)).toEqual(['10.77.30.5']);
    expect((await s.flowPeers({ zone_src: 'lab', zone_dst: 'pacs', sensor: 'other' })).items).toEqual([]);
    await s.close();
  });

  it('refuses bad peer rows and bad queries', async () => {
    const s = await open();
    const r = await s.addFlowHistory([peer(0), peer(0, { clientIp: 'not an ip' }), peer(0, { serverIp: undefined }), peer(0, { clientIp: '1'.repeat(80) }), peer(0, { zoneSrc: someFnr('010190') })]);
    expect(r).toEqual({ written: 1, rejected: 4 });
    await expect(s.flowPeers({})).rejects.toThrow(/expected one of them/);
    await expect(s.flowPeers({ ips: [] })).rejects.toThrow(StoreInputError);
    await expect(s.flowPeers({ ips: ["1' OR 1=1"] })).rejects.toThrow(/ips/);
    await expect(s.flowPeers({ zone_src: 'MU' })).rejects.toThrow(/both zone names/);
    await expect(s.flowPeers({ ips: ['10.0.0.1'], since: T0 + 1, until: T0 })).rejects.toThrow(/until/);
    await s.close();
  });

  it('retention removes old peer rows with the zone rows', async () => {
    const s = await backend.open(await backend.fresh(), { now: () => T0 + 400 * DAY });
    await s.addFlowHistory([peer(0), peer(24 * 399)]);
    await s.prune();
    expect((await s.flowPeers({ ips: ['10.77.10.50'] })).items.map((i) => i.first_seen)).toEqual([new Date(T0 + 399 * DAY).toISOString().replace('Z', '000Z')]);
    await s.close();
  });
});
