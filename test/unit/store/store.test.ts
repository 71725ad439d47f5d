/**
 * The store conformance suite: every test runs against SQLite and PostgreSQL (a throw-away
 * cluster started for this file), so both backends keep the same semantics — deduplication
 * and reopening, cursor paging, lifecycle, audit, kv and retention.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../../agent/store/store.js';
import { AlertTransitionError, StoreInputError, type Alert, type AlertQuery } from '../../../agent/store/types.js';
import { alertId, boundEvidence, parseTs, safeJson } from '../../../agent/store/values.js';
import { BACKENDS, setupBackends } from './backends.js';
import { T0, cand, iso, subject } from './helpers.js';

setupBackends();

async function pageAll(store: Store, q: AlertQuery, between?: (page: number) => Promise<void>): Promise<Alert[]> {
  const out: Alert[] = [];
  let cursor: string | null = null;
  let page = 0;
  do {
    const r = await store.listAlerts({ ...q, cursor });
    out.push(...r.items);
    cursor = r.next_cursor;
    await between?.(page++);
  } while (cursor !== null);
  return out;
}

describe.each(BACKENDS)('store on $name', (be) => {
  /** A store whose clock is fixed near the test data, so prune-at-open keeps it. */
  async function open(now = () => T0 + 86_400_000): Promise<Store> {
    return be.open(await be.fresh(), { now });
  }

  describe('upsert', () => {
    it('dedups on (rule_id, subject): count and last_seen grow, first_seen kept, evidence is the latest', async () => {
      const s = await open();
      const r1 = await s.upsertAlerts([cand(1, { ts: iso(5000, 123) })]);
      expect(r1.created).toHaveLength(1);
      const a = r1.created[0];
      expect(a.id).toBe(alertId('G2.medical-internet', subject(1)));
      expect(a).toMatchObject({ count: 1, status: 'open', first_seen: iso(5000, 123), last_seen: iso(5000, 123), guide_refs: ['MU 3.7', 'MU 4.6'] });

      const r2 = (await s.upsertAlerts([
        cand(1, { ts: iso(9000), evidence: { app: 'https', bytes: 10 } }),
        cand(1, { ts: iso(7000), evidence: { app: 'https', bytes: 20 } }), // out of order: last_seen stays 9000
        cand(2),
      ]));
      expect(r2.created.map((x) => x.subject.src_ip)).toEqual(['10.77.10.2']);
      expect(r2.updated).toHaveLength(1);
      const got = (await s.getAlert(a.id))!;
      expect(got).toMatchObject({ count: 3, first_seen: iso(5000, 123), last_seen: iso(9000), evidence: { app: 'https', bytes: 20 } });
      expect(r2.updated[0]).toMatchObject({ count: 3, last_seen: iso(9000) });

      // Another rule on the same subject, and the same rule with a device_id, are other alerts.
      await s.upsertAlerts([cand(1, { rule_id: 'G13.obsolete' }), cand(1, { subject: { ...subject(1), device_id: 'dev-1' } })]);
      expect((await s.listAlerts({ limit: 1000 })).items).toHaveLength(4);
      await s.close();
    });

    it('a pre-aggregated candidate adds its count and may move first_seen earlier', async () => {
      const s = await open();
      const [a] = (await s.upsertAlerts([cand(3, { ts: iso(5000) })])).created;
      await s.upsertAlerts([cand(3, { ts: iso(8000), first_ts: iso(1000), count: 10 })]);
      expect((await s.getAlert(a.id))).toMatchObject({ count: 11, first_seen: iso(1000), last_seen: iso(8000) });
      await s.close();
    });

    it('a resolved alert that fires again reopens with a history row; acknowledged stays acknowledged', async () => {
      const s = await open();
      const [a, b] = (await s.upsertAlerts([cand(1), cand(2)])).created;
      await s.resolve(a.id, 'officer@hf', 'firewall rule added');
      await s.acknowledge(b.id, 'officer@hf', 'vendor asked');
      const r = await s.upsertAlerts([cand(1, { ts: iso(60_000) }), cand(2, { ts: iso(60_000) })]);
      expect(r.reopened.map((x) => x.id)).toEqual([a.id]);
      expect(r.reopened[0].status).toBe('open');
      expect(r.updated.map((x) => [x.id, x.status])).toEqual([[b.id, 'acknowledged']]);
      const h = (await s.getAlert(a.id))!.history;
      expect(h.map((x) => [x.action, x.actor])).toEqual([
        ['resolve', 'officer@hf'],
        ['reopen', 'muvakt'],
      ]);
      expect((await s.getAlert(b.id))!.status).toBe('acknowledged');
      await s.close();
    });

    it('counts malformed candidates instead of failing the batch, and bounds evidence to 4 KiB', async () => {
      const s = await open();
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const r = (await s.upsertAlerts([
        cand(1, { severity: 'urgent' as never }),
        cand(2, { ts: '2026-02-30T00:00:00Z' }),
        cand(3, { rule_id: '' }),
        cand(4, { evidence: cyclic }),
        cand(5, { evidence: { big: 'x'.repeat(10_000), list: Array.from({ length: 500 }, (_, i) => i), keep: 'yes' } }),
      ]));
      expect(r.invalid).toBe(4);
      expect(r.created).toHaveLength(1);
      const ev = (await s.getAlert(r.created[0].id))!.evidence;
      expect(ev._truncated).toBe(true);
      expect(ev.keep).toBe('yes');
      expect(Buffer.byteLength(JSON.stringify(ev))).toBeLessThanOrEqual(4096);
      await s.close();
    });

    it('bounds any evidence shape to the byte limit', async () => {
      const huge: Record<string, unknown> = {};
      for (let i = 0; i < 200; i++) huge[`k${i}`] = 'æøå'.repeat(200);
      const b = boundEvidence(safeJson(huge)!, huge);
      expect(b.truncated).toBe(true);
      expect(Buffer.byteLength(b.json)).toBeLessThanOrEqual(4096);
      expect(JSON.parse(b.json)._truncated).toBe(true);
    });

    it('normalises timestamps to µs UTC', async () => {
      expect(parseTs('2026-03-01T01:00:00.5+01:00')).toEqual({ iso: '2026-03-01T00:00:00.500000Z', ms: T0 + 500 });
      expect(parseTs('2026-03-01T00:00:00.123456789Z')).toEqual({ iso: '2026-03-01T00:00:00.123456Z', ms: T0 + 123 });
      expect(parseTs('yesterday')).toBeNull();
    });

    it('parses times of the second it last saw as it parses any other', async () => {
      // The store's own form within the last second parsed takes a shorter path: same answers.
      expect(parseTs('2026-03-01T00:00:00.000001Z')).toEqual({ iso: '2026-03-01T00:00:00.000001Z', ms: T0 });
      expect(parseTs('2026-03-01T00:00:00.999999Z')).toEqual({ iso: '2026-03-01T00:00:00.999999Z', ms: T0 + 999 });
      expect(parseTs('2026-03-01T00:00:00.12345xZ')).toBeNull();
      expect(parseTs('2026-03-01T00:00:00.123456+01:00')).toEqual({ iso: '2026-02-28T23:00:00.123456Z', ms: T0 - 3_600_000 + 123 });
      expect(parseTs('2026-03-01T00:00:01.250000Z')).toEqual({ iso: '2026-03-01T00:00:01.250000Z', ms: T0 + 1250 });
      expect(parseTs('2026-03-01T00:00:01.000000Z')).toEqual({ iso: '2026-03-01T00:00:01.000000Z', ms: T0 + 1000 });
      expect(parseTs('2026-02-30T00:00:00.000000Z')).toBeNull();
    });
  });

  describe('lifecycle', () => {
    it('validates transitions; unknown id → null', async () => {
      const s = await open();
      const [a] = (await s.upsertAlerts([cand(1)])).created;
      expect((await s.acknowledge('nope', 'o', ''))).toBeNull();
      expect((await s.resolve('nope', 'o', ''))).toBeNull();

      const acked = (await s.acknowledge(a.id, 'officer', 'looking'))!;
      expect(acked.status).toBe('acknowledged');
      await expect(s.acknowledge(a.id, 'officer', 'again')).rejects.toThrow(AlertTransitionError);
      const resolved = (await s.resolve(a.id, 'officer', 'fixed'))!;
      expect(resolved.status).toBe('resolved');
      await expect(s.resolve(a.id, 'officer', '')).rejects.toThrow(AlertTransitionError);
      await expect(s.acknowledge(a.id, 'officer', '')).rejects.toThrow(/is resolved: cannot ack/);
      expect((await s.reopen(a.id, 'officer', 'not fixed after all'))!.status).toBe('open');
      await expect(s.reopen(a.id, 'officer', '')).rejects.toThrow(AlertTransitionError);
      // open → resolved directly is allowed
      expect((await s.resolve(a.id, 'officer', ''))!.status).toBe('resolved');
      expect((await s.getAlert(a.id))!.history.map((h) => h.action)).toEqual(['ack', 'resolve', 'reopen', 'resolve']);
      expect((await s.getAlert(a.id))!.history[0]).toMatchObject({ actor: 'officer', comment: 'looking' });

      await expect(s.acknowledge(a.id, '', '')).rejects.toThrow(StoreInputError);
      await expect(s.acknowledge(a.id, 'o', 'x'.repeat(3000))).rejects.toThrow(StoreInputError);
      await s.close();
    });
  });

  describe('queries', () => {
    const seedCand = (i: number, ts = iso(Math.floor(i / 3) * 1000)) =>
      cand(i, {
        rule_id: i % 3 === 0 ? 'G3.cleartext-external' : 'G2.medical-internet',
        severity: (['low', 'medium', 'high', 'critical'] as const)[i % 4],
        subject: subject(i, { zone_dst: i % 5 === 0 ? 'pacs' : 'external' }),
        ts, // three alerts share each millisecond: ties are broken by id
      });
    async function seeded() {
      const s = await open();
      await s.upsertAlerts(Array.from({ length: 60 }, (_, i) => seedCand(i)));
      return s;
    }

    it('filters by severity, rule, status, zone, ip and time; sorts by last_seen or severity', async () => {
      const s = await seeded();
      const all = (await s.listAlerts({ limit: 1000 })).items;
      expect(all).toHaveLength(60);
      const byTime = all.map((a) => a.last_seen);
      expect([...byTime].sort().reverse()).toEqual(byTime);

      expect((await s.listAlerts({ severity: 'critical', limit: 1000 })).items.every((a) => a.severity === 'critical')).toBe(true);
      expect((await s.listAlerts({ severity: ['low', 'critical'], limit: 1000 })).items).toHaveLength(30);
      expect((await s.listAlerts({ min_severity: 'high', limit: 1000 })).items).toHaveLength(30);
      expect((await s.listAlerts({ rule_id: 'G3.cleartext-external', limit: 1000 })).items).toHaveLength(20);
      expect((await s.listAlerts({ zone: 'pacs', limit: 1000 })).items).toHaveLength(12);
      expect((await s.listAlerts({ zone: 'mu-radiology', limit: 1000 })).items).toHaveLength(60);
      expect((await s.listAlerts({ ip: '10.77.10.7', limit: 1000 })).items.map((a) => a.subject.src_ip)).toEqual(['10.77.10.7']);
      expect((await s.listAlerts({ ip: '198.51.100.0', limit: 1000 })).items).toHaveLength(60);
      expect((await s.listAlerts({ since: iso(15_000), limit: 1000 })).items).toHaveLength(15);
      expect((await s.listAlerts({ until: new Date(T0 + 1000), limit: 1000 })).items).toHaveLength(6);
      expect((await s.listAlerts({ since: T0 + 5000, until: iso(5000), limit: 1000 })).items).toHaveLength(3);

      const first = all[all.length - 1];
      await s.acknowledge(first.id, 'o', '');
      expect((await s.listAlerts({ status: 'acknowledged' })).items.map((a) => a.id)).toEqual([first.id]);
      expect((await s.listAlerts({ status: ['open', 'acknowledged'], limit: 1000 })).items).toHaveLength(60);

      const bySev = (await s.listAlerts({ sort: 'severity', limit: 1000 })).items;
      expect(bySev.slice(0, 15).every((a) => a.severity === 'critical')).toBe(true);
      expect(bySev[59].severity).toBe('low');
      expect((await s.openCounts())).toEqual({ low: 15, medium: 15, high: 15, critical: 15, [first.severity]: 14 });

      await expect(s.listAlerts({ severity: 'urgent' as never })).rejects.toThrow(StoreInputError);
      await expect(s.listAlerts({ since: 'last week' })).rejects.toThrow(StoreInputError);
      await expect(s.listAlerts({ limit: 0 })).rejects.toThrow(StoreInputError);
      await expect(s.listAlerts({ cursor: 'garbage' })).rejects.toThrow(StoreInputError);
      await s.close();
    });

    it('filters by a CIDR prefix the source or destination is in, IPv4 and IPv6, paged', async () => {
      const s = await seeded();
      await s.upsertAlerts([
        cand(100, { subject: subject(0, { src_ip: 'fd00:77:10::5', dst_ip: '2001:db8::9' }) }),
        cand(101, { subject: subject(0, { src_ip: 'fd00:78::1', dst_ip: '2001:db8::9' }) }),
      ]);
      const sources = async (ip: string) => (await s.listAlerts({ ip, limit: 1000 })).items.map((a) => a.subject.src_ip).sort();
      expect(await sources('10.77.10.0/28')).toEqual(Array.from({ length: 16 }, (_, i) => `10.77.10.${i}`).sort());
      // Host bits in the prefix are ignored, as PostgreSQL's inet ignores them.
      expect(await sources('10.77.10.5/28')).toEqual(await sources('10.77.10.0/28'));
      expect(await sources('10.77.10.7/32')).toEqual(['10.77.10.7']);
      expect(await sources('10.0.0.0/8')).toHaveLength(60);
      expect(await sources('10.78.0.0/16')).toEqual([]);
      // By destination.
      expect(await sources('198.51.100.0/24')).toHaveLength(60);
      expect(await sources('2001:db8::/32')).toEqual(['fd00:77:10::5', 'fd00:78::1']);
      expect(await sources('fd00:77::/32')).toEqual(['fd00:77:10::5']);
      // A prefix of one family holds no address of the other.
      expect(await sources('::/0')).toEqual(['fd00:77:10::5', 'fd00:78::1']);
      expect(await sources('0.0.0.0/0')).toHaveLength(60);
      // Pages of a prefix: every match once.
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: { id: string }[]; next_cursor: string | null } = await s.listAlerts({ ip: '10.77.10.0/27', limit: 7, cursor });
        paged.push(...page.items.map((a) => a.id));
        cursor = page.next_cursor;
      } while (cursor !== null);
      expect(paged).toHaveLength(32);
      expect(new Set(paged).size).toBe(32);
      for (const bad of ['10.77.10.0/33', '10.77.10/24', 'fd00::/129', '10.77.10.0/']) {
        await expect(s.listAlerts({ ip: bad }), bad).rejects.toThrow(/ip: expected an address or a CIDR prefix/);
      }
      await s.close();
    });

    it('cursor pages are stable: no duplicates or misses while alerts are inserted and updated', async () => {
      for (const sort of ['last_seen', 'severity'] as const) {
        const s = await seeded();
        const before = new Set((await s.listAlerts({ limit: 1000 })).items.map((a) => a.id));
        let extra = 1000;
        const updated = new Set<string>();
        const seen = await pageAll(s, { sort, limit: 7 }, async (page) => {
          // New alerts, newer and older than the cursor, and updates to existing ones
          // (an update to a lower severity does not lower the alert's severity).
          const up = (await s.upsertAlerts([
            cand(extra++, { ts: iso(100_000 + page) }),
            cand(extra++, { ts: iso(page * 500), severity: 'critical' }),
            cand(extra++, { ts: iso(page * 700), severity: 'low' }),
            { ...seedCand(page * 7 % 60, iso(200_000 + page)), severity: 'low' },
          ]));
          for (const a of up.updated) updated.add(a.id);
        });
        expect(updated.size).toBeGreaterThan(5);
        const ids = seen.map((a) => a.id);
        expect(new Set(ids).size).toBe(ids.length); // no duplicates
        // Every alert that existed when paging started and was not updated meanwhile is seen.
        for (const id of before) if (!updated.has(id)) expect(ids).toContain(id);
        expect(seen.length).toBeGreaterThanOrEqual(before.size - updated.size);
        await s.close();
      }
    });

    it('a cursor is bound to its query', async () => {
      const s = await seeded();
      const p = await s.listAlerts({ limit: 5, severity: 'high' });
      await expect(s.listAlerts({ limit: 5, severity: 'low', cursor: p.next_cursor })).rejects.toThrow(/different query/);
      expect((await s.listAlerts({ limit: 10, severity: 'high', cursor: p.next_cursor })).items).toHaveLength(10);
      await s.close();
    });
  });

  describe('audit, kv and retention', () => {
    it('writes and pages the audit log', async () => {
      const s = await open();
      for (let i = 0; i < 25; i++) (await s.audit({ actor: i % 2 ? 'anna' : 'bjorn', role: 'viewer', action: 'alerts.list', query: { severity: 'high', page: i }, at: T0 + i * 1000 }));
      const anna = [];
      let cursor: string | null = null;
      do {
        const p = await s.listAudit({ actor: 'anna', limit: 5, cursor });
        anna.push(...p.items);
        cursor = p.next_cursor;
      } while (cursor !== null);
      expect(anna).toHaveLength(12);
      expect(anna[0]).toMatchObject({ actor: 'anna', role: 'viewer', action: 'alerts.list', query: { severity: 'high', page: 23 } });
      expect((await s.listAudit({ since: T0 + 20_000, limit: 100 })).items).toHaveLength(5);
      await s.audit({ actor: 'x', role: 'admin', action: 'big', query: { blob: 'y'.repeat(100_000) } });
      expect(JSON.stringify((await s.listAudit({ action: 'big' })).items[0].query).length).toBeLessThanOrEqual(4096);
      await s.close();
    });

    it('keeps small JSON state in kv', async () => {
      const s = await open();
      expect((await s.kvGet('baseline'))).toBeUndefined();
      await s.kvSet('baseline', { v: 1, peers: ['a'] });
      await s.kvSet('baseline', { v: 2 });
      expect((await s.kvGet('baseline'))).toEqual({ v: 2 });
      expect((await s.kvDelete('baseline'))).toBe(true);
      expect((await s.kvGet('baseline'))).toBeUndefined();
      await s.close();
    });

    it('lists kv entries by key prefix in code-point order, a prefix with LIKE characters taken literally', async () => {
      const s = await open();
      for (const k of ['risk-acceptance:b', 'risk-acceptance:a', 'risk-acceptanceX', 'risk_acceptance:c', 'baseline', 'risk-acceptance:%']) await s.kvSet(k, { k });
      expect((await s.kvList('risk-acceptance:')).map((e) => e.key)).toEqual(['risk-acceptance:%', 'risk-acceptance:a', 'risk-acceptance:b']);
      expect((await s.kvList<{ k: string }>('risk-acceptance:', 1)).map((e) => e.value.k)).toEqual(['risk-acceptance:%']);
      expect(await s.kvList('nothing:')).toEqual([]);
      await s.close();
    });

    it('prune deletes alerts (with history) and audit rows older than the retention, at open too', async () => {
      const path = await be.fresh();
      const day = 86_400_000;
      const s = await be.open(path, { now: () => T0 });
      const old = (await s.upsertAlerts([cand(1, { ts: iso(-200 * day) })])).created[0];
      const young = (await s.upsertAlerts([cand(2, { ts: iso(-10 * day) })])).created[0];
      // An alert first seen long ago but still firing is kept.
      const lasting = (await s.upsertAlerts([cand(3, { ts: iso(-300 * day) }), cand(3, { ts: iso(-1 * day) })])).created[0];
      await s.acknowledge(old.id, 'o', 'old ack');
      await s.audit({ actor: 'a', role: 'viewer', action: 'alerts.list', query: {}, at: T0 - 200 * day });
      await s.audit({ actor: 'a', role: 'viewer', action: 'alerts.list', query: {}, at: T0 - 1 * day });

      expect((await s.prune(T0, 180))).toEqual({ alerts: 1, history: 1, audit: 1, flow_history: 0, remote_sessions: 0 });
      expect((await s.getAlert(old.id))).toBeNull();
      expect((await s.getAlert(young.id))).not.toBeNull();
      expect((await s.getAlert(lasting.id))).toMatchObject({ count: 2 });
      expect((await s.listAudit()).items).toHaveLength(1);
      await s.close();

      // At open, with a shorter configured retention and a later clock: alerts count back from the newest alert (T0 - 1 day), audit rows from the clock.
      const pruned: unknown[] = [];
      const s2 = await be.open(path, { now: () => T0 + 30 * day, retentionDays: 5, onPrune: (r, cutoff) => pruned.push({ r, cutoff }) });
      expect((await s2.getAlert(young.id))).toBeNull();
      expect((await s2.getAlert(lasting.id))).not.toBeNull();
      expect((await s2.listAudit()).items).toHaveLength(0);
      expect(pruned).toEqual([{ r: { alerts: 1, history: 0, audit: 1, flow_history: 0, remote_sessions: 0 }, cutoff: { alerts: iso(-6 * day), audit: iso(25 * day), flow_history: iso(25 * day), remote_sessions: iso(25 * day) } }]);
      await s2.close();
      expect(await be.sql(path, 'SELECT (SELECT count(*) FROM alerts) + (SELECT count(*) FROM alert_history) AS n')).toEqual([{ n: 1 }]);
    });

    it('keeps the alerts of captures older than the retention, and a reader that opens without pruning deletes nothing', async () => {
      const path = await be.fresh();
      const day = 86_400_000;
      const twoYears = 730 * day;
      const s = await be.open(path, { now: () => T0 });
      await s.upsertAlerts([cand(1, { ts: iso(-twoYears) }), cand(2, { ts: iso(-twoYears - 10 * day) }), cand(3, { ts: iso(-twoYears - 400 * day) })]);
      // Relative to the newest alert, the one 400 days older than it is past 180 days: only that goes.
      expect((await s.prune())).toEqual({ alerts: 1, history: 0, audit: 0, flow_history: 0, remote_sessions: 0 });
      expect((await s.prune())).toEqual({ alerts: 0, history: 0, audit: 0, flow_history: 0, remote_sessions: 0 });
      await s.close();
      const r = await be.open(path, { pruneOnOpen: false, retentionDays: 1, onPrune: () => expect.unreachable('a reader pruned') });
      expect((await r.listAlerts({})).items).toHaveLength(2);
      await r.close();
    });
  });
});
