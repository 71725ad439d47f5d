/**
 * The zone matrix from the stored flow history: source zones as rows, destination zones as
 * columns; a range counts back from the newest stored data (a store written by `analyze` of old
 * captures has no "last hour" by the wall clock).
 */
import { api } from '../api.js';
import { explain, message, t, time } from '../context.js';
import { DATA, el, fill, formatBytes } from '../dom.js';
import type { Key } from '../i18n.js';
import { navigate, withParam, type Route } from '../state.js';
import type { FlowItem, FlowSummary } from '../types.js';

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

  constructor(private readonly root: HTMLElement) {}

  async update(route: Route): Promise<void> {
    this.route = route;
    const range = route.params.get('range') ?? 'all';
    const sensor = route.params.get('sensor') ?? '';
    const key = `${range}|${sensor}|${this.newest ?? ''}`;
    if (key !== this.loadedKey) {
      try {
        const params: [string, string][] = [];
        if (range !== 'all' && this.newest) params.push(['since', new Date(Date.parse(this.newest) - Number(range)).toISOString()]);
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
      srcs.map((s) =>
        el('tr', { attrs: { 'data-zone-src': s } }, [
          el('th', { cls: 'rowh', text: s, attrs: { scope: 'row', ...DATA } }),
          ...dsts.map((dz) => {
            const list = [...(cells.get(`${s}\u0000${dz}`) ?? [])].sort((a, b) => b.bytes - a.bytes);
            if (!list.length) return el('td', { cls: 'cell none', text: '·', attrs: { 'data-src': s, 'data-dst': dz } });
            const sum = (f: (i: FlowItem) => number) => list.reduce((n, i) => n + f(i), 0);
            const total = sum((i) => i.flows);
            const clear = sum((i) => (i.encrypted ? 0 : i.flows));
            return el('td', { cls: `cell${clear > 0 ? ' has-clear' : ''}`, attrs: { 'data-src': s, 'data-dst': dz, 'data-flows': total, 'data-bytes': sum((i) => i.bytes), 'data-cleartext': clear, 'data-phi': sum((i) => i.phi) } }, [
              el('span', { cls: 'tot', text: `${s} → ${dz}: ${flows(total)}` }),
              ...list.map((i) =>
                el('span', {
                  cls: `app ${i.encrypted ? 'enc' : 'clear'}`,
                  attrs: { 'data-app': i.app },
                  text: `${i.app}: ${flows(i.flows)}, ${formatBytes(i.bytes)} (${i.encrypted ? t('encrypted') : t('cleartext', { n: i.flows }) + (i.phi > 0 ? `, ${t('phi', { n: i.phi })}` : '')})`,
                }),
              ),
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
