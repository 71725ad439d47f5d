import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { StoreInputError, type RemoteSessionRow } from '../../../agent/store/types.js';
import { BACKENDS, setupBackends } from './backends.js';
import { T0, someFnr } from './helpers.js';

setupBackends();
const DAY = 86_400_000;
const MIN = 60_000;

const idOf = (flow: string) => createHash('sha256').update(`sensor-a\0${flow}`).digest('hex').slice(0, 32);

/** A vendor's session into the jump host, and its onward leg to a device. */
function inbound(over: Partial<RemoteSessionRow> = {}): RemoteSessionRow {
  return {
    id: idOf('aa01'),
    sensor: 'sensor-a',
    flowId: 'aa01',
    protocol: 'rdp',
    encrypted: true,
    srcIp: '198.51.100.7',
    srcPort: 50123,
    dstIp: '10.20.0.5',
    dstPort: 3389,
    zoneSrc: 'external',
    zoneDst: 'dmz',
    startMs: T0,
    endMs: T0 + 30 * MIN,
    lastSeenMs: T0 + 30 * MIN,
    bytesToServer: 12_000,
    bytesToClient: 340_000,
    vendor: 'Acme Imaging',
    outsideWindow: false,
    jumpHost: '10.20.0.5',
    inboundId: null,
    path: ['198.51.100.7', '10.20.0.5'],
    ...over,
  };
}

function onward(over: Partial<RemoteSessionRow> = {}): RemoteSessionRow {
  return inbound({
    id: idOf('bb02'),
    flowId: 'bb02',
    protocol: 'ssh',
    srcIp: '10.20.0.5',
    srcPort: 40000,
    dstIp: '10.1.0.20',
    dstPort: 22,
    zoneSrc: 'dmz',
    zoneDst: 'MU',
    startMs: T0 + 5 * MIN,
    endMs: T0 + 20 * MIN,
    lastSeenMs: T0 + 20 * MIN,
    bytesToServer: 800,
    bytesToClient: 9000,
    outsideWindow: true,
    inboundId: idOf('aa01'),
    path: ['198.51.100.7', '10.20.0.5', '10.1.0.20'],
    ...over,
  });
}

/** The remote-session half of the store contract, on both backends. */
describe.each(BACKENDS)('remote-access sessions in the $name store', (backend) => {
  const open = async (location?: string) => backend.open(location ?? (await backend.fresh()), { now: () => T0 + DAY });

  it('stores a session with its path, vendor and window verdict, and gives it back as the API shows it', async () => {
    const s = await open();
    expect(await s.upsertRemoteSessions([inbound(), onward()])).toEqual({ written: 2, rejected: 0 });
    const page = await s.listRemoteSessions();
    expect(page.next_cursor).toBeNull();
    expect(page.items.map((x) => x.flow_id)).toEqual(['bb02', 'aa01']); // newest start first
    expect(page.items[0]).toEqual({
      id: idOf('bb02'),
      sensor: 'sensor-a',
      flow_id: 'bb02',
      protocol: 'ssh',
      encrypted: true,
      src_ip: '10.20.0.5',
      src_port: 40000,
      dst_ip: '10.1.0.20',
      dst_port: 22,
      zone_src: 'dmz',
      zone_dst: 'MU',
      start: '2026-03-01T00:05:00.000000Z',
      end: '2026-03-01T00:20:00.000000Z',
      ongoing: false,
      last_seen: '2026-03-01T00:20:00.000000Z',
      duration_s: 900,
      bytes_toserver: 800,
      bytes_toclient: 9000,
      vendor: 'Acme Imaging',
      outside_window: true,
      jump_host: '10.20.0.5',
      inbound_id: idOf('aa01'),
      path: ['198.51.100.7', '10.20.0.5', '10.1.0.20'],
    });
    await s.close();
  });

  it('an ongoing session is written with no end, and its later write (ended) replaces it; an older write changes nothing', async () => {
    const s = await open();
    await s.upsertRemoteSessions([inbound({ endMs: null, lastSeenMs: T0 + 10 * MIN, bytesToServer: 10, bytesToClient: 20 })]);
    let [x] = (await s.listRemoteSessions()).items;
    expect([x.end, x.ongoing, x.duration_s, x.bytes_toserver]).toEqual([null, true, 600, 10]);
    await s.upsertRemoteSessions([inbound()]);
    [x] = (await s.listRemoteSessions()).items;
    expect([x.end, x.ongoing, x.duration_s, x.bytes_toclient]).toEqual(['2026-03-01T00:30:00.000000Z', false, 1800, 340_000]);
    await s.upsertRemoteSessions([inbound({ endMs: null, lastSeenMs: T0 + 10 * MIN, bytesToServer: 10, bytesToClient: 20 })]);
    [x] = (await s.listRemoteSessions()).items;
    expect([x.ongoing, x.bytes_toclient]).toEqual([false, 340_000]);
    await s.close();
  });

  it('filters by time overlap, address anywhere on the path, vendor, protocol, window verdict and sensor', async () => {
    const s = await open();
    await s.upsertRemoteSessions([
      inbound(),
      onward(),
      inbound({ id: idOf('cc03'), flowId: 'cc03', sensor: 'sensor-b', protocol: 'vnc', srcIp: '10.9.9.9', dstIp: '10.1.0.21', zoneSrc: 'office', zoneDst: 'MU', vendor: null, outsideWindow: null, jumpHost: null, path: ['10.9.9.9', '10.1.0.21'], startMs: T0 + DAY / 2, endMs: null, lastSeenMs: T0 + DAY / 2 + MIN }),
    ]);
    const ids = async (q: Parameters<typeof s.listRemoteSessions>[0]) => (await s.listRemoteSessions(q)).items.map((x) => x.flow_id);
    expect(await ids({ ip: '198.51.100.7' })).toEqual(['bb02', 'aa01']); // the vendor's address is on the onward leg's path
    expect(await ids({ ip: '10.1.0.20' })).toEqual(['bb02']);
    expect(await ids({ vendor: 'Acme Imaging' })).toEqual(['bb02', 'aa01']);
    expect(await ids({ protocol: ['vnc', 'ssh'] })).toEqual(['cc03', 'bb02']);
    expect(await ids({ outside_window: true })).toEqual(['bb02']);
    expect(await ids({ outside_window: false })).toEqual(['aa01']);
    expect(await ids({ sensor: 'sensor-b' })).toEqual(['cc03']);
    expect(await ids({ since: T0 + 25 * MIN })).toEqual(['cc03', 'aa01']); // bb02 ended at 00:20
    expect(await ids({ until: T0 + 2 * MIN })).toEqual(['aa01']);
    expect(await ids({ since: new Date(T0 + DAY / 2 + 30_000).toISOString() })).toEqual(['cc03']); // ongoing: by its last packet
    await expect(s.listRemoteSessions({ protocol: 'gopher' })).rejects.toThrow(StoreInputError);
    await expect(s.listRemoteSessions({ since: T0 + MIN, until: T0 })).rejects.toThrow(/until: is before since/);
    await expect(s.listRemoteSessions({ since: 'yesterday' })).rejects.toThrow(StoreInputError);
    await s.close();
  });

  it('pages by start then id, and a cursor is bound to its filters', async () => {
    const s = await open();
    const rows = Array.from({ length: 7 }, (_, i) => inbound({ id: idOf(`f${i}`), flowId: `f${i}`, startMs: T0 + Math.floor(i / 2) * MIN, lastSeenMs: T0 + 40 * MIN, endMs: T0 + 40 * MIN }));
    await s.upsertRemoteSessions(rows);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await s.listRemoteSessions({ limit: 3, cursor, vendor: 'Acme Imaging' });
      seen.push(...page.items.map((x) => x.flow_id));
      cursor = page.next_cursor;
    } while (cursor !== null);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
    const first = await s.listRemoteSessions({ limit: 3 });
    await expect(s.listRemoteSessions({ limit: 3, cursor: first.next_cursor, protocol: 'ssh' })).rejects.toThrow(/different query/);
    await s.close();
  });

  it('refuses malformed rows and names that hold a fødselsnummer, and writes the rest', async () => {
    const s = await open();
    const r = await s.upsertRemoteSessions([
      inbound(),
      onward({ vendor: `pasient ${someFnr('010190')}` }),
      onward({ protocol: 'gopher' }),
      onward({ srcIp: 'not-an-address' }),
      onward({ endMs: T0 }),
      onward({ bytesToServer: -1 }),
      onward({ path: [] }),
      onward({ id: 'short' }),
    ]);
    expect(r).toEqual({ written: 1, rejected: 7 });
    expect((await s.listRemoteSessions()).items).toHaveLength(1);
    await s.close();
  });

  it('keeps sessions for the retention counted back from the newest one, so old captures stay', async () => {
    const path = await backend.fresh();
    const s = await backend.open(path, { now: () => T0 + 2 * 365 * DAY, retentionDays: 30 });
    await s.upsertRemoteSessions([inbound(), onward({ startMs: T0 + 40 * DAY, endMs: T0 + 40 * DAY + MIN, lastSeenMs: T0 + 40 * DAY + MIN })]);
    expect(await s.prune()).toMatchObject({ remote_sessions: 1 });
    expect((await s.listRemoteSessions()).items.map((x) => x.flow_id)).toEqual(['bb02']);
    await s.close();
  });
});
