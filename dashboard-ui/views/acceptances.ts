/**
 * Risk acceptances: every recorded decision to live with a finding (after the hospital's risk
 * assessment), in force or not, with what it covers, who owns it, the assessment it rests on
 * and when it ends; the alerts it covers one click away; the list as CSV. Recording one is done
 * on the alert it is about (the alert's panel).
 */
import { api } from '../api.js';
import { currentLang, explain, message, t, time } from '../context.js';
import { DATA, el, fill, saveFile } from '../dom.js';
import { navigate, routeHref, withParam, type Route } from '../state.js';
import type { Key } from '../i18n.js';
import type { RiskAcceptance } from '../types.js';

const STATES = ['all', 'active', 'inactive'] as const;
type State = (typeof STATES)[number];

export class AcceptancesView {
  private route: Route = { view: 'acceptances', params: new URLSearchParams() };
  private items: RiskAcceptance[] | null = null;
  private loaded = false;

  constructor(private readonly root: HTMLElement) {}

  private get state(): State {
    const s = this.route.params.get('state');
    return (STATES as readonly string[]).includes(s ?? '') ? (s as State) : 'all';
  }

  async update(route: Route): Promise<void> {
    this.route = route;
    if (!this.loaded) {
      this.loaded = true;
      this.render();
      try {
        this.items = (await api.acceptances()).items;
      } catch (e) {
        this.loaded = false;
        this.items = [];
        message(() => explain(e), 'error');
      }
    }
    this.render();
  }

  private subject(x: RiskAcceptance): string {
    if (x.scope === 'device') return x.device_id ?? '';
    if (x.scope === 'pair') return `${x.src_ip ?? ''} → ${x.dst_ip ?? ''}`;
    return `${x.zone_src ?? ''} → ${x.zone_dst ?? ''}`;
  }

  /** The alerts of its rule about its subject, as far as the alert list can filter for them. */
  private alertsHref(x: RiskAcceptance): string {
    const p: Record<string, string | undefined> = { rule: x.rule_id, status: 'open,acknowledged,resolved' };
    if (x.scope === 'pair') p.ip = x.src_ip;
    if (x.scope === 'zones') p.zone = x.zone_src;
    return routeHref('alerts', p);
  }

  private async downloadCsv(): Promise<void> {
    try {
      const params: [string, string][] = [['lang', currentLang()]];
      if (this.state !== 'all') params.push(['active', String(this.state === 'active')]);
      const { blob, filename } = await api.acceptancesCsv(params);
      saveFile(blob, filename);
      message(() => t('accCsvDownloaded'), 'ok');
    } catch (e) {
      message(() => explain(e), 'error');
    }
  }

  render(): void {
    const state = this.state;
    const rows = (this.items ?? []).filter((x) => state === 'all' || x.active === (state === 'active'));
    const select = el(
      'select',
      { attrs: { id: 'acc-state' } },
      STATES.map((s) => el('option', { text: t(`accState.${s}` as Key), attrs: { value: s, selected: s === state } })),
    );
    select.addEventListener('change', () => navigate('acceptances', withParam(this.route.params, 'state', select.value === 'all' ? null : select.value)));
    const head = ['accRule', 'acceptScope', 'acceptReason', 'acceptOwner', 'acceptReference', 'acceptExpires', 'status', 'accCovers'] as const;
    fill(this.root, [
      el('h1', { text: t('accH') }),
      el('p', { text: t('accIntro') }),
      el('div', { cls: 'filters card export-row' }, [
        el('div', { cls: 'field' }, [el('label', { text: t('accShow'), attrs: { for: 'acc-state' } }), select]),
        el('button', { cls: 'secondary', text: t('csvExport'), attrs: { type: 'button', id: 'acceptances-csv' }, on: { click: () => void this.downloadCsv() } }),
      ]),
      this.items === null
        ? el('p', { cls: 'small', text: t('loading') })
        : rows.length === 0
          ? el('p', { cls: 'empty', text: t('accNone'), attrs: { id: 'acceptances-empty' } })
          : el('div', { cls: 'table-wrap' }, [
              el('table', { attrs: { id: 'acceptances' } }, [
                el('caption', { cls: 'small', text: t('accShown', { n: rows.length }) }),
                el('thead', {}, [el('tr', {}, head.map((k) => el('th', { text: t(k), attrs: { scope: 'col' } })))]),
                el(
                  'tbody',
                  { attrs: { id: 'acceptance-rows' } },
                  rows.map((x) =>
                    el('tr', { attrs: { 'data-acceptance-id': x.id, 'data-active': String(x.active) } }, [
                      el('td', {}, [el('a', { cls: 'mono', text: x.rule_id, attrs: { href: this.alertsHref(x), title: t('accShowAlerts'), ...DATA } })]),
                      el('td', {}, [`${t(`accScope.${x.scope}` as Key)}: `, el('span', { cls: 'mono', text: this.subject(x), attrs: DATA })]),
                      // The officer's own words: data, not a page string to translate.
                      el('td', { text: x.reason, attrs: DATA }),
                      el('td', { text: x.owner, attrs: DATA }),
                      el('td', { text: x.reference, attrs: DATA }),
                      el('td', { cls: 'time', text: x.expires }),
                      el('td', { text: x.active ? t('exc.active') : x.revoked_at ? t('accRevoked', { at: time(x.revoked_at) }) : t('accExpired') }),
                      el('td', { cls: 'num', text: x.active ? String(x.covers_alerts ?? 0) : '–' }),
                    ]),
                  ),
                ),
              ]),
            ]),
    ]);
  }
}
