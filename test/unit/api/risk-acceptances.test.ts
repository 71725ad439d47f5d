/**
 * Risk acceptance through the API: an officer records one, matching alerts are shown as
 * accepted (not deleted), it expires and can be revoked, it is audited, exported, counted in
 * /metrics and carried in the evidence bundle; a viewer may only read; bad input is a 400.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { buildEvidence, evidenceDocument, renderMarkdown } from '../../../agent/inventory/evidence.js';
import { endOfOsloDay, isActive, validateAcceptance, type RiskAcceptance } from '../../../agent/risk-acceptances.js';
import { ALL_RULES } from '../../../rules/index.js';
import { someFnr } from '../store/helpers.js';
import { bearer, fixture, tempDir } from './helpers.js';

const KNOWN = new Set(ALL_RULES.map((r) => r.id));
const FNR = someFnr('010170');

const tmp = tempDir('muvakt-risk-');
afterAll(() => tmp.cleanup());

const future = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe('risk acceptance', () => {
  it('is recorded by an officer, marks matching alerts accepted, is listed, exported, counted and audited', async () => {
    const f = await fixture(tmp, { processMetrics: false });
    try {
      const alerts = (await f.app.inject({ url: '/api/v1/alerts', headers: bearer('viewer') })).json().items as { id: string; rule_id: string; subject: { src_ip: string; dst_ip: string }; accepted?: unknown }[];
      const target = alerts.find((a) => KNOWN.has(a.rule_id))!;
      expect(target.accepted).toBeUndefined();
      const body = { rule_id: target.rule_id, scope: 'pair', src_ip: target.subject.src_ip, dst_ip: target.subject.dst_ip, reason: 'Modaliteten kan ikke oppdateres før utskifting', owner: 'Seksjonsleder radiologi', reference: 'ROS-2026-14', expires: future(90) };
      // a viewer may not record one
      expect((await f.app.inject({ method: 'POST', url: '/api/v1/risk-acceptances', headers: bearer('viewer'), payload: body })).statusCode).toBe(403);
      const r = await f.app.inject({ method: 'POST', url: '/api/v1/risk-acceptances', headers: bearer('officer'), payload: body });
      expect(r.statusCode, r.body).toBe(201);
      const acc = r.json() as RiskAcceptance & { active: boolean; covers_alerts: number };
      expect(acc).toMatchObject({ rule_id: target.rule_id, scope: 'pair', created_by: 'sikkerhetsleder', active: true });
      expect(acc.id).toMatch(/^[0-9a-f]{16}$/);
      expect(acc.covers_alerts).toBeGreaterThanOrEqual(1);
      // the alert is still there, in its status, marked accepted
      const after = (await f.app.inject({ url: `/api/v1/alerts/${target.id}`, headers: bearer('viewer') })).json();
      expect(after.status).toBe('open');
      expect(after.accepted).toMatchObject({ id: acc.id, owner: 'Seksjonsleder radiologi', reference: 'ROS-2026-14', expires: body.expires });
      const listed = (await f.app.inject({ url: '/api/v1/alerts', headers: bearer('viewer') })).json().items as { id: string; accepted?: { id: string } }[];
      expect(listed.length).toBe(alerts.length);
      expect(listed.filter((a) => a.accepted?.id === acc.id).map((a) => a.id)).toContain(target.id);
      const csv = (await f.app.inject({ url: '/api/v1/alerts.csv', headers: bearer('viewer') })).body;
      expect(csv.split('\r\n')[0]).toMatch(/,accepted_until$/);
      expect(csv).toContain(`,${body.expires}\r\n`);
      // listed and exported
      const list = (await f.app.inject({ url: '/api/v1/risk-acceptances?active=true', headers: bearer('viewer') })).json().items;
      expect(list.map((x: { id: string }) => x.id)).toEqual([acc.id]);
      const accCsv = await f.app.inject({ url: '/api/v1/risk-acceptances.csv', headers: bearer('viewer') });
      expect(accCsv.headers['content-type']).toMatch(/^text\/csv/);
      expect(accCsv.body).toContain('ROS-2026-14');
      const [enHead, enRow] = accCsv.body.split('\r\n');
      expect(enHead).toBe('id,rule_id,scope,device_id,src_ip,dst_ip,zone_src,zone_dst,reason,owner,reference,expires,active,created_by,created_at,revoked_by,revoked_at');
      expect(enRow).toContain(`,pair,,${body.src_ip},${body.dst_ip},`);
      expect(enRow).toContain(`,${body.expires},true,sikkerhetsleder,`);
      // In bokmål: the header and the words the export itself writes; the recorded texts as they are.
      const nbCsv = await f.app.inject({ url: '/api/v1/risk-acceptances.csv?lang=nb', headers: bearer('viewer') });
      expect(nbCsv.statusCode).toBe(200);
      const [nbHead, nbRow] = nbCsv.body.split('\r\n');
      expect(nbHead).toBe('id,regel,gjelder,enhet,kilde_ip,mål_ip,kildesone,målsone,begrunnelse,eier,ros_referanse,til_og_med,gjeldende,registrert_av,registrert,trukket_av,trukket');
      expect(nbRow).toContain(`,adressepar,,${body.src_ip},${body.dst_ip},`);
      expect(nbRow).toContain(`,${body.expires},ja,sikkerhetsleder,`);
      expect(nbRow).toContain(body.reason);
      expect((await f.app.inject({ url: '/api/v1/risk-acceptances.csv?lang=de', headers: bearer('viewer') })).statusCode).toBe(400);
      // counted in /metrics
      const m = await f.app.inject({ url: '/metrics', headers: bearer('metrics') });
      const sev = (target as unknown as { severity: string }).severity;
      expect(m.body).toMatch(new RegExp(`^muvakt_alerts_accepted\\{severity="${sev}"\\} [1-9]`, 'm'));
      // audited
      const audit = (await f.app.inject({ url: '/api/v1/audit?limit=100', headers: bearer('admin') })).json().items as { action: string; actor: string }[];
      expect(audit.some((a) => a.action === 'risk.accept' && a.actor === 'sikkerhetsleder')).toBe(true);
      expect(audit.some((a) => a.action === 'risk.list')).toBe(true);
      // revoked: the alert is plain open again, the acceptance stays on record
      const rv = await f.app.inject({ method: 'POST', url: `/api/v1/risk-acceptances/${acc.id}/revoke`, headers: bearer('officer'), payload: { comment: 'modaliteten er byttet' } });
      expect(rv.statusCode, rv.body).toBe(200);
      expect(rv.json()).toMatchObject({ active: false, revoked_by: 'sikkerhetsleder' });
      expect((await f.app.inject({ url: `/api/v1/alerts/${target.id}`, headers: bearer('viewer') })).json().accepted).toBeUndefined();
      expect((await f.app.inject({ url: '/api/v1/risk-acceptances?active=false', headers: bearer('viewer') })).json().items).toHaveLength(1);
      expect((await f.app.inject({ method: 'POST', url: '/api/v1/risk-acceptances/0123456789abcdef/revoke', headers: bearer('officer') })).statusCode).toBe(404);
    } finally {
      await f.close();
    }
  });

  it('refuses what it cannot record: unknown rule, wrong subject fields, past or distant expiry, patient data', async () => {
    const f = await fixture(tmp);
    try {
      const base = { rule_id: 'flow-not-allowed', scope: 'zones', zone_src: 'MU', zone_dst: 'office', reason: 'r', owner: 'o', reference: 'ROS-1', expires: future(30) };
      const post = (payload: object) => f.app.inject({ method: 'POST', url: '/api/v1/risk-acceptances', headers: bearer('officer'), payload });
      expect((await post(base)).statusCode).toBe(201);
      for (const [bad, message] of [
        [{ ...base, rule_id: 'no-such-rule' }, /unknown rule/],
        [{ ...base, src_ip: '10.0.0.1' }, /src_ip: not used with scope zones/],
        [{ ...base, scope: 'pair', zone_src: undefined, zone_dst: undefined, src_ip: '10.0.0.1', dst_ip: 'not-an-ip' }, /dst_ip: not an IP address/],
        [{ ...base, expires: '2020-01-01' }, /date has passed/],
        [{ ...base, expires: future(5 * 365) }, /at most \d+ days ahead/],
        [{ ...base, expires: '2026-02-30' }, /expected a date/],
        [{ ...base, reason: `Pasient ${FNR} sin modalitet` }, /national identity number/],
      ] as const) {
        const r = await post(bad);
        expect(r.statusCode, JSON.stringify(bad)).toBe(400);
        expect(r.json().message).toMatch(message);
        expect(r.body).not.toContain(FNR);
      }
      expect((await post({ ...base, extra: 1 })).statusCode).toBe(400);
    } finally {
      await f.close();
    }
  });

  it('ends at the end of its last day in Oslo, and is carried in the device evidence bundle', async () => {
    // 2026-07-01 ends at 22:00 UTC (summer time), 2026-12-01 at 23:00 UTC
    expect(new Date(endOfOsloDay('2026-07-01')).toISOString()).toBe('2026-07-01T22:00:00.000Z');
    expect(new Date(endOfOsloDay('2026-12-01')).toISOString()).toBe('2026-12-01T23:00:00.000Z');
    const a = { expires_at: '2026-12-01T23:00:00.000Z' } as RiskAcceptance;
    expect(isActive(a, Date.parse('2026-12-01T22:59:59Z'))).toBe(true);
    expect(isActive(a, Date.parse('2026-12-01T23:00:00Z'))).toBe(false);
    expect(() => validateAcceptance({ rule_id: 'x', scope: 'device', device_id: 'mac:aa', reason: 'r', owner: 'o', reference: 'ROS', expires: '2026-12-10' }, new Set(['x']), Date.parse('2026-12-05T00:00:00Z'))).not.toThrow();

    const f = await fixture(tmp);
    try {
      const alert = (await f.store.listAlerts({ limit: 100 })).items.find((a) => KNOWN.has(a.rule_id))!;
      await f.app.inject({ method: 'POST', url: '/api/v1/risk-acceptances', headers: bearer('officer'), payload: { rule_id: alert.rule_id, scope: 'pair', src_ip: alert.subject.src_ip, dst_ip: alert.subject.dst_ip, reason: 'accepted until replacement', owner: 'MTA', reference: 'ROS-7', expires: future(10) } });
      const device = { id: `ip:${alert.subject.src_ip}`, addresses: [{ ip: alert.subject.src_ip }], zone: { name: alert.subject.zone_src, kind: 'medical' }, exposure: { reasons: [] } } as never;
      const bundle = await buildEvidence(f.store, device);
      expect(bundle.risk_acceptances.map((x) => [x.reference, x.active])).toEqual([['ROS-7', true]]);
      expect(bundle.alerts.some((x) => (x as { accepted?: string }).accepted === bundle.risk_acceptances[0].id)).toBe(true);
    } finally {
      await f.close();
    }
  });
});
