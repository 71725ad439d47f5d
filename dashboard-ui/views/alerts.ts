/**
 * Alerts: filters (every one, free text included, is sent to the API, so a search finds alerts
 * beyond the rows loaded), sortable columns, cursor paging, the detail panel, and
 * acknowledge/resolve — single or in bulk — for the roles that may.
 */
import { api, type Params } from '../api.js';
import { clearMessage, currentLang, explain, message, role, severityBadge, t, time } from '../context.js';
import { compare, DATA, el, fill, saveFile, sortHeader } from '../dom.js';
import { sectionsIn } from '../guide.js';
import type { Key } from '../i18n.js';
import { hidePanel, showPanel } from '../panel.js';
import { navigate, routeHref, withParam, type Route } from '../state.js';
import { mayChangeAlerts, SEVERITIES, STATUSES, type Alert, type AlertDetail, type AlertStatus } from '../types.js';

/** The URL parameters the API filters on, and their names in the API. */
const API_FILTERS = [
  ['severity', 'severity'],
  ['status', 'status'],
  ['zone', 'zone'],
  ['sensor', 'sensor'],
  ['rule', 'rule_id'],
  ['ip', 'ip'],
  ['q', 'q'],
  ['since', 'since'],
  ['until', 'until'],
] as const;

const DEFAULT_STATUS = 'open,acknowledged';
/** Free text goes to the API once typing pauses this long: a search that finds nothing scans every stored alert. */
const TYPING_PAUSE_MS = 250;
const PAGE = 100;
const SEVERITY_RANK: Record<string, number> = { critical: 4, high: 3, medium: 2, low: 1 };
const STATUS_RANK: Record<string, number> = { open: 3, acknowledged: 2, resolved: 1 };

type SortKey = 'severity' | 'title' | 'zones' | 'addresses' | 'count' | 'last_seen' | 'status';
const SORT_KEYS: readonly SortKey[] = ['severity', 'title', 'zones', 'addresses', 'count', 'last_seen', 'status'];

export function alertTitle(a: Alert): string {
  return (currentLang() === 'nb' && a.title_nb) || a.title;
}

function sortValue(a: Alert, key: SortKey): string | number {
  switch (key) {
    case 'severity':
      return SEVERITY_RANK[a.severity] ?? 0;
    case 'title':
      return alertTitle(a);
    case 'zones':
      return `${a.subject.zone_src} ${a.subject.zone_dst}`;
    case 'addresses':
      return `${a.subject.src_ip} ${a.subject.dst_ip}`;
    case 'count':
      return a.count;
    case 'last_seen':
      return a.last_seen;
    case 'status':
      return STATUS_RANK[a.status] ?? 0;
  }
}

/** The evidence keys the page names in words; any other key the API returns is shown as it is. */
const EVIDENCE_LABELS: Record<string, Key> = {
  flow_id: 'ev.flow_id',
  src_port: 'ev.src_port',
  dst_port: 'ev.dst_port',
  calling_ae: 'ev.calling_ae',
  called_ae: 'ev.called_ae',
  phi_fields: 'ev.phi_fields',
  app: 'ev.app',
  proto: 'ev.proto',
};

function evidenceValue(v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (Array.isArray(v)) return v.length ? v.map(evidenceValue).join(', ') : '–';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** One guide section as the detail panel shows it: the project's words, and a link to the guide view. */
export function guideBlock(refText: string): HTMLElement[] {
  const found = sectionsIn(refText);
  if (found.length === 0) return [el('p', { cls: 'small', text: t('unknownRef', { ref: refText }) })];
  const lang = currentLang();
  return found.map((g) =>
    el('div', { cls: 'guide-ref', attrs: { 'data-ref': g.ref } }, [
      el('a', { cls: 'ref-link', text: `${g.ref} – ${g.heading[lang]}`, attrs: { href: routeHref('guide', { ref: g.ref }), title: t('openGuide', { ref: g.ref }) } }),
      el('p', { cls: 'guide-text', text: g.requires[lang] }),
    ]),
  );
}

export class AlertsView {
  private items: Alert[] = [];
  private next: string | null = null;
  private loadedKey: string | null = null;
  private counts: Record<string, number> | null = null;
  private selected = new Set<string>();
  private detail: AlertDetail | null = null;
  private route: Route = { view: 'alerts', params: new URLSearchParams() };
  private loading = false;
  /** Bumped per list request: an answer to an older one (free text typed on) is dropped. */
  private request = 0;
  /** Free text typed but not yet in the URL (the pause has not come), so a re-render keeps it. */
  private typed: string | null = null;
  private typing: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly root: HTMLElement) {}

  private get params(): URLSearchParams {
    return this.route.params;
  }

  private apiParams(cursor?: string): Params {
    const out: [string, string][] = [['limit', String(PAGE)]];
    const sort = this.params.get('sort');
    out.push(['sort', sort === 'severity' ? 'severity' : 'last_seen']);
    for (const [ours, theirs] of API_FILTERS) {
      const v = (this.params.get(ours) ?? (ours === 'status' ? DEFAULT_STATUS : null))?.trim();
      if (v) out.push([theirs, v]);
    }
    if (cursor) out.push(['cursor', cursor]);
    return out;
  }

  /** The CSV export's query: the list's filters and order, every page, headed in the page's language. */
  private csvParams(): Params {
    return [...this.apiParams().filter(([k]) => k !== 'limit'), ['lang', currentLang()]];
  }

  private async downloadCsv(): Promise<void> {
    try {
      const { blob, filename } = await api.alertsCsv(this.csvParams());
      saveFile(blob, filename);
      message(() => t('csvDownloaded'), 'ok');
    } catch (e) {
      message(() => explain(e), 'error');
    }
  }

  private key(): string {
    return JSON.stringify(this.apiParams());
  }

  async update(route: Route): Promise<void> {
    this.route = route;
    if (this.loadedKey !== this.key()) {
      this.loadedKey = this.key();
      this.selected.clear();
      this.loading = true;
      this.render();
      const request = ++this.request;
      try {
        const [page] = await Promise.all([api.alerts(this.apiParams()), this.counts ? null : this.loadCounts()]);
        if (request !== this.request) return;
        this.items = page.items;
        this.next = page.next_cursor;
      } catch (e) {
        if (request !== this.request) return;
        this.loadedKey = null;
        this.items = [];
        this.next = null;
        message(() => explain(e), 'error');
      }
      this.loading = false;
    }
    this.render();
    await this.syncDetail();
  }

  private async loadCounts(): Promise<void> {
    const counts: Record<string, number> = { critical: 0, high: 0, medium: 0, low: 0 };
    let cursor: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page = await api.alerts([['status', 'open'], ['limit', '1000'], ...(cursor ? ([['cursor', cursor]] as const) : [])]);
      for (const a of page.items) counts[a.severity] = (counts[a.severity] ?? 0) + 1;
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    this.counts = counts;
  }

  private async more(): Promise<void> {
    if (!this.next) return;
    try {
      const page = await api.alerts(this.apiParams(this.next));
      const known = new Set(this.items.map((a) => a.id));
      this.items.push(...page.items.filter((a) => !known.has(a.id)));
      this.next = page.next_cursor;
      this.render();
    } catch (e) {
      message(() => explain(e), 'error');
    }
  }

  /** Open, refresh or close the panel to match the URL's `alert`. */
  private async syncDetail(): Promise<void> {
    const id = this.params.get('alert');
    if (!id) {
      this.detail = null;
      hidePanel();
      return;
    }
    if (this.detail?.id !== id) {
      try {
        this.detail = await api.alert(id);
      } catch (e) {
        message(() => explain(e), 'error');
        return;
      }
    }
    this.renderDetail();
  }

  private go(params: URLSearchParams, replace = false): void {
    navigate('alerts', params, replace);
  }

  // ---- rendering ----

  render(): void {
    const officer = mayChangeAlerts(role());
    const rows = this.visible();
    fill(this.root, [
      el('h1', { text: t('alertsH') }),
      this.renderCounts(),
      this.renderFilters(),
      officer ? this.renderBulk(rows) : null,
      el('p', { cls: 'small', attrs: { id: 'alerts-shown', 'aria-live': 'polite' }, text: this.loading ? t('loading') : t('shown', { n: rows.length }) }),
      el('div', { cls: 'table-wrap' }, [this.renderTable(rows, officer)]),
      !this.loading && rows.length === 0 ? el('p', { cls: 'empty', text: t('noAlerts'), attrs: { id: 'alerts-empty' } }) : null,
      this.next ? el('button', { cls: 'secondary', text: t('more'), attrs: { type: 'button', id: 'alerts-more' }, on: { click: () => void this.more() } }) : null,
    ]);
    if (this.detail && this.params.get('alert') === this.detail.id) this.renderDetail(false);
  }

  private visible(): Alert[] {
    const rows = [...this.items];
    const key = (SORT_KEYS as readonly string[]).includes(this.params.get('sort') ?? '') ? (this.params.get('sort') as SortKey) : null;
    if (key) {
      const dir = this.params.get('dir') === 'asc' ? 1 : -1;
      rows.sort((a, b) => dir * compare(sortValue(a, key), sortValue(b, key)) || compare(b.last_seen, a.last_seen));
    }
    return rows;
  }

  private renderCounts(): HTMLElement {
    return el('section', { cls: 'counts', attrs: { 'aria-label': t('countsH'), id: 'counts' } }, [
      ...SEVERITIES.map((s) =>
        el('a', { cls: `count ${s}`, attrs: { href: routeHref('alerts', { severity: s, status: 'open' }), 'data-severity': s } }, [
          el('span', { cls: 'n', text: this.counts ? this.counts[s] : '…' }),
          el('span', { text: t(`sev.${s}` as Key) }),
        ]),
      ),
    ]);
  }

  private renderFilters(): HTMLElement {
    const p = this.params;
    const chosen = (name: string, fallback = '') => new Set((p.get(name) ?? fallback).split(',').filter(Boolean));
    const sev = chosen('severity');
    const st = chosen('status', DEFAULT_STATUS);
    const box = (name: string, value: string, label: string, checked: boolean) =>
      el('label', { cls: 'check' }, [el('input', { attrs: { type: 'checkbox', name, value, checked } }), ` ${label}`]);
    const field = (id: string, label: Key, input: HTMLElement) => el('div', { cls: 'field' }, [el('label', { text: t(label), attrs: { for: id } }), input]);
    const text = (id: string, name: string, extra: Record<string, string> = {}) =>
      el('input', { attrs: { id, name, type: 'text', value: p.get(name) ?? '', autocomplete: 'off', spellcheck: 'false', maxlength: 200, ...extra } });
    const zones = new Set<string>();
    const rules = new Set<string>();
    for (const a of this.items) {
      zones.add(a.subject.zone_src);
      zones.add(a.subject.zone_dst);
      rules.add(a.rule_id);
    }
    const form = el('form', { cls: 'filters', attrs: { id: 'alert-filters', 'aria-label': t('filtersH') } }, [
      el('fieldset', {}, [el('legend', { text: t('severity') }), ...SEVERITIES.map((s) => box('severity', s, t(`sev.${s}` as Key), sev.has(s)))]),
      el('fieldset', {}, [el('legend', { text: t('status') }), ...STATUSES.map((s) => box('status', s, t(`st.${s}` as Key), st.has(s)))]),
      field('f-zone', 'zone', text('f-zone', 'zone', { list: 'zones-known' })),
      el('datalist', { attrs: { id: 'zones-known' } }, [...zones].sort().map((z) => el('option', { attrs: { value: z } }))),
      field('f-sensor', 'sensor', text('f-sensor', 'sensor')),
      field('f-rule', 'rule', text('f-rule', 'rule', { list: 'rules-known' })),
      el('datalist', { attrs: { id: 'rules-known' } }, [...rules].sort().map((r) => el('option', { attrs: { value: r } }))),
      field('f-ip', 'address', text('f-ip', 'ip')),
      field('f-since', 'from', el('input', { attrs: { id: 'f-since', name: 'since', type: 'date', value: p.get('since') ?? '' } })),
      field('f-until', 'to', el('input', { attrs: { id: 'f-until', name: 'until', type: 'date', value: p.get('until') ?? '' } })),
      el('div', { cls: 'buttons' }, [
        el('button', { text: t('apply'), attrs: { type: 'submit', id: 'apply-filters' } }),
        el('button', { cls: 'secondary', text: t('reset'), attrs: { type: 'button', id: 'reset-filters' }, on: { click: () => this.go(new URLSearchParams()) } }),
      ]),
    ]);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      const next = new URLSearchParams();
      for (const name of ['severity', 'status']) {
        const v = data.getAll(name).map(String).join(',');
        // No status ticked would match nothing; the API's "every status" is the honest reading.
        next.set(name, v || (name === 'status' ? STATUSES.join(',') : ''));
      }
      for (const name of ['zone', 'sensor', 'rule', 'ip', 'since', 'until']) next.set(name, String(data.get(name) ?? '').trim());
      for (const keep of ['q', 'sort', 'dir']) if (p.get(keep)) next.set(keep, p.get(keep)!);
      if (next.get('status') === DEFAULT_STATUS) next.delete('status');
      clearMessage();
      this.go(next);
    });
    const q = el('input', { attrs: { id: 'f-text', type: 'search', value: this.typed ?? p.get('q') ?? '', autocomplete: 'off', maxlength: 100, 'aria-describedby': 'f-text-note' } });
    q.addEventListener('input', () => {
      this.typed = q.value;
      clearTimeout(this.typing);
      this.typing = setTimeout(() => {
        this.typed = null;
        this.go(withParam(this.params, 'q', q.value.trim() || null), true);
      }, TYPING_PAUSE_MS);
    });
    return el('section', { cls: 'card' }, [
      form,
      el('div', { cls: 'field text-filter' }, [el('label', { text: t('text'), attrs: { for: 'f-text' } }), q, el('span', { cls: 'small', text: t('textNote'), attrs: { id: 'f-text-note' } })]),
      el('div', { cls: 'export-row' }, [
        el('p', { cls: 'small', text: t('copyLink') }),
        el('button', { cls: 'secondary', text: t('csvExport'), attrs: { type: 'button', id: 'alerts-csv', title: t('csvExportNote') }, on: { click: () => void this.downloadCsv() } }),
      ]),
    ]);
  }

  private sortBy(key: string): void {
    const same = this.params.get('sort') === key;
    const dir = same && this.params.get('dir') !== 'asc' ? 'asc' : 'desc';
    const next = withParam(withParam(this.params, 'sort', key), 'dir', dir);
    this.go(next, true);
  }

  private renderTable(rows: Alert[], officer: boolean): HTMLElement {
    const current = { key: this.params.get('sort') ?? '', dir: (this.params.get('dir') === 'asc' ? 'asc' : 'desc') as 'asc' | 'desc' };
    const head = (label: Key, key: SortKey) => sortHeader(t(label), key, current, t('sortBy', { col: t(label) }), (k) => this.sortBy(k));
    const headRow = el('tr', {}, [
      officer
        ? el('th', { attrs: { scope: 'col' } }, [
            el('input', {
              attrs: { type: 'checkbox', id: 'select-all', 'aria-label': t('selectAll'), checked: rows.length > 0 && rows.every((a) => this.selected.has(a.id)) },
              on: {
                change: (ev) => {
                  const on = (ev.target as HTMLInputElement).checked;
                  for (const a of rows) if (on) this.selected.add(a.id);
                  else this.selected.delete(a.id);
                  this.render();
                },
              },
            }),
          ])
        : null,
      head('severity', 'severity'),
      head('th.title', 'title'),
      head('th.zones', 'zones'),
      head('th.addresses', 'addresses'),
      head('th.count', 'count'),
      head('th.last', 'last_seen'),
      head('status', 'status'),
      el('th', { text: t('th.sensors'), attrs: { scope: 'col' } }),
    ]);
    const body = el('tbody', { attrs: { id: 'alert-rows' } }, rows.map((a) => this.row(a, officer)));
    return el('table', { cls: 'list', attrs: { id: 'alerts' } }, [el('thead', {}, [headRow]), body]);
  }

  private row(a: Alert, officer: boolean): HTMLElement {
    const open = () => this.go(withParam(this.params, 'alert', a.id));
    const active = this.params.get('alert') === a.id;
    return el('tr', { cls: active ? 'active' : '', attrs: { 'data-alert-id': a.id, 'data-status': a.status } }, [
      officer
        ? el('td', {}, [
            el('input', {
              cls: 'select',
              attrs: { id: `sel-${a.id}`, type: 'checkbox', 'aria-label': t('selectAlert', { id: a.id }), checked: this.selected.has(a.id) },
              on: {
                change: (ev) => {
                  if ((ev.target as HTMLInputElement).checked) this.selected.add(a.id);
                  else this.selected.delete(a.id);
                  this.render();
                },
              },
            }),
          ])
        : null,
      el('td', {}, [severityBadge(a.severity)]),
      el('td', {}, [
        el('button', { cls: 'link title', text: alertTitle(a), attrs: { id: `open-${a.id}`, type: 'button', 'aria-expanded': active, title: t('openDetail') }, on: { click: open } }),
        el('div', { cls: 'mono small', text: a.rule_id, attrs: DATA }),
      ]),
      el('td', { cls: 'zones', text: `${a.subject.zone_src} → ${a.subject.zone_dst}`, attrs: DATA }),
      el('td', { cls: 'mono addresses', text: `${a.subject.src_ip} → ${a.subject.dst_ip}`, attrs: DATA }),
      el('td', { cls: 'num', text: a.count }),
      el('td', { cls: 'time', text: time(a.last_seen), attrs: { title: a.last_seen } }),
      el('td', { cls: `status ${a.status}`, text: t(`st.${a.status}` as Key), attrs: { 'data-status': a.status } }),
      el('td', { cls: 'mono small', text: a.sensors.join(', ') || '–', attrs: DATA }),
    ]);
  }

  private renderBulk(rows: Alert[]): HTMLElement {
    const ids = rows.filter((a) => this.selected.has(a.id)).map((a) => a.id);
    const comment = el('input', { attrs: { id: 'bulk-comment', type: 'text', maxlength: 2000, autocomplete: 'off' } });
    const run = (what: 'ack' | 'resolve') => void this.bulk(ids, what, comment.value);
    return el('section', { cls: 'bulk card', attrs: { id: 'bulk', 'aria-label': t('selected', { n: ids.length }) } }, [
      el('span', { cls: 'bulk-count', text: t('selected', { n: ids.length }) }),
      el('label', { text: t('bulkComment'), attrs: { for: 'bulk-comment' } }),
      comment,
      el('button', { text: t('bulkAck'), attrs: { type: 'button', id: 'bulk-ack', disabled: ids.length === 0 }, on: { click: () => run('ack') } }),
      el('button', { cls: 'secondary', text: t('bulkResolve'), attrs: { type: 'button', id: 'bulk-resolve', disabled: ids.length === 0 }, on: { click: () => run('resolve') } }),
    ]);
  }

  private async bulk(ids: string[], what: 'ack' | 'resolve', comment: string): Promise<void> {
    let ok = 0;
    const failed: string[] = [];
    // One after the other: the API audits each change, and a refused one must not hide the rest.
    for (const id of ids) {
      try {
        await api.change(id, what, comment);
        ok++;
      } catch (e) {
        failed.push(explain(e));
      }
    }
    this.selected.clear();
    message(() => [t('bulkDone', { ok, n: ids.length }), failed.length ? t('bulkFailed', { n: failed.length, why: failed[0] }) : ''].join(' ').trim(), failed.length ? 'error' : 'ok');
    await this.reload();
  }

  /** Fetch the current filters again (after a change), keeping the URL as it is. */
  private async reload(): Promise<void> {
    this.loadedKey = null;
    // A change moves alerts between statuses: the open counts are asked for again.
    this.counts = null;
    this.detail = null;
    await this.update(this.route);
  }

  // ---- detail ----

  private renderDetail(focus = true): void {
    const a = this.detail;
    if (!a) return;
    const lang = currentLang();
    const facts: [string, HTMLElement | string][] = [
      [t('severity'), severityBadge(a.severity)],
      [t('status'), el('span', { cls: `status ${a.status}`, text: t(`st.${a.status}` as Key), attrs: { 'data-status': a.status, id: 'detail-status' } })],
      [t('rule'), el('span', { cls: 'mono', text: a.rule_id, attrs: DATA })],
      [t('subj.src'), `${a.subject.src_ip} (${a.subject.zone_src})`],
      [t('subj.dst'), `${a.subject.dst_ip} (${a.subject.zone_dst})`],
      ...(a.subject.device_id
        ? ([[t('subj.device'), el('a', { text: a.subject.device_id, attrs: { href: routeHref('devices', { device: a.subject.device_id }) } })]] as [string, HTMLElement][])
        : []),
      [t('th.sensors'), a.sensors.join(', ') || '–'],
    ];
    const evidence = Object.entries(a.evidence);
    const body: Node[] = [
      el('p', { cls: 'small', text: t(a.count === 1 ? 'firstLast1' : 'firstLast', { first: time(a.first_seen), last: time(a.last_seen), n: a.count }) }),
      el('dl', { cls: 'facts' }, facts.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', {}, [v])])),
      ...(a.accepted
        ? [
            el('h3', { text: t('acceptedH') }),
            // The officer's own words: data, not a page string to translate.
            el('p', { cls: 'accepted', text: t('acceptedText', { expires: a.accepted.expires, owner: a.accepted.owner, reference: a.accepted.reference, reason: a.accepted.reason }), attrs: { id: 'detail-accepted', translate: 'no' } }),
          ]
        : []),
      el('h3', { text: t('recommendation') }),
      el('p', { cls: 'recommendation', text: (lang === 'nb' && a.recommendation_nb) || a.recommendation }),
      el('h3', { text: t('evidenceH') }),
      el('p', { cls: 'small', text: t('evidenceNote') }),
      el(
        'table',
        { cls: 'evidence', attrs: { id: 'evidence' } },
        [el('tbody', {}, evidence.map(([k, v]) => el('tr', { attrs: { 'data-key': k } }, [
              el('th', { attrs: { scope: 'row' } }, [k in EVIDENCE_LABELS ? `${t(EVIDENCE_LABELS[k])} ` : null, el('span', { cls: 'mono', text: k in EVIDENCE_LABELS ? `(${k})` : k, attrs: DATA })]),
              el('td', { cls: 'mono', text: evidenceValue(v), attrs: DATA }),
            ])))],
      ),
      el('h3', { text: t('guideH') }),
      el('div', { attrs: { id: 'detail-guide' } }, a.guide_refs.flatMap((r) => guideBlock(r))),
      el('h3', { text: t('historyH') }),
      a.history.length
        ? el(
            'ol',
            { cls: 'history', attrs: { id: 'history' } },
            a.history.map((h) =>
              el('li', { attrs: { 'data-action': h.action } }, [
                el('span', { cls: 'when', text: time(h.at) }),
                ' ',
                el('strong', { text: h.actor }),
                ` ${t(`act.${h.action}` as Key)}`,
                h.comment ? el('q', { cls: 'comment', text: h.comment }) : null,
              ]),
            ),
          )
        : el('p', { cls: 'small', text: t('noHistory'), attrs: { id: 'history' } }),
    ];
    if (mayChangeAlerts(role()) && a.status !== 'resolved') body.push(this.actions(a));
    if (mayChangeAlerts(role()) && a.status !== 'resolved' && !a.accepted) body.push(this.acceptForm(a));
    showPanel(alertTitle(a), body, () => this.go(withParam(this.params, 'alert', null)), focus);
  }

  /** An officer records the hospital's decision to live with this finding for a while. */
  private acceptForm(a: AlertDetail): HTMLElement {
    const field = (id: string, label: Key, input: HTMLElement) => el('div', { cls: 'field' }, [el('label', { text: t(label), attrs: { for: id } }), input]);
    const scope = el('select', { attrs: { id: 'accept-scope' } }, [
      ...(a.subject.device_id ? [el('option', { text: t('scope.device'), attrs: { value: 'device' } })] : []),
      el('option', { text: t('scope.pair'), attrs: { value: 'pair' } }),
    ]) as HTMLSelectElement;
    const reason = el('textarea', { attrs: { id: 'accept-reason', rows: 2, maxlength: 1000, required: true } }) as HTMLTextAreaElement;
    const owner = el('input', { attrs: { id: 'accept-owner', maxlength: 120, required: true } }) as HTMLInputElement;
    const reference = el('input', { attrs: { id: 'accept-reference', maxlength: 120, required: true } }) as HTMLInputElement;
    const expires = el('input', { attrs: { id: 'accept-expires', type: 'date', required: true } }) as HTMLInputElement;
    const submit = async (button: HTMLButtonElement) => {
      button.disabled = true;
      const body: Record<string, string> = { rule_id: a.rule_id, scope: scope.value, reason: reason.value, owner: owner.value, reference: reference.value, expires: expires.value };
      if (scope.value === 'device') body.device_id = a.subject.device_id!;
      else Object.assign(body, { src_ip: a.subject.src_ip, dst_ip: a.subject.dst_ip });
      try {
        await api.accept(body);
        message(() => t('acceptedMsg'), 'ok');
        this.detail = await api.alert(a.id);
        await this.reload();
        this.renderDetail(false);
      } catch (e) {
        message(() => explain(e), 'error');
        button.disabled = false;
      }
    };
    const button: HTMLButtonElement = el('button', { cls: 'secondary', text: t('acceptButton'), attrs: { type: 'button', id: 'accept-submit' }, on: { click: () => void submit(button) } });
    return el('section', { cls: 'accept', attrs: { 'aria-labelledby': 'accept-h' } }, [
      el('h3', { text: t('acceptH'), attrs: { id: 'accept-h' } }),
      el('p', { cls: 'small', text: t('acceptNote') }),
      field('accept-scope', 'acceptScope', scope),
      field('accept-reason', 'acceptReason', reason),
      field('accept-owner', 'acceptOwner', owner),
      field('accept-reference', 'acceptReference', reference),
      field('accept-expires', 'acceptExpires', expires),
      el('div', { cls: 'buttons' }, [button]),
    ]);
  }

  private actions(a: AlertDetail): HTMLElement {
    const comment = el('textarea', { attrs: { id: 'detail-comment', rows: 3, maxlength: 2000 } });
    const change = async (what: 'ack' | 'resolve', button: HTMLButtonElement) => {
      button.disabled = true;
      try {
        this.detail = await api.change(a.id, what, comment.value);
        message(() => t(what === 'ack' ? 'acked' : 'resolvedMsg'), 'ok');
        const keep = this.detail;
        await this.reload();
        if (this.detail === null) this.detail = keep;
        this.renderDetail(false);
        document.getElementById('panel-title')?.focus();
      } catch (e) {
        message(() => explain(e), 'error');
        button.disabled = false;
      }
    };
    const buttons: HTMLButtonElement[] = [];
    const statusAllows = (s: AlertStatus, what: 'ack' | 'resolve') => (what === 'ack' ? s === 'open' : s !== 'resolved');
    for (const what of ['ack', 'resolve'] as const) {
      if (!statusAllows(a.status, what)) continue;
      const b: HTMLButtonElement = el('button', { cls: what === 'ack' ? 'ack' : 'resolve secondary', text: t(what), attrs: { type: 'button', id: `detail-${what}` }, on: { click: () => void change(what, b) } });
      buttons.push(b);
    }
    return el('section', { cls: 'actions', attrs: { 'aria-label': t('comment') } }, [el('label', { text: t('comment'), attrs: { for: 'detail-comment' } }), comment, el('div', { cls: 'buttons' }, buttons)]);
  }
}

