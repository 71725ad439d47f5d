/**
 * The zone matrix from the stored flow history: source zones as rows, destination zones as
 * columns; a range counts back from the newest stored data (a store written by `analyze` of old
 * captures has no "last hour" by the wall clock). Each cell is a button: its panel lists the
 * cell's apps, its address pairs and the alerts between the two zones.
 */
import { api, type Params } from '../api.js';
import { explain, message, severityBadge, t, time } from '../context.js';
import { DATA, el, fill, formatBytes } from '../dom.js';
import type { Key } from '../i18n.js';
import { hidePanel, showPanel } from '../panel.js';
import { navigate, routeHref, withParam, type Route } from '../state.js';
import type { Alert, FlowItem, FlowPeers, FlowSummary } from '../types.js';
import { alertTitle } from './alerts.js';
import { cellPairsTable, encryptionCell, scrollBox, truncatedNote } from './peers.js';

const RANGES: readonly [string, Key][] = [
  ['all', 'range.all'],
  ['3600000', 'range.1h'],
  ['86400000', 'range.24h'],
  ['604800000', 'range.7d'],
];

function zoneOrder(zones: Iterable<string>): string[] {
  const last = (z: string) => (z === 'external' ? 2 : z === 'unknown' ? 1 : 0);
  return [...zones].sort((a, b) => last(a) - last(b) || a.localeCompare(b));
}

export class FlowsView {
  private data: FlowSummary | null = null;
  private newest: string | null = null;
  private loadedKey: string | null = null;
  private route: Route = { view: 'flows', params: new URLSearchParams() };
  /** The open cell's pairs and alerts, for the range and sensor they were asked for. */
  private cell: { key: string; pairs: FlowPeers | null; alerts: Alert[] } | null = null;
  /** `since` of the range shown (null: everything stored). */
  private since: string | null = null;

  constructor(private readonly root: HTMLElement) {}

  async update(route: Route): Promise<void> {
    this.route = route;
    const range = route.params.get('range') ?? 'all';
    const sensor = route.params.get('sensor') ?? '';
    const key = `${range}|${sensor}|${this.newest ?? ''}`;
    if (key !== this.loadedKey) {
      try {
        const params: [string, string][] = [];
        this.since = range !== 'all' && this.newest ? new Date(Date.parse(this.newest) - Number(range)).toISOString() : null;
        if (this.since) params.push(['since', this.since]);
        if (sensor) params.push(['sensor', sensor]);
        this.data = await api.flows(params);
        this.newest ??= this.data.extent.to;
        this.loadedKey = `${range}|${sensor}|${this.newest ?? ''}`;
        // The first answer only told us where the data ends: ask again for the range.
        if (range !== 'all' && params.every(([k]) => k !== 'since') && this.newest) return this.update(route);
      } catch (e) {
        message(() => explain(e), 'error');
      }
    }
    this.render();
    await this.syncCell();
  }

  /** Open, refresh or close the cell panel to match the URL's `src` and `dst`. */
  private async syncCell(): Promise<void> {
    const p = this.route.params;
    const src = p.get('src');
    const dst = p.get('dst');
    if (!src || !dst) {
      this.cell = null;
      hidePanel();
      return;
    }
    const key = JSON.stringify([src, dst, this.since, p.get('sensor') ?? '']);
    if (this.cell?.key !== key) {
      const range: Params = [...(this.since ? ([['since', this.since]] as const) : []), ...(p.get('sensor') ? ([['sensor', p.get('sensor')!]] as const) : [])];
      try {
        const [pairs, alerts] = await Promise.all([
          api.cellFlows([['zone_src', src], ['zone_dst', dst], ...range]).catch((e: unknown) => {
            message(() => explain(e), 'error');
            return null;
          }),
          api.alerts([['zone', src], ['status', 'open,acknowledged,resolved'], ['limit', '1000'], ...range.filter(([k]) => k === 'since')]),
        ]);
        this.cell = { key, pairs, alerts: alerts.items.filter((a) => a.subject.zone_src === src && a.subject.zone_dst === dst) };
      } catch (e) {
        message(() => explain(e), 'error');
        return;
      }
    }
    this.renderCell(src, dst);
  }

  private renderCell(src: string, dst: string, focus = true): void {
    const c = this.cell;
    if (!c) return;
    const apps = (this.data?.items ?? []).filter((i) => i.zone_src === src && i.zone_dst === dst).sort((a, b) => b.bytes - a.bytes);
    const body: Node[] = [
      el('h3', { text: t('cellAppsH') }),
      scrollBox(t('cellAppsH'), 
        el('table', { cls: 'list', attrs: { id: 'cell-apps' } }, [
          el('thead', {}, [el('tr', {}, (['p.app', 'p.enc', 'p.flows', 'p.bytes', 'p.phiCol'] as const).map((k) => el('th', { text: t(k === 'p.flows' ? 'th.count' : k), attrs: { scope: 'col' } })))]),
          el(
            'tbody',
            {},
            apps.map((i) =>
              el('tr', { attrs: { 'data-app': i.app, 'data-encrypted': String(i.encrypted) } }, [
                el('td', { cls: 'mono', text: i.app, attrs: DATA }),
                encryptionCell(i.encrypted),
                el('td', { cls: 'num', text: i.flows }),
                el('td', { cls: 'num', text: formatBytes(i.bytes) }),
                el('td', { cls: 'num', text: i.phi }),
              ]),
            ),
          ),
        ]),
      ),
      el('h3', { text: t('cellPairsH') }),
      ...(c.pairs && c.pairs.items.length
        ? [el('p', { cls: 'small', text: t('peersNote') }), ...truncatedNote(c.pairs), cellPairsTable(c.pairs, 'cell-pairs')]
        : [el('p', { cls: 'small', text: t('noCellPairs'), attrs: { id: 'cell-pairs' } })]),
      el('h3', { text: t('cellAlertsH') }),
      c.alerts.length
        ? el(
            'ul',
            { cls: 'device-alerts', attrs: { id: 'cell-alerts' } },
            c.alerts.map((a) =>
              el('li', { attrs: { 'data-alert-id': a.id } }, [
                severityBadge(a.severity),
                ' ',
                el('a', { text: alertTitle(a), attrs: { href: routeHref('alerts', { alert: a.id, zone: src, status: 'open,acknowledged,resolved' }) } }),
                ' ',
                el('span', { cls: 'mono small', text: `${a.subject.src_ip} → ${a.subject.dst_ip}`, attrs: DATA }),
                ` (${t(`st.${a.status}` as Key)})`,
              ]),
            ),
          )
        : el('p', { cls: 'small', text: t('noCellAlerts'), attrs: { id: 'cell-alerts' } }),
    ];
    const close = () => {
      const next = withParam(withParam(this.route.params, 'src', null), 'dst', null);
      navigate('flows', next);
    };
    showPanel(t('cellH', { src, dst }), body, close, focus);
  }

  render(): void {
    const p = this.route.params;
    const range = el('select', { attrs: { id: 'flow-range' } }, RANGES.map(([v, k]) => el('option', { text: t(k), attrs: { value: v, selected: (p.get('range') ?? 'all') === v } })));
    range.addEventListener('change', () => navigate('flows', withParam(p, 'range', range.value === 'all' ? null : range.value)));
    const sensors = this.data?.extent.sensors ?? [];
    const sensor = el('select', { attrs: { id: 'flow-sensor' } }, [
      el('option', { text: t('all'), attrs: { value: '' } }),
      ...sensors.map((s) => el('option', { text: s, attrs: { value: s, selected: p.get('sensor') === s } })),
    ]);
    sensor.addEventListener('change', () => navigate('flows', withParam(p, 'sensor', sensor.value)));
    const d = this.data;
    fill(this.root, [
      el('h1', { text: t('flowsH') }),
      el('p', { cls: 'small', text: t('flowsNote') }),
      el('div', { cls: 'filters card' }, [
        el('div', { cls: 'field' }, [el('label', { text: t('flowRange'), attrs: { for: 'flow-range' } }), range]),
        el('div', { cls: 'field' }, [el('label', { text: t('sensor'), attrs: { for: 'flow-sensor' } }), sensor]),
        el('span', { cls: 'small', attrs: { id: 'flow-span' }, text: d?.from ? t('flowSpan', { from: time(d.from), to: time(d.to) }) : '' }),
      ]),
      d && d.items.length ? el('div', { cls: 'table-wrap' }, [this.matrix(d.items)]) : el('p', { cls: 'empty', text: t('noFlows') }),
      el('p', { cls: 'legend' }, [el('span', { cls: 'app clear', text: t('legendClear') }), ' ', el('span', { cls: 'app enc', text: t('legendEnc') })]),
    ]);
    const src = p.get('src');
    const dst = p.get('dst');
    if (this.cell && src && dst) this.renderCell(src, dst, false);
  }

  private openCell(src: string, dst: string): void {
    navigate('flows', withParam(withParam(this.route.params, 'src', src), 'dst', dst));
  }

  private matrix(items: FlowItem[]): HTMLElement {
    const srcs = zoneOrder(new Set(items.map((i) => i.zone_src)));
    const dsts = zoneOrder(new Set(items.map((i) => i.zone_dst)));
    const cells = new Map<string, FlowItem[]>();
    for (const i of items) {
      const k = `${i.zone_src}\u0000${i.zone_dst}`;
      cells.set(k, [...(cells.get(k) ?? []), i]);
    }
    const flows = (n: number) => (n === 1 ? t('flow1') : t('flows', { n }));
    const body = el(
      'tbody',
      {},
      srcs.map((s, row) =>
        el('tr', { attrs: { 'data-zone-src': s } }, [
          el('th', { cls: 'rowh', text: s, attrs: { scope: 'row', ...DATA } }),
          ...dsts.map((dz, col) => {
            const list = [...(cells.get(`${s}\u0000${dz}`) ?? [])].sort((a, b) => b.bytes - a.bytes);
            if (!list.length) return el('td', { cls: 'cell none', text: '·', attrs: { 'data-src': s, 'data-dst': dz } });
            const sum = (f: (i: FlowItem) => number) => list.reduce((n, i) => n + f(i), 0);
            const total = sum((i) => i.flows);
            const clear = sum((i) => (i.encrypted ? 0 : i.flows));
            const chosen = this.route.params.get('src') === s && this.route.params.get('dst') === dz;
            return el('td', { cls: `cell${clear > 0 ? ' has-clear' : ''}${chosen ? ' active' : ''}`, attrs: { 'data-src': s, 'data-dst': dz, 'data-flows': total, 'data-bytes': sum((i) => i.bytes), 'data-cleartext': clear, 'data-phi': sum((i) => i.phi) } }, [
              el('button', { cls: 'cell-open', attrs: { type: 'button', id: `cell-${row}-${col}`, 'aria-expanded': chosen, title: t('openCell', { src: s, dst: dz }) }, on: { click: () => this.openCell(s, dz) } }, [
              el('span', { cls: 'tot', text: `${s} → ${dz}: ${flows(total)}` }),
              ...list.map((i) =>
                el('span', {
                  cls: `app ${i.encrypted ? 'enc' : 'clear'}`,
                  attrs: { 'data-app': i.app },
                  text: `${i.app}: ${flows(i.flows)}, ${formatBytes(i.bytes)} (${i.encrypted ? t('encrypted') : t('cleartext', { n: i.flows }) + (i.phi > 0 ? `, ${t('phi', { n: i.phi })}` : '')})`,
                }),
              ),
              ]),
            ]);
          }),
        ]),
      ),
    );
    return el('table', { cls: 'matrix', attrs: { id: 'flow-matrix' } }, [
      el('thead', {}, [el('tr', {}, [el('th', { text: t('srcDst'), attrs: { scope: 'col' } }), ...dsts.map((z) => el('th', { cls: 'colh', text: z, attrs: { scope: 'col', ...DATA } }))])]),
      body,
    ]);
  }
}
