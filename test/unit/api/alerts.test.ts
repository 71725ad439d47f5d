import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Compile } from 'typebox/compile';
import { AlertDetailSchema, AlertPageSchema } from '../../../dashboard-api/schemas.js';
import { bearer, fixture, iso, tempDir, T0, type Fixture } from './helpers.js';
import { factInBokmal, reasonInBokmal } from '../../../agent/inventory/reason-text.js';

const tmp = tempDir('muvakt-api-');
let f: Fixture;
beforeAll(async () => {
  f = await fixture(tmp);
});
afterAll(async () => {
  await f.close();
  tmp.cleanup();
});

const checkPage = Compile(AlertPageSchema);
const checkDetail = Compile(AlertDetailSchema);

async function get(url: string, role: 'viewer' | 'officer' | 'admin' = 'viewer') {
  const r = await f.app.inject({ url, headers: bearer(role) });
  return { code: r.statusCode, body: r.json() };
}

describe('GET /api/v1/alerts', () => {
  it('lists newest first with schema-valid bodies and the bokmål texts', async () => {
    const { code, body } = await get('/api/v1/alerts');
    expect(code).toBe(200);
    expect(checkPage.Check(body)).toBe(true);
    expect(body.items).toHaveLength(6);
    expect(body.next_cursor).toBeNull();
    const seen = body.items.map((a: { last_seen: string }) => a.last_seen);
    expect([...seen].sort().reverse()).toEqual(seen);
    const crit = body.items.find((a: { rule_id: string }) => a.rule_id === 'phi-in-vendor-callhome');
    expect(crit.title_nb).toMatch(/Helse- og personopplysninger/);
    expect(crit.recommendation_nb.length).toBeGreaterThan(10);
    const retired = body.items.find((a: { rule_id: string }) => a.rule_id === 'some-retired-rule');
    expect(retired.title_nb).toBeUndefined();
  });

  it('filters: severity (one or several), rule_id, status, zone, ip, since, until, sort', async () => {
    const n = async (q: string) => (await get(`/api/v1/alerts?${q}`)).body.items.length;
    expect(await n('severity=critical')).toBe(1);
    expect(await n('severity=critical&severity=low')).toBe(2);
    expect(await n('rule_id=mu-device-to-external')).toBe(2);
    expect(await n('status=open')).toBe(6);
    expect(await n('zone=pacs')).toBe(1);
    expect(await n('ip=10.77.90.10')).toBe(1);
    // A CIDR prefix: four sources in 10.77.10.0/24 and one destination (the remote-access session's).
    expect(await n(`ip=${encodeURIComponent('10.77.10.0/24')}`)).toBe(5);
    expect(await n(`ip=${encodeURIComponent('10.77.0.0/16')}`)).toBe(6);
    const csv = await f.app.inject({ url: `/api/v1/alerts.csv?ip=${encodeURIComponent('10.77.30.0/24')}`, headers: bearer('viewer') });
    expect(csv.body.split('\r\n').filter(Boolean)).toHaveLength(2);
    for (const bad of ['10.77.10.0/33', '10.77.10/24']) {
      const r = await f.app.inject({ url: `/api/v1/alerts?ip=${encodeURIComponent(bad)}`, headers: bearer('viewer') });
      expect(r.statusCode, bad).toBe(400);
      expect(r.json().message).toMatch(/ip: expected an address or a CIDR prefix/);
    }
    expect(await n(`since=${encodeURIComponent(iso(4 * 60_000))}`)).toBe(2);
    expect(await n(`until=${T0 + 60_000}`)).toBe(2);
    const bySev = (await get('/api/v1/alerts?sort=severity')).body.items.map((a: { severity: string }) => a.severity);
    expect(bySev[0]).toBe('critical');
    expect(bySev.at(-1)).toBe('low');
  });

  it('pages with the cursor: every alert once, in order', async () => {
    const all: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: { body: { items: { id: string }[]; next_cursor: string | null } } = await get(`/api/v1/alerts?limit=2&sort=severity${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...r.body.items.map((a) => a.id));
      cursor = r.body.next_cursor;
      pages++;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(new Set(all).size).toBe(6);
    expect(all).toEqual((await get('/api/v1/alerts?sort=severity')).body.items.map((a: { id: string }) => a.id));
  });

  it('a cursor from another query is a 400', async () => {
    const c = (await get('/api/v1/alerts?limit=1')).body.next_cursor;
    const r = await get(`/api/v1/alerts?limit=1&severity=high&cursor=${c}`);
    expect(r.code).toBe(400);
    expect(r.body.message).toMatch(/different query/);
  });
});

describe('what a person types: comma lists, plain dates, unknown rules, CSV', () => {
  it('severity=critical,low is two severities; status and rule_id take commas too', async () => {
    const n = async (q: string) => (await get(`/api/v1/alerts?${q}`)).body.items.length;
    expect(await n('severity=critical,low')).toBe(2);
    expect(await n('severity=critical,low&severity=medium')).toBe(3);
    expect(await n('rule_id=mu-device-to-external,hl7-negative-ack')).toBe(3);
    expect(await n('status=open,acknowledged')).toBe(6);
    const bad = await get('/api/v1/alerts?severity=critical,urgent');
    expect(bad.code).toBe(400);
    expect(bad.body.message).toMatch(/severity/);
  });

  it('a plain date is that whole day in Europe/Oslo, for since and until', async () => {
    const day = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Oslo' }).format(new Date(T0));
    const n = async (q: string) => (await get(`/api/v1/alerts?${q}`)).body.items.length;
    expect(await n(`since=${day}&until=${day}`)).toBe(6);
    const next = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Oslo' }).format(new Date(T0 + 86_400_000));
    expect(await n(`since=${next}`)).toBe(0);
    const before = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Oslo' }).format(new Date(T0 - 86_400_000));
    expect(await n(`until=${before}`)).toBe(0);
    const r = await get('/api/v1/alerts?since=2026-02-30');
    expect(r.code).toBe(400);
    expect(r.body.message).toMatch(/since: 2026-02-30 is not a calendar date/);
  });

  it('Oslo midnight is 23:00 UTC in winter and 22:00 UTC in summer', async () => {
    const { timeParam } = await import('../../../dashboard-api/alert-query.js');
    expect(new Date(timeParam('2026-01-15', 'since') as number).toISOString()).toBe('2026-01-14T23:00:00.000Z');
    expect(new Date(timeParam('2026-07-15', 'since') as number).toISOString()).toBe('2026-07-14T22:00:00.000Z');
    expect(new Date(timeParam('2026-07-15', 'until') as number).toISOString()).toBe('2026-07-15T21:59:59.999Z');
    // The day clocks go forward (29 March 2026) is 23 hours long.
    const start = timeParam('2026-03-29', 'since') as number;
    const end = timeParam('2026-03-29', 'until') as number;
    expect(end + 1 - start).toBe(23 * 3_600_000);
  });

  it('an unknown rule id is a 400 that lists the known ones; a retired rule still in the store is accepted', async () => {
    const r = await get('/api/v1/alerts?rule_id=mu-device-to-externl');
    expect(r.code).toBe(400);
    expect(r.body.message).toMatch(/unknown rule "mu-device-to-externl"/);
    expect(r.body.message).toMatch(/known rules: .*mu-device-to-external/);
    expect((await get('/api/v1/alerts?rule_id=some-retired-rule')).body.items).toHaveLength(1);
  });

  it('q: free text over the naming fields and both languages of the title, paged; bad text is a clear 400; the CSV takes it too', async () => {
    const ids = async (q: string) => (await get(`/api/v1/alerts?q=${encodeURIComponent(q)}`)).body.items.map((a: { rule_id: string }) => a.rule_id).sort();
    expect(await ids('REMOTE-DMZ')).toEqual(['remote-access-session']);
    expect(await ids('10.77.90')).toEqual(['remote-access-session']);
    expect(await ids('vendor')).toEqual(['phi-in-vendor-callhome']);
    // The rule's bokmål title is not stored with the alert: the API adds the rules it names.
    const nb = (await get('/api/v1/alerts?rule_id=phi-in-vendor-callhome')).body.items[0].title_nb as string;
    expect(await ids(nb.slice(0, 30).toUpperCase())).toEqual(['phi-in-vendor-callhome']);
    // Values that are in evidence fields that name nothing are not searched.
    expect(await ids('PID-5')).toEqual([]);
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { body: { items: { id: string }[]; next_cursor: string | null } } = await get(`/api/v1/alerts?q=10.77&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      all.push(...r.body.items.map((a) => a.id));
      cursor = r.body.next_cursor;
    } while (cursor !== null);
    expect(all).toEqual((await get('/api/v1/alerts?q=10.77')).body.items.map((a: { id: string }) => a.id));
    for (const bad of ["x' or 1=1", 'a%25', '%20', 'x'.repeat(101)]) {
      const r = await get(`/api/v1/alerts?q=${bad}`);
      expect(r.code, bad).toBe(400);
      expect(r.body.message, bad).toMatch(/q: expected 1–100 letters|q: must NOT have more than 100 characters/);
    }
    const csv = await f.app.inject({ url: '/api/v1/alerts.csv?q=remote-dmz', headers: bearer('viewer') });
    expect(csv.statusCode).toBe(200);
    expect(csv.body.split('\r\n').filter(Boolean)).toHaveLength(2);
    expect((await f.app.inject({ url: '/api/v1/alerts.csv?q=%3C', headers: bearer('viewer') })).statusCode).toBe(400);
  });

  it('GET /alerts.csv: the current filter, every page, English or Norwegian, audited', async () => {
    const r = await f.app.inject({ url: '/api/v1/alerts.csv?severity=critical,medium&sort=severity', headers: bearer('viewer') });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    expect(r.headers['content-disposition']).toMatch(/attachment/);
    const lines = r.body.split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).toBe('id,rule_id,severity,status,title,first_seen,last_seen,count,src_ip,dst_ip,zone_src,zone_dst,device_id,guide_refs,recommendation,sensors,accepted_until');
    expect(lines.slice(1, -1)).toHaveLength(2);
    expect(lines[1]).toMatch(/,phi-in-vendor-callhome,critical,open,/);
    const nb = await f.app.inject({ url: '/api/v1/alerts.csv?rule_id=phi-in-vendor-callhome&lang=nb', headers: bearer('viewer') });
    const [head, row] = nb.body.split('\r\n');
    expect(head).toMatch(/^id,regel,alvorlighet,status,tittel,/);
    expect(row).toMatch(/Helse- og personopplysninger/);
    const all = await f.app.inject({ url: '/api/v1/alerts.csv', headers: bearer('viewer') });
    expect(all.body.split('\r\n').length - 2).toBe(6);
    expect((await f.store.listAudit({ action: 'alerts.export' })).items.length).toBeGreaterThanOrEqual(3);
    expect((await f.app.inject({ url: '/api/v1/alerts.csv' })).statusCode).toBe(401);
    expect((await f.app.inject({ url: '/api/v1/alerts.csv?limit=5', headers: bearer('viewer') })).statusCode).toBe(400);
  });
});

describe('alert detail and lifecycle', () => {
  it('GET /alerts/:id gives the alert with history; unknown id 404', async () => {
    const { code, body } = await get(`/api/v1/alerts/${f.ids[0]}`);
    expect(code).toBe(200);
    expect(checkDetail.Check(body)).toBe(true);
    expect(body.history).toEqual([]);
    const r = await get(`/api/v1/alerts/${'0'.repeat(32)}`);
    expect(r.code).toBe(404);
    expect(r.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'no alert with this id' });
  });

  it('ack then resolve by an officer; audit rows written; a second ack is 409', async () => {
    const id = f.ids[1];
    const ack = await f.app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/ack`, headers: bearer('officer'), payload: { comment: 'Leverandør kontaktet' } });
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({ status: 'acknowledged', history: [{ actor: 'sikkerhetsleder', action: 'ack', comment: 'Leverandør kontaktet' }] });
    expect(checkDetail.Check(ack.json())).toBe(true);

    const again = await f.app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/ack`, headers: bearer('officer'), payload: { comment: '' } });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ statusCode: 409, error: 'Conflict', message: expect.stringMatching(/acknowledged: cannot ack/) });

    const res = await f.app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/resolve`, headers: bearer('officer') });
    expect(res.statusCode).toBe(200);
    expect(res.json().status).toBe('resolved');
    const res2 = await f.app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/resolve`, headers: bearer('officer'), payload: {} });
    expect(res2.statusCode).toBe(409);

    const unknown = await f.app.inject({ method: 'POST', url: `/api/v1/alerts/${'f'.repeat(32)}/ack`, headers: bearer('officer'), payload: {} });
    expect(unknown.statusCode).toBe(404);

    const audit = (await f.store.listAudit({ actor: 'sikkerhetsleder' })).items;
    expect(audit.map((a) => a.action)).toEqual(['alerts.ack', 'alerts.resolve', 'alerts.resolve', 'alerts.ack', 'alerts.ack']);
    expect(audit.at(-1)).toMatchObject({ role: 'officer', query: { params: { id } } });
  });

  it('every read is audited with who and what query; admins read the log through the API', async () => {
    await get('/api/v1/alerts?severity=high&zone=mu-radiology&limit=5');
    await get(`/api/v1/alerts/${f.ids[3]}`);
    await get('/api/v1/assets');
    await get('/api/v1/assets/dev-1');
    const r = await get('/api/v1/audit?actor=soc-viewer&limit=4', 'admin');
    expect(r.code).toBe(200);
    const items = r.body.items;
    expect(items.map((a: { action: string }) => a.action)).toEqual(['assets.get', 'assets.list', 'alerts.get', 'alerts.list']);
    expect(items[3]).toMatchObject({ actor: 'soc-viewer', role: 'viewer', query: { query: { severity: ['high'], zone: 'mu-radiology', limit: 5 } } });
    expect(Date.parse(items[0].at)).toBeGreaterThan(0);
    // reading the audit log is itself audited
    const again = await get('/api/v1/audit?action=audit.list', 'admin');
    expect(again.body.items[0]).toMatchObject({ actor: 'ops-admin', action: 'audit.list' });
  });
});

describe('assets, flows, policy', () => {
  it('assets: empty page and 404 until the inventory exists; flows: empty matrix before any flow history', async () => {
    expect((await get('/api/v1/assets')).body).toEqual({ items: [], next_cursor: null });
    const one = await get('/api/v1/assets/dev-1');
    expect(one.code).toBe(404);
    expect(one.body.message).toMatch(/inventory/);
    const fl = await get('/api/v1/flows/summary');
    expect(fl.body.items).toEqual([]);
    expect(typeof fl.body.generated_at).toBe('string');
  });

  it('assets: the inventory the analysis stored, most exposed first, paged, with detail and 404s', async () => {
    const { analyzeFiles } = await import('../../support/analyze.js');
    const { examplePolicy } = await import('../../support/rules.js');
    const { InventorySink } = await import('../../../agent/inventory/sink.js');
    const { storeAssets } = await import('../../../dashboard-api/routes/assets.js');
    const corpus = (f: string) => new URL(`../../../fixtures/corpus/${f}`, import.meta.url).pathname;
    const g0 = await fixture(tmp);
    const inv = new InventorySink({ write() {}, flush() {}, close() {} }, examplePolicy());
    const { events } = await analyzeFiles(['02_dicom_cstore_ct_mr.pcap', '14_vnc_from_external.pcap', '08_hl7_adt_oru_batch.pcap'].map(corpus));
    for (const e of events) inv.write(e);
    expect(await inv.save(g0.store, [])).toBeGreaterThan(3);
    await g0.app.close();
    const g = await fixture(tmp, { store: g0.store, assets: storeAssets(g0.store) });
    try {
      const page1 = await g.app.inject({ url: '/api/v1/assets?limit=2', headers: bearer('viewer') });
      expect(page1.statusCode).toBe(200);
      const p1 = page1.json();
      expect(p1.items).toHaveLength(2);
      expect(p1.items[0].exposure.score).toBeGreaterThanOrEqual(p1.items[1].exposure.score);
      expect(p1.items[0].exposure.reasons.length).toBeGreaterThan(0);
      const page2 = (await g.app.inject({ url: `/api/v1/assets?limit=2&cursor=${p1.next_cursor}`, headers: bearer('viewer') })).json();
      expect(page2.items.map((a: { id: string }) => a.id)).not.toContain(p1.items[0].id);
      const ct = (await g.app.inject({ url: '/api/v1/assets?limit=100&zone=MU', headers: bearer('viewer') })).json().items.find((a: { ips: string[] }) => a.ips.includes('10.77.10.21'));
      expect(ct.role).toBe('modality');
      const d = await g.app.inject({ url: `/api/v1/assets/${encodeURIComponent(ct.id)}`, headers: bearer('viewer') });
      expect(d.statusCode).toBe(200);
      expect(d.json().role).toBe('modality');
      expect((await g.app.inject({ url: '/api/v1/assets/mac:00:00:00:00:00:01', headers: bearer('viewer') })).statusCode).toBe(404);
      expect((await g.app.inject({ url: '/api/v1/assets?cursor=bogus', headers: bearer('viewer') })).statusCode).toBe(400);
      // The evidence bundle as a download: the same bundle `muvakt evidence` writes, audited, 404 for an unknown id.
      const ev = await g.app.inject({ url: `/api/v1/assets/${encodeURIComponent(ct.id)}/evidence`, headers: bearer('viewer') });
      expect(ev.statusCode).toBe(200);
      expect(ev.headers['content-type']).toMatch(/^application\/json/);
      expect(ev.headers['content-disposition']).toBe(`attachment; filename="evidence-${ct.id.replace(/[^A-Za-z0-9._-]/g, '_')}.json"`);
      expect(ev.json()).toMatchObject({ kind: 'muvakt.evidence', version: 1, device: { id: ct.id } });
      const html = await g.app.inject({ url: `/api/v1/assets/${encodeURIComponent(ct.id)}/evidence?format=html`, headers: bearer('viewer') });
      expect(html.headers['content-type']).toMatch(/^text\/html/);
      expect(html.headers['content-disposition']).toMatch(/\.html"$/);
      const md = await g.app.inject({ url: `/api/v1/assets/${encodeURIComponent(ct.id)}/evidence?format=md`, headers: bearer('viewer') });
      expect(md.headers['content-type']).toMatch(/^text\/markdown/);
      expect((await g.app.inject({ url: `/api/v1/assets/${encodeURIComponent(ct.id)}/evidence?format=pdf`, headers: bearer('viewer') })).statusCode).toBe(400);
      // The text in the language asked for: bokmål by default and with lang=nb, English with lang=en; every fact of the device in it, none in the other language.
      const detail = d.json() as { roles: { facts: string[] }[]; properties: Record<string, { facts: string[] }>; scenario: { facts: string[] }; exposure: { reasons: { fact: string }[] } };
      const facts = [...detail.roles.flatMap((r) => r.facts), ...Object.values(detail.properties).flatMap((p) => p.facts), ...detail.scenario.facts];
      expect(facts.length).toBeGreaterThan(5);
      const mdNb = await g.app.inject({ url: `/api/v1/assets/${encodeURIComponent(ct.id)}/evidence?format=md&lang=nb`, headers: bearer('viewer') });
      const mdEn = await g.app.inject({ url: `/api/v1/assets/${encodeURIComponent(ct.id)}/evidence?format=md&lang=en`, headers: bearer('viewer') });
      expect([mdNb.statusCode, mdEn.statusCode]).toEqual([200, 200]);
      expect(mdNb.body.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '')).toBe(md.body.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, ''));
      const unescape = (s: string) => s.replace(/\\(.)/g, '$1');
      for (const en of facts) {
        const nb = factInBokmal(en);
        expect({ en, nb, in_nb: unescape(mdNb.body).includes(nb ?? en), en_in_nb: unescape(mdNb.body).includes(en), in_en: unescape(mdEn.body).includes(en) }).toEqual({ en, nb: expect.any(String), in_nb: true, en_in_nb: false, in_en: true });
      }
      for (const { fact } of detail.exposure.reasons) expect([fact, unescape(mdNb.body).includes(reasonInBokmal(fact)), unescape(mdEn.body).includes(fact)]).toEqual([fact, true, true]);
      expect(mdEn.body).toContain('# Evidence bundle for');
      expect(mdEn.body).not.toContain('Bevismappe');
      const htmlEn = await g.app.inject({ url: `/api/v1/assets/${encodeURIComponent(ct.id)}/evidence?format=html&lang=en`, headers: bearer('viewer') });
      expect(htmlEn.body).toContain('<html lang="en">');
      expect(html.body).toContain('<html lang="nb">');
      // json is the record whatever the language; a language the schema does not know is a 400.
      const evEn = await g.app.inject({ url: `/api/v1/assets/${encodeURIComponent(ct.id)}/evidence?lang=en`, headers: bearer('viewer') });
      expect({ ...evEn.json(), generated_at: '' }).toEqual({ ...ev.json(), generated_at: '' });
      const de = await g.app.inject({ url: `/api/v1/assets/${encodeURIComponent(ct.id)}/evidence?format=md&lang=de`, headers: bearer('viewer') });
      expect(de.statusCode).toBe(400);
      expect(de.json().message).toMatch(/lang/);
      expect((await g.app.inject({ url: '/api/v1/assets/mac:00:00:00:00:00:01/evidence', headers: bearer('viewer') })).statusCode).toBe(404);
      expect((await g.app.inject({ url: `/api/v1/assets/${encodeURIComponent(ct.id)}/evidence` })).statusCode).toBe(401);
      const audit = (await g.app.inject({ url: '/api/v1/audit?action=assets.evidence', headers: bearer('admin') })).json();
      expect(audit.items.length).toBeGreaterThanOrEqual(4);

      // The device record in the language asked for (the workbench's device panel): with `lang=nb`
      // every role, property and scenario fact and every exposure reason of every device differs
      // from the English and is the text the device's bokmål bundle writes; the rest of the record
      // is unchanged. `en` is the record as stored, and the default.
      type Record_ = typeof detail & { scenario: { number: number | null; name: string } };
      const texts = (x: Record_): string[] => [
        ...x.roles.flatMap((r) => r.facts),
        ...Object.values(x.properties).flatMap((p) => p.facts),
        ...x.scenario.facts,
        ...(x.scenario.number === null ? [x.scenario.name] : []),
        ...x.exposure.reasons.map((r) => r.fact),
      ];
      const withoutTexts = (x: Record_) => ({
        ...x,
        roles: x.roles.map((r) => ({ ...r, facts: r.facts.length })),
        properties: Object.fromEntries(Object.entries(x.properties).map(([k, p]) => [k, { ...p, facts: p.facts.length }])),
        scenario: { ...x.scenario, facts: x.scenario.facts.length, name: x.scenario.number === null ? '' : x.scenario.name },
        exposure: { ...x.exposure, reasons: x.exposure.reasons.map((r) => ({ ...r, fact: '' })) },
      });
      const devices = (await g.app.inject({ url: '/api/v1/assets?limit=100', headers: bearer('viewer') })).json().items as { id: string }[];
      expect(devices.length).toBeGreaterThan(3);
      let nbBodies = '';
      let compared = 0;
      for (const { id } of devices) {
        const url = `/api/v1/assets/${encodeURIComponent(id)}`;
        const [stored, en, nb] = await Promise.all(['', '?lang=en', '?lang=nb'].map((q) => g.app.inject({ url: url + q, headers: bearer('viewer') })));
        expect([stored.statusCode, en.statusCode, nb.statusCode]).toEqual([200, 200, 200]);
        expect(en.json()).toEqual(stored.json());
        nbBodies += nb.body;
        const bundle = unescape((await g.app.inject({ url: `${url}/evidence?format=md&lang=nb`, headers: bearer('viewer') })).body);
        const [textsEn, textsNb] = [texts(en.json()), texts(nb.json())];
        expect(textsNb).toHaveLength(textsEn.length);
        textsEn.forEach((e, i) => expect({ en: e, nb: textsNb[i], differs: textsNb[i] !== e, in_bundle: bundle.includes(textsNb[i]) }).toEqual({ en: e, nb: textsNb[i], differs: true, in_bundle: true }));
        expect(withoutTexts(nb.json())).toEqual(withoutTexts(en.json()));
        compared += textsEn.length;
      }
      expect(compared).toBeGreaterThan(20);
      const deDetail = await g.app.inject({ url: `/api/v1/assets/${encodeURIComponent(ct.id)}?lang=de`, headers: bearer('viewer') });
      expect([deDetail.statusCode, deDetail.json().message]).toEqual([400, expect.stringMatching(/lang/)]);
      const body = page1.body + page2 + d.body + ev.body + html.body + md.body + mdNb.body + mdEn.body + htmlEn.body + nbBodies;
      for (const planted of ['NORDMANN', 'KARI', '14078521210', 'BERG^INGRID', '29020456165']) expect(body).not.toContain(planted);
    } finally {
      await g.close();
    }
  });

  it('whoami: the name and role of the token, for every role; 401 without one', async () => {
    expect(await get('/api/v1/whoami')).toEqual({ code: 200, body: { name: 'soc-viewer', role: 'viewer' } });
    expect(await get('/api/v1/whoami', 'officer')).toEqual({ code: 200, body: { name: 'sikkerhetsleder', role: 'officer' } });
    expect(await get('/api/v1/whoami', 'admin')).toEqual({ code: 200, body: { name: 'ops-admin', role: 'admin' } });
    expect((await f.app.inject({ url: '/api/v1/whoami' })).statusCode).toBe(401);
    expect((await f.app.inject({ url: '/api/v1/whoami', headers: { authorization: 'Bearer not-a-token' } })).statusCode).toBe(401);
  });

  it('policy: 404 when none is loaded; the policy (without the key file path) when loaded; reload for admins', async () => {
    expect((await get('/api/v1/policy')).code).toBe(404);
    const policy = { site: 'Test', pseudonym_key_file: '/etc/muvakt/key', zones: [{ name: 'mu', kind: 'medical' as const, cidrs: ['10.77.10.0/24'] }] };
    let reloads = 0;
    const g = await fixture(tmp, { policy, reloadPolicy: () => (reloads++ === 0 ? { ...policy, site: 'Reloaded' } : (() => { throw new Error('x.yaml:3:1: zones: bad'); })()) });
    try {
      const r = await g.app.inject({ url: '/api/v1/policy', headers: bearer('viewer') });
      expect(r.json()).toEqual({ site: 'Test', zones: policy.zones });
      expect((await g.app.inject({ method: 'POST', url: '/api/v1/policy/reload', headers: bearer('officer') })).statusCode).toBe(403);
      const ok = await g.app.inject({ method: 'POST', url: '/api/v1/policy/reload', headers: bearer('admin') });
      expect(ok.json().site).toBe('Reloaded');
      const bad = await g.app.inject({ method: 'POST', url: '/api/v1/policy/reload', headers: bearer('admin') });
      expect(bad.statusCode).toBe(422);
      expect(bad.json().message).toMatch(/zones: bad/);
      expect((await g.app.inject({ url: '/api/v1/policy', headers: bearer('viewer') })).json().site).toBe('Reloaded');
    } finally {
      await g.close();
    }
  });
});
