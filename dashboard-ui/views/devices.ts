/**
 * Devices: the inventory, most exposed first from the API, filterable (zone and sensor by the
 * API, text over the rows loaded) and sortable; a device's panel shows its facts, why it has its
 * role and usage scenario, its properties and exposure reasons, its peers and flows over time,
 * its alerts, the risk acceptances that cover it and the evidence bundle to download. The
 * inventory's own texts (facts, reasons) come from the API in the page's language, translated
 * where the evidence bundle is: the page holds no second table of them.
 */
import { api, type Params } from '../api.js';
import { currentLang, explain, message, severityBadge, t, time } from '../context.js';
import { compare, DATA, el, fill, saveFile, sortHeader } from '../dom.js';
import type { Key, Lang } from '../i18n.js';
import { hidePanel, showPanel } from '../panel.js';
import { navigate, routeHref, withParam, type Route } from '../state.js';
import type { Alert, Asset, AssetDetail, ExposureReason, FlowPeers, RiskAcceptance } from '../types.js';
import { alertTitle, guideBlock } from './alerts.js';
import { devicePeersTable, seriesTable, truncatedNote } from './peers.js';

const PAGE = 200;
type SortKey = 'device' | 'vendor' | 'zone' | 'role' | 'scenario' | 'exposure' | 'last_seen';
const SORT_KEYS: readonly SortKey[] = ['device', 'vendor', 'zone', 'role', 'scenario', 'exposure', 'last_seen'];

function sortValue(d: Asset, key: SortKey): string | number {
  switch (key) {
    case 'device':
      return d.ips[0] ?? d.id;
    case 'vendor':
      return d.vendor ?? '';
    case 'zone':
      return d.zone;
    case 'role':
      return d.role;
    case 'scenario':
      return d.scenario ?? -1;
    case 'exposure':
      return d.exposure.score;
    case 'last_seen':
      return d.last_seen;
  }
}

/** Whether a risk acceptance is about this device: recorded for it, or for a pair one of its addresses is in. */
function covers(x: RiskAcceptance, id: string, ips: readonly string[]): boolean {
  if (x.scope === 'device') return x.device_id === id;
  if (x.scope === 'pair') return ips.includes(x.src_ip ?? '') || ips.includes(x.dst_ip ?? '');
  return false;
}

function nameOf(n: { name: string } | string): string {
  return typeof n === 'string' ? n : n.name;
}

export class DevicesView {
  private items: Asset[] = [];
  private next: string | null = null;
  private loadedKey: string | null = null;
  private route: Route = { view: 'devices', params: new URLSearchParams() };
  /** The open device, with the language its texts were fetched in. */
  private detail: { device: AssetDetail; lang: Lang; alerts: Alert[]; flows: FlowPeers | null; exceptions: RiskAcceptance[] | null } | null = null;
  private loading = false;

  constructor(private readonly root: HTMLElement) {}

  private get params(): URLSearchParams {
    return this.route.params;
  }

  private apiParams(cursor?: string): Params {
    const out: [string, string][] = [['limit', String(PAGE)]];
    for (const k of ['zone', 'sensor']) {
      const v = this.params.get(k);
      if (v) out.push([k, v]);
    }
    if (cursor) out.push(['cursor', cursor]);
    return out;
  }

  async update(route: Route): Promise<void> {
    this.route = route;
    const key = JSON.stringify(this.apiParams());
    if (this.loadedKey !== key) {
      this.loadedKey = key;
      this.loading = true;
      this.render();
      try {
        const page = await api.assets(this.apiParams());
        this.items = page.items;
        this.next = page.next_cursor;
      } catch (e) {
        this.loadedKey = null;
        this.items = [];
        message(() => explain(e), 'error');
      }
      this.loading = false;
    }
    this.render();
    await this.syncDetail();
  }

  private async more(): Promise<void> {
    if (!this.next) return;
    try {
      const page = await api.assets(this.apiParams(this.next));
      this.items.push(...page.items);
      this.next = page.next_cursor;
      this.render();
    } catch (e) {
      message(() => explain(e), 'error');
    }
  }

  private go(params: URLSearchParams, replace = false): void {
    navigate('devices', params, replace);
  }

  private async syncDetail(): Promise<void> {
    const id = this.params.get('device');
    if (!id) {
      this.detail = null;
      hidePanel();
      return;
    }
    const lang = currentLang();
    if (this.detail?.device.id === id && this.detail.lang !== lang) {
      // The language button: only the device's texts change, its alerts, flows and acceptances stay.
      try {
        const device = await api.asset(id, lang);
        // A faster click or another device since: that request's answer is the one to show.
        if (this.params.get('device') !== id || currentLang() !== lang || this.detail?.device.id !== id) return;
        this.detail = { ...this.detail, device, lang };
      } catch (e) {
        message(() => explain(e), 'error');
        return;
      }
      this.renderDetail(false);
      return;
    }
    if (this.detail?.device.id !== id) {
      try {
        const device = await api.asset(id, lang);
        const ips = (device.addresses ?? []).map((a) => a.ip).slice(0, 8);
        // Flows and acceptances are extras: a store without them (or a refusal) leaves the rest of the panel.
        const [pages, flows, exceptions] = await Promise.all([
          Promise.all(ips.map((ip) => api.alerts([['ip', ip], ['limit', '100'], ['sort', 'severity'], ['status', 'open,acknowledged,resolved']]))),
          api.assetFlows(id).catch(() => null),
          api.acceptances().then((r) => r.items.filter((x) => covers(x, device.id, ips)), () => null),
        ]);
        const seen = new Map<string, Alert>();
        for (const p of pages) for (const a of p.items) seen.set(a.id, a);
        this.detail = { device, lang, alerts: [...seen.values()], flows, exceptions };
      } catch (e) {
        message(() => explain(e), 'error');
        return;
      }
    }
    this.renderDetail();
  }

  render(): void {
    const rows = this.visible();
    const current = { key: this.params.get('sort') ?? '', dir: (this.params.get('dir') === 'asc' ? 'asc' : 'desc') as 'asc' | 'desc' };
    const head = (label: Key, key: SortKey) => sortHeader(t(label), key, current, t('sortBy', { col: t(label) }), (k) => this.sortBy(k));
    const text = el('input', { attrs: { id: 'device-filter', type: 'search', value: this.params.get('q') ?? '', autocomplete: 'off', maxlength: 200 } });
    text.addEventListener('input', () => this.go(withParam(this.params, 'q', text.value), true));
    const zone = el('input', { attrs: { id: 'device-zone', type: 'text', value: this.params.get('zone') ?? '', autocomplete: 'off', maxlength: 128 } });
    zone.addEventListener('change', () => this.go(withParam(this.params, 'zone', zone.value.trim())));
    const sensor = el('input', { attrs: { id: 'device-sensor', type: 'text', value: this.params.get('sensor') ?? '', autocomplete: 'off', maxlength: 200 } });
    sensor.addEventListener('change', () => this.go(withParam(this.params, 'sensor', sensor.value.trim())));
    fill(this.root, [
      el('h1', { text: t('devicesH') }),
      el('p', { cls: 'small', text: t('devicesNote') }),
      el('div', { cls: 'filters card' }, [
        el('div', { cls: 'field' }, [el('label', { text: t('filterDevices'), attrs: { for: 'device-filter' } }), text]),
        el('div', { cls: 'field' }, [el('label', { text: t('zone'), attrs: { for: 'device-zone' } }), zone]),
        el('div', { cls: 'field' }, [el('label', { text: t('sensor'), attrs: { for: 'device-sensor' } }), sensor]),
      ]),
      el('div', { cls: 'table-wrap' }, [
        el('table', { cls: 'list', attrs: { id: 'devices' } }, [
          el('thead', {}, [
            el('tr', {}, [head('d.device', 'device'), head('d.vendor', 'vendor'), head('zone', 'zone'), head('d.role', 'role'), head('d.scenario', 'scenario'), head('d.exposure', 'exposure'), head('d.lastSeen', 'last_seen')]),
          ]),
          el('tbody', { attrs: { id: 'device-rows' } }, rows.map((d) => this.row(d))),
        ]),
      ]),
      this.loading ? el('p', { cls: 'small', text: t('loading') }) : rows.length === 0 ? el('p', { cls: 'empty', text: t('noDevices') }) : null,
      this.next ? el('button', { cls: 'secondary', text: t('more'), attrs: { type: 'button', id: 'devices-more' }, on: { click: () => void this.more() } }) : null,
    ]);
    if (this.detail && this.params.get('device') === this.detail.device.id) {
      this.renderDetail(false);
      // The language was switched with the device open: its texts again, in the new language.
      if (this.detail.lang !== currentLang()) void this.syncDetail();
    }
  }

  private visible(): Asset[] {
    const q = (this.params.get('q') ?? '').trim().toLowerCase();
    const rows = q ? this.items.filter((d) => [d.id, d.mac ?? '', d.vendor ?? '', d.zone, d.role, ...d.ips, ...d.names].some((s) => s.toLowerCase().includes(q))) : [...this.items];
    const key = (SORT_KEYS as readonly string[]).includes(this.params.get('sort') ?? '') ? (this.params.get('sort') as SortKey) : null;
    if (key) {
      const dir = this.params.get('dir') === 'asc' ? 1 : -1;
      rows.sort((a, b) => dir * compare(sortValue(a, key), sortValue(b, key)) || b.exposure.score - a.exposure.score);
    }
    return rows;
  }

  private sortBy(key: string): void {
    const same = this.params.get('sort') === key;
    this.go(withParam(withParam(this.params, 'sort', key), 'dir', same && this.params.get('dir') !== 'asc' ? 'asc' : 'desc'), true);
  }

  private row(d: Asset): HTMLElement {
    const active = this.params.get('device') === d.id;
    return el('tr', { cls: active ? 'active' : '', attrs: { 'data-device-id': d.id, 'data-ips': d.ips.join(' ') } }, [
      el('td', {}, [
        el('button', { cls: 'link mono device', text: d.ips.join(', ') || d.id, attrs: { id: `open-${d.id}`, type: 'button', 'aria-expanded': active, ...DATA }, on: { click: () => this.go(withParam(this.params, 'device', d.id)) } }),
        d.names.length ? el('div', { cls: 'small', text: d.names.join(', '), attrs: DATA }) : null,
        el('div', { cls: 'mono small', text: d.id, attrs: DATA }),
      ]),
      el('td', { text: d.vendor ?? '–', attrs: DATA }),
      el('td', { cls: 'zone', text: d.zone, attrs: DATA }),
      el('td', { cls: 'role', text: d.role, attrs: DATA }),
      el('td', { cls: 'num', text: d.scenario === null ? '–' : `#${d.scenario}` }),
      el('td', { cls: 'exposure', attrs: { 'data-level': d.exposure.level, 'data-score': d.exposure.score } }, [el('span', { cls: 'score', text: d.exposure.score }), ' ', severityBadge(d.exposure.level)]),
      el('td', { cls: 'time', text: time(d.last_seen) }),
    ]);
  }

  private renderDetail(focus = true): void {
    if (!this.detail) return;
    const { device: d, alerts, flows, exceptions } = this.detail;
    const zone = typeof d.zone === 'string' ? d.zone : (d.zone?.name ?? '–');
    const scenario = d.scenario === null || d.scenario === undefined ? '–' : typeof d.scenario === 'number' ? `#${d.scenario}` : `${d.scenario.number === null ? '–' : `#${d.scenario.number}`} ${d.scenario.name}`;
    const facts: [Key, string][] = [
      ['f.id', d.id],
      ['f.mac', d.mac ?? '–'],
      ['f.ips', (d.addresses ?? []).map((a) => a.ip).join(', ') || '–'],
      ['f.names', (d.names ?? []).map(nameOf).join(', ') || '–'],
      ['f.vendor', d.vendor ?? '–'],
      ['f.zone', zone],
      ['f.role', d.role ?? '–'],
      ['f.scenario', scenario],
      ['f.vlans', (d.vlans ?? []).join(', ') || '–'],
      ['f.countries', (d.countries ?? []).join(', ') || '–'],
      ['f.first', time(d.first_seen)],
      ['f.last', time(d.last_seen)],
      ['f.sensors', (d.sensors ?? []).join(', ') || '–'],
    ];
    if (d.dicom_identity) facts.push(['f.dicom', Object.values(d.dicom_identity).filter(Boolean).join(' · ')]);
    // Why the device has its role and usage scenario: the inventory's facts, under the value they explain.
    const why: Partial<Record<Key, { id: string; facts: string[] }>> = {
      'f.role': { id: 'role-facts', facts: (d.roles ?? []).map((r) => `${r.role}: ${r.facts.join('; ')}`) },
      'f.scenario': { id: 'scenario-facts', facts: d.scenario !== null && typeof d.scenario === 'object' ? (d.scenario.facts ?? []) : [] },
    };
    const factValue = (k: Key, v: string): HTMLElement => {
      const w = why[k];
      return el('dd', { attrs: k === 'f.first' || k === 'f.last' ? {} : DATA }, [v, w?.facts.length ? el('ul', { cls: 'why small', attrs: { id: w.id } }, w.facts.map((f) => el('li', { text: f }))) : null]);
    };
    const reasons = [...(d.exposure?.reasons ?? [])].sort((a, b) => b.points - a.points);
    const props = Object.entries(d.properties ?? {});
    const body: Node[] = [
      el('div', { cls: 'buttons' }, [
        el('button', { text: t('evidenceBundle'), attrs: { type: 'button', id: 'evidence-json' }, on: { click: () => void this.download(d.id, 'json') } }),
        el('button', { cls: 'secondary', text: t('evidenceBundleHtml'), attrs: { type: 'button', id: 'evidence-html' }, on: { click: () => void this.download(d.id, 'html') } }),
      ]),
      el('h3', { text: t('factsH') }),
      el('dl', { cls: 'facts', attrs: { id: 'device-facts' } }, facts.flatMap(([k, v]) => [el('dt', { text: t(k) }), factValue(k, v)])),
      el('h3', { text: d.exposure ? t('exposureH', { score: d.exposure.score, level: t(`sev.${d.exposure.level}` as Key) || d.exposure.level }) : t('d.exposure') }),
      el('ul', { cls: 'reasons', attrs: { id: 'device-reasons' } }, reasons.map((r) => this.reason(r))),
    ];
    if (props.length) {
      body.push(
        el('h3', { text: t('propertiesH') }),
        el('dl', { cls: 'facts', attrs: { id: 'device-properties' } }, props.flatMap(([k, p]) => [
          el('dt', { cls: 'mono', text: k, attrs: DATA }),
          el('dd', {}, [t(`prop.${p.value}` as Key) || p.value, p.facts.length ? el('span', { text: ` – ${p.facts.join('; ')}`, attrs: DATA }) : null]),
        ])),
      );
    }
    body.push(
      el('h3', { text: t('deviceAlertsH') }),
      alerts.length
        ? el(
            'ul',
            { cls: 'device-alerts', attrs: { id: 'device-alerts' } },
            alerts.map((a) =>
              el('li', { attrs: { 'data-alert-id': a.id } }, [severityBadge(a.severity), ' ', el('a', { text: alertTitle(a), attrs: { href: routeHref('alerts', { alert: a.id, ip: (d.addresses ?? [])[0]?.ip, status: 'open,acknowledged,resolved' }) } }), ` (${t(`st.${a.status}` as Key)})`]),
            ),
          )
        : el('p', { cls: 'small', text: t('noAlerts'), attrs: { id: 'device-alerts' } }),
      el('h3', { text: t('exceptionsH') }),
      exceptions && exceptions.length
        ? el(
            'ul',
            { cls: 'device-exceptions', attrs: { id: 'device-exceptions' } },
            exceptions.map((x) =>
              el('li', { attrs: { 'data-acceptance-id': x.id, 'data-active': x.active } }, [
                `${t('rule')} `,
                el('span', { cls: 'mono', text: x.rule_id, attrs: DATA }),
                ` (${t(x.active ? 'exc.active' : 'exc.inactive')}): `,
                // The officer's own words: data, not a page string to translate.
                el('span', { cls: 'accepted', text: t('acceptedText', { expires: x.expires, owner: x.owner, reference: x.reference, reason: x.reason }), attrs: DATA }),
              ]),
            ),
          )
        : el('p', { cls: 'small', text: t('noExceptions'), attrs: { id: 'device-exceptions' } }),
      el('h3', { text: t('peersH') }),
      el('p', { cls: 'small', text: t('peersNote') }),
      ...(flows && flows.items.length
        ? [
            el('h4', { text: t(flows.step === 'day' ? 'seriesDay' : 'seriesHour') }),
            seriesTable(flows, 'device-series'),
            el('h4', { text: t('p.peer') }),
            ...truncatedNote(flows),
            devicePeersTable(flows, flows.addresses ?? [], 'device-peers'),
          ]
        : [el('p', { cls: 'small', text: t('noPeers'), attrs: { id: 'device-peers' } })]),
    );
    showPanel(`${t('deviceH')} ${(d.addresses ?? [])[0]?.ip ?? d.id}`, body, () => this.go(withParam(this.params, 'device', null)), focus);
  }

  private reason(r: ExposureReason): HTMLElement {
    return el('li', {}, [
      // The inventory's text, in the page's language as the API gave it; its detail is data seen.
      el('span', { cls: 'fact', text: r.fact, attrs: DATA }),
      el('span', { cls: 'small', text: ` (${t('reasonPoints', { n: r.points })}) ` }),
      el('details', {}, [el('summary', { cls: 'ref', text: r.guide_ref }), ...guideBlock(r.guide_ref)]),
    ]);
  }

  private async download(id: string, format: 'json' | 'html'): Promise<void> {
    try {
      const { blob, filename } = await api.evidence(id, format, currentLang());
      saveFile(blob, filename);
      message(() => t('downloaded'), 'ok');
    } catch (e) {
      message(() => explain(e), 'error');
    }
  }
}
