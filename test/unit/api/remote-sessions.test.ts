import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteSessionRow } from '../../../agent/store/index.js';
import { T0, bearer, fixture, tempDir, type Fixture } from './helpers.js';

const MIN = 60_000;
const idOf = (flow: string) => createHash('sha256').update(`sensor-a\0${flow}`).digest('hex').slice(0, 32);

function session(flow: string, over: Partial<RemoteSessionRow> = {}): RemoteSessionRow {
  return {
    id: idOf(flow),
    sensor: 'sensor-a',
    flowId: flow,
    protocol: 'ssh',
    encrypted: true,
    srcIp: '192.0.2.9',
    srcPort: 50000,
    dstIp: '10.77.40.5',
    dstPort: 22,
    zoneSrc: 'external',
    zoneDst: 'it-servers',
    startMs: T0,
    endMs: T0 + 20 * MIN,
    lastSeenMs: T0 + 20 * MIN,
    bytesToServer: 4000,
    bytesToClient: 50_000,
    vendor: 'Acme Medical service',
    outsideWindow: false,
    jumpHost: '10.77.40.5',
    inboundId: null,
    path: ['192.0.2.9', '10.77.40.5'],
    ...over,
  };
}

describe('GET /api/v1/remote-sessions: the remote-access session log from the store', () => {
  const tmp = tempDir('muvakt-api-sessions-');
  let f: Fixture;
  const get = async (url: string, role: 'viewer' | 'officer' | 'admin' = 'viewer') => {
    const r = await f.app.inject({ url, headers: bearer(role) });
    return { code: r.statusCode, body: r.headers['content-type']?.toString().startsWith('application/json') ? r.json() : r.body, headers: r.headers };
  };

  beforeAll(async () => {
    f = await fixture(tmp);
    await f.store.upsertRemoteSessions([
      session('a1'),
      session('b2', {
        protocol: 'rdp',
        srcIp: '10.77.40.5',
        dstIp: '10.77.10.40',
        dstPort: 3389,
        zoneSrc: 'it-servers',
        zoneDst: 'mu-radiology',
        startMs: T0 + 5 * MIN,
        endMs: null,
        lastSeenMs: T0 + 6 * MIN,
        outsideWindow: true,
        inboundId: idOf('a1'),
        path: ['192.0.2.9', '10.77.40.5', '10.77.10.40'],
      }),
      session('c3', { sensor: 'sensor-b', protocol: 'telnet', encrypted: false, srcIp: '10.77.30.15', dstIp: '10.77.10.41', zoneSrc: 'office', zoneDst: 'mu-radiology', vendor: null, outsideWindow: null, jumpHost: null, path: ['10.77.30.15', '10.77.10.41'], startMs: T0 + 60 * MIN, endMs: T0 + 61 * MIN, lastSeenMs: T0 + 61 * MIN }),
    ]);
  });
  afterAll(async () => {
    await f.close();
    tmp.cleanup();
  });

  it('lists every session newest first, with the path and the link from the onward leg to its inbound leg', async () => {
    const { code, body } = await get('/api/v1/remote-sessions');
    expect(code).toBe(200);
    expect(body.items.map((s: { flow_id: string }) => s.flow_id)).toEqual(['c3', 'b2', 'a1']);
    const onward = body.items[1];
    expect(onward).toMatchObject({ protocol: 'rdp', end: null, ongoing: true, duration_s: 60, vendor: 'Acme Medical service', outside_window: true, jump_host: '10.77.40.5', inbound_id: body.items[2].id });
    expect(onward.path).toEqual(['192.0.2.9', '10.77.40.5', '10.77.10.40']);
    expect(body.items[0]).toMatchObject({ vendor: null, outside_window: null, jump_host: null, inbound_id: null, sensor: 'sensor-b' });
    expect(body.next_cursor).toBeNull();
  });

  it('filters: address on the path, vendor, protocol lists, window verdict, sensor and time; pages with a cursor', async () => {
    const flows = async (q: string) => (await get(`/api/v1/remote-sessions?${q}`)).body.items.map((s: { flow_id: string }) => s.flow_id);
    expect(await flows('ip=192.0.2.9')).toEqual(['b2', 'a1']);
    expect(await flows('ip=10.77.10.41')).toEqual(['c3']);
    expect(await flows(`vendor=${encodeURIComponent('Acme Medical service')}`)).toEqual(['b2', 'a1']);
    expect(await flows('protocol=rdp,telnet')).toEqual(['c3', 'b2']);
    expect(await flows('protocol=rdp&protocol=ssh')).toEqual(['b2', 'a1']);
    expect(await flows('outside_window=true')).toEqual(['b2']);
    expect(await flows('outside_window=false')).toEqual(['a1']);
    expect(await flows('sensor=sensor-b')).toEqual(['c3']);
    expect(await flows(`since=${T0 + 30 * MIN}`)).toEqual(['c3']);
    expect(await flows(`until=${encodeURIComponent(new Date(T0 + 2 * MIN).toISOString())}`)).toEqual(['a1']);
    const first = await get('/api/v1/remote-sessions?limit=2');
    expect(first.body.items).toHaveLength(2);
    const rest = await get(`/api/v1/remote-sessions?limit=2&cursor=${first.body.next_cursor}`);
    expect(rest.body.items.map((s: { flow_id: string }) => s.flow_id)).toEqual(['a1']);
    expect(rest.body.next_cursor).toBeNull();
  });

  it('refuses bad input with a 400 naming the field', async () => {
    expect((await get('/api/v1/remote-sessions?protocol=gopher')).code).toBe(400);
    expect((await get('/api/v1/remote-sessions?outside_window=maybe')).code).toBe(400);
    expect((await get('/api/v1/remote-sessions?nonsense=1')).code).toBe(400);
    const b = await get(`/api/v1/remote-sessions?since=${T0 + MIN}&until=${T0}`);
    expect([b.code, b.body.message]).toEqual([400, 'until: is before since']);
    const c = await get('/api/v1/remote-sessions?limit=1');
    expect((await get(`/api/v1/remote-sessions?limit=1&protocol=ssh&cursor=${c.body.next_cursor}`)).code).toBe(400);
  });

  it('exports CSV with the same columns, and every read is audited', async () => {
    const r = await get('/api/v1/remote-sessions.csv?protocol=rdp,ssh');
    expect(r.code).toBe(200);
    expect(String(r.headers['content-type'])).toMatch(/^text\/csv/);
    const lines = (r.body as string).trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'id,sensor,flow_id,protocol,encrypted,src_ip,src_port,dst_ip,dst_port,zone_src,zone_dst,start,end,ongoing,last_seen,duration_s,bytes_toserver,bytes_toclient,vendor,outside_window,jump_host,inbound_id,path',
    );
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(',rdp,true,10.77.40.5,');
    expect(lines[1]).toContain(',,true,'); // no end, ongoing
    expect(lines[1].endsWith(`,${idOf('a1')},192.0.2.9 > 10.77.40.5 > 10.77.10.40`)).toBe(true);
    // lang=en is the default; lang=nb heads the same columns in bokmål and writes yes/no in bokmål, the rest as it is.
    const en = await get('/api/v1/remote-sessions.csv?protocol=rdp,ssh&lang=en');
    expect(en.body).toBe(r.body);
    const nb = await get('/api/v1/remote-sessions.csv?protocol=rdp,ssh&lang=nb');
    expect(nb.code).toBe(200);
    const nbLines = (nb.body as string).trimEnd().split('\r\n');
    expect(nbLines[0]).toBe(
      'id,sensor,flyt_id,protokoll,kryptert,kilde_ip,kildeport,mål_ip,målport,kildesone,målsone,start,slutt,pågår,sist_sett,varighet_s,byte_til_tjener,byte_til_klient,leverandør,utenfor_vindu,hoppvert,inngående_id,sti',
    );
    const words = { true: 'ja', false: 'nei' } as Record<string, string>;
    expect(nbLines.slice(1)).toEqual(lines.slice(1).map((l) => l.split(',').map((c) => words[c] ?? c).join(',')));
    expect(nbLines[1]).toContain(',rdp,ja,10.77.40.5,');
    expect((await get('/api/v1/remote-sessions.csv?lang=de')).code).toBe(400);
    const audit = await get('/api/v1/audit?limit=20', 'admin');
    const actions = audit.body.items.map((a: { action: string }) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['remote_sessions.list', 'remote_sessions.export']));
    expect((await f.app.inject({ url: '/api/v1/remote-sessions' })).statusCode).toBe(401);
  });
});
