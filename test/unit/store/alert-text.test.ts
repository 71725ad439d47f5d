/**
 * Free-text search of alerts (`q`), on both backends: the fields it matches and those it does
 * not, case folding, the rule ids a translated title adds, bounds on the text, and cursor paging
 * through a search.
 */
import { describe, expect, it } from 'vitest';
import type { Store } from '../../../agent/store/store.js';
import { StoreInputError, type Alert, type AlertQuery } from '../../../agent/store/types.js';
import { BACKENDS, setupBackends } from './backends.js';
import { T0, cand, iso, subject } from './helpers.js';

setupBackends();

async function pageAll(store: Store, q: AlertQuery): Promise<Alert[]> {
  const out: Alert[] = [];
  let cursor: string | null = null;
  do {
    const r = await store.listAlerts({ ...q, cursor });
    out.push(...r.items);
    cursor = r.next_cursor;
  } while (cursor !== null);
  return out;
}

describe.each(BACKENDS)('free-text search of alerts on $name', (be) => {
  async function seeded(): Promise<Store> {
    const s = await be.open(await be.fresh(), { now: () => T0 + 86_400_000, sensor: 'Bygg-A.span' });
    await s.upsertAlerts([
      cand(1, { rule_id: 'dicom-unknown-ae', title: 'Unknown DICOM AE title', evidence: { calling_ae: 'CT_SCANNER_7', called_ae: 'PACS01', dst_port: 104 }, subject: subject(1, { zone_dst: 'pacs' }) }),
      cand(2, { rule_id: 'remote-access-from-external', title: 'Remote access from an unknown external address', evidence: { app: 'VNC', country: 'US' } }),
      cand(3, { rule_id: 'telnet-cleartext', title: 'Telnet login in the clear', evidence: { app: 'telnet', secret: 'CT_SCANNER_7-lookalike-not-a-name-field' }, subject: subject(3, { device_id: 'mac:00:1b:44:11:3a:b7' }) }),
      cand(4, { rule_id: 'fan-out', title: 'Many destinations', evidence: { device: 'ip:10.77.10.4', distinct_destinations: 40 }, subject: subject(4, { zone_src: 'Lab-Zone' }) }),
    ]);
    return s;
  }
  const rules = async (s: Store, q: AlertQuery) => (await pageAll(s, { ...q, limit: 1000 })).map((a) => a.rule_id).sort();

  it('matches rule id, title, addresses, zones, device id, sensor names and the naming evidence fields, whatever the case', async () => {
    const s = await seeded();
    expect(await rules(s, { q: 'TELNET' })).toEqual(['telnet-cleartext']);
    expect(await rules(s, { q: 'unknown' })).toEqual(['dicom-unknown-ae', 'remote-access-from-external']);
    expect(await rules(s, { q: '10.77.10.3' })).toEqual(['telnet-cleartext']);
    expect(await rules(s, { q: '198.51.100' })).toHaveLength(4);
    expect(await rules(s, { q: 'lab-zone' })).toEqual(['fan-out']);
    expect(await rules(s, { q: 'PACS' })).toEqual(['dicom-unknown-ae']); // zone and called AE
    expect(await rules(s, { q: '3a:B7' })).toEqual(['telnet-cleartext']);
    expect(await rules(s, { q: 'bygg-a.SPAN' })).toHaveLength(4);
    expect(await rules(s, { q: 'vnc' })).toEqual(['remote-access-from-external']);
    expect(await rules(s, { q: 'ct_scanner_7' })).toEqual(['dicom-unknown-ae']); // not the other evidence field holding the same text
    expect(await rules(s, { q: 'ip:10.77.10.4' })).toEqual(['fan-out']);
    // Evidence fields that name nothing, and the recommendation, are not searched.
    expect(await rules(s, { q: 'US' })).toEqual([]);
    expect(await rules(s, { q: 'allowed_flows' })).toEqual([]);
    // A match never spans two fields.
    expect(await rules(s, { q: 'cleartext telnet' })).toEqual([]);
    // Combined with the other filters (AND).
    expect(await rules(s, { q: 'unknown', zone: 'pacs' })).toEqual(['dicom-unknown-ae']);
    await s.close();
  });

  it('adds the rules a translated title matched, still under the other filters', async () => {
    const s = await seeded();
    expect(await rules(s, { q: 'fjerntilgang', q_rule_ids: ['remote-access-from-external'] })).toEqual(['remote-access-from-external']);
    expect(await rules(s, { q: 'fjerntilgang', q_rule_ids: ['remote-access-from-external'], zone: 'pacs' })).toEqual([]);
    expect(await rules(s, { q: 'fjerntilgang' })).toEqual([]);
    await s.close();
  });

  it('refuses empty, long or odd text', async () => {
    const s = await seeded();
    for (const bad of ['', '   ', 'x'.repeat(101), "a' OR 1=1", 'a%', 'a_b"', 'line\nbreak', 'a\\b', '<script>']) {
      await expect(s.listAlerts({ q: bad }), JSON.stringify(bad)).rejects.toThrow(StoreInputError);
    }
    await expect(s.listAlerts({ q: 'x'.repeat(101) })).rejects.toThrow(/q: expected 1–100 letters/);
    expect(await rules(s, { q: 'æøå Ærø (x) a/b @c' })).toEqual([]);
    await s.close();
  });

  it('pages through a search by cursor: every match once, in order; the cursor is bound to the text', async () => {
    const s = await be.open(await be.fresh(), { now: () => T0 + 86_400_000 });
    await s.upsertAlerts(
      Array.from({ length: 45 }, (_, i) =>
        cand(i, { rule_id: i % 3 === 0 ? 'needle-rule' : 'hay-rule', title: i % 3 === 0 ? 'Needle in the stack' : 'Hay', ts: iso(Math.floor(i / 4) * 1000) }),
      ),
    );
    const all = await pageAll(s, { q: 'NEEDLE', limit: 1000 });
    expect(all).toHaveLength(15);
    const paged = await pageAll(s, { q: 'NEEDLE', limit: 4 });
    expect(paged.map((a) => a.id)).toEqual(all.map((a) => a.id));
    const bySeverity = await pageAll(s, { q: 'needle', limit: 2, sort: 'severity' });
    expect(new Set(bySeverity.map((a) => a.id))).toEqual(new Set(all.map((a) => a.id)));
    const first = await s.listAlerts({ q: 'needle', limit: 4 });
    await expect(s.listAlerts({ q: 'hay', limit: 4, cursor: first.next_cursor })).rejects.toThrow(/different query/);
    await s.close();
  });
});
