/**
 * Alerts: list (filters, cursor paging, sort), detail with history, acknowledge and resolve.
 * Each alert carries the rule's Norwegian texts beside the English contract fields.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ALL_RULES } from '../../rules/index.js';
import type { Alert, AlertQuery } from '../../agent/store/index.js';
import { acceptanceFor, isActive, listAcceptances, type RiskAcceptance } from '../../agent/risk-acceptances.js';
import { csvLine } from '../../agent/export/csv.js';
import { checkRuleIds, splitCommaLists, timeParam } from '../alert-query.js';
import { ApiError } from '../plugins/errors.js';
import { AlertCsvQuery, AlertDetailSchema, AlertIdParams, AlertListQuery, AlertPageSchema, CommentBody, errorResponses, strictValidatorCompiler } from '../schemas.js';
import type { ApiStore } from '../types.js';

const RULES = new Map(ALL_RULES.map((r) => [r.id, r]));
const RULE_IDS: ReadonlySet<string> = new Set(RULES.keys());
/** Rows in one CSV export: a filter that matches more is refused rather than cut silently. */
export const MAX_CSV_ROWS = 50_000;

const CSV_HEADERS = {
  en: ['id', 'rule_id', 'severity', 'status', 'title', 'first_seen', 'last_seen', 'count', 'src_ip', 'dst_ip', 'zone_src', 'zone_dst', 'device_id', 'guide_refs', 'recommendation', 'sensors', 'accepted_until'],
  nb: ['id', 'regel', 'alvorlighet', 'status', 'tittel', 'først_sett', 'sist_sett', 'antall', 'kilde_ip', 'mål_ip', 'kildesone', 'målsone', 'enhet', 'veilederhenvisninger', 'anbefaling', 'sensorer', 'risiko_akseptert_til'],
} as const;

function csvRowOf(a: Alert & { accepted?: { expires: string } }, lang: 'nb' | 'en'): string {
  const r = RULES.get(a.rule_id);
  const title = lang === 'nb' && r ? r.title.nb : a.title;
  const rec = lang === 'nb' && r ? r.recommendation.nb : a.recommendation;
  const s = a.subject;
  return csvLine([a.id, a.rule_id, a.severity, a.status, title, a.first_seen, a.last_seen, a.count, s.src_ip, s.dst_ip, s.zone_src, s.zone_dst, s.device_id ?? '', a.guide_refs.join('; '), rec, (a.sensors ?? []).join('; '), a.accepted?.expires ?? '']);
}

/** Adds the bokmål title and recommendation of the alert's rule (when the rule is known). */
export function withNorwegian<T extends Alert>(a: T): T & { title_nb?: string; recommendation_nb?: string } {
  const r = RULES.get(a.rule_id);
  return r ? { ...a, title_nb: r.title.nb, recommendation_nb: r.recommendation.nb } : a;
}

/** The alert with the active risk acceptance that covers it, if any (the alert itself is unchanged). */
export function withAcceptance<T extends Alert>(a: T, active: readonly RiskAcceptance[]): T & { accepted?: { id: string; owner: string; reason: string; reference: string; expires: string; expires_at: string } } {
  const x = acceptanceFor(a, active);
  return x === undefined ? a : { ...a, accepted: { id: x.id, owner: x.owner, reason: x.reason, reference: x.reference, expires: x.expires, expires_at: x.expires_at } };
}

/**
 * Rules whose title in either language holds the text: the store holds the English title an
 * alert was raised with, the bokmål one lives in the rule set, and an officer searches in the
 * words the page shows.
 */
export function rulesTitled(text: string | undefined): string[] | undefined {
  const q = text?.trim().toLowerCase();
  if (!q) return undefined;
  const ids = ALL_RULES.filter((r) => r.title.nb.toLowerCase().includes(q) || r.title.en.toLowerCase().includes(q)).map((r) => r.id);
  return ids.length > 0 ? ids : undefined;
}

export function toStoreQuery(q: AlertListQuery): AlertQuery {
  return {
    q: q.q,
    q_rule_ids: rulesTitled(q.q),
    severity: q.severity,
    rule_id: q.rule_id,
    status: q.status,
    zone: q.zone,
    ip: q.ip,
    sensor: q.sensor,
    since: timeParam(q.since, 'since'),
    until: timeParam(q.until, 'until'),
    limit: q.limit,
    cursor: q.cursor,
    sort: q.sort,
  };
}

export interface AlertRoutesOptions {
  store: ApiStore;
}

export const alertRoutes: FastifyPluginAsync<AlertRoutesOptions> = async (instance, opts) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = opts;
  const tags = ['alerts'];
  const security = [{ bearer: [] }];
  const activeAcceptances = async () => (await listAcceptances(store)).filter((a) => isActive(a, Date.now()));
  const storedRule = async (id: string) => (await store.listAlerts({ rule_id: id, limit: 1 })).items.length > 0;
  // Before validation, so `severity=critical,high` is two values to the schema.
  const commaLists = async (request: { query: unknown }) => {
    if (request.query !== null && typeof request.query === 'object') splitCommaLists(request.query as Record<string, unknown>);
  };

  app.get(
    '/alerts',
    {
      config: { access: 'viewer', audit: 'alerts.list' },
      preValidation: commaLists,
      schema: {
        tags,
        security,
        summary: 'List alerts',
        description:
          'Newest first (`sort=last_seen`) or most severe first (`sort=severity`). Filters combine with AND; `q` is free text (see the parameter); repeat `severity`, `rule_id`, `status` or `sensor`, or separate values with commas, for several values. `sensor` matches alerts seen by any of the named sensors. `since`/`until` take ISO 8601, epoch milliseconds or a plain date (that day in Europe/Oslo). An unknown `rule_id` is a 400 that lists the known ones. Pass `next_cursor` back as `cursor` with the same filters for the next page. Every call is audited.',
        querystring: AlertListQuery,
        response: { 200: AlertPageSchema, ...errorResponses() },
      },
    },
    async (request) => {
      await checkRuleIds(request.query.rule_id, RULE_IDS, storedRule);
      const page = await store.listAlerts(toStoreQuery(request.query));
      const active = await activeAcceptances();
      return { items: page.items.map((a) => withAcceptance(withNorwegian(a), active)), next_cursor: page.next_cursor };
    },
  );

  app.get(
    '/alerts.csv',
    {
      config: { access: 'viewer', audit: 'alerts.export' },
      preValidation: commaLists,
      schema: {
        tags,
        security,
        summary: 'Alerts matching the filters as CSV',
        description: `The same filters and order as the list, every page (at most ${MAX_CSV_ROWS} rows; more is a 400 asking for a narrower filter). \`lang=nb\` gives Norwegian headers, titles and recommendations. RFC 4180 with CRLF; cells a spreadsheet would take for a formula start with an apostrophe.`,
        querystring: AlertCsvQuery,
        response: errorResponses(),
      },
    },
    async (request, reply) => {
      const { lang = 'en', ...filters } = request.query;
      await checkRuleIds(filters.rule_id, RULE_IDS, storedRule);
      const q = { ...toStoreQuery(filters), limit: 1000 };
      const lines: string[] = [csvLine(CSV_HEADERS[lang])];
      const active = await activeAcceptances();
      let cursor: string | null = null;
      do {
        const page = await store.listAlerts({ ...q, cursor });
        if (lines.length - 1 + page.items.length > MAX_CSV_ROWS) throw new ApiError(400, `more than ${MAX_CSV_ROWS} alerts match: narrow the filter (since/until, severity, zone)`);
        for (const a of page.items) lines.push(csvRowOf(withAcceptance(a, active), lang));
        cursor = page.next_cursor;
      } while (cursor !== null);
      void reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="muvakt-alerts.csv"`);
      return `${lines.join('\r\n')}\r\n`;
    },
  );

  app.get(
    '/alerts/:id',
    {
      config: { access: 'viewer', audit: 'alerts.get' },
      schema: { tags, security, summary: 'One alert with its lifecycle history', params: AlertIdParams, response: { 200: AlertDetailSchema, ...errorResponses(404) } },
    },
    async (request) => {
      const a = await store.getAlert(request.params.id);
      if (a === null) throw new ApiError(404, 'no alert with this id');
      return withAcceptance(withNorwegian(a), await activeAcceptances());
    },
  );

  for (const [path, action, doIt] of [
    ['ack', 'alerts.ack', (id: string, actor: string, c: string) => store.acknowledge(id, actor, c)],
    ['resolve', 'alerts.resolve', (id: string, actor: string, c: string) => store.resolve(id, actor, c)],
  ] as const) {
    app.post(
      `/alerts/:id/${path}`,
      {
        config: { access: 'officer', audit: action },
        validatorCompiler: strictValidatorCompiler as never,
        // No body at all (no content-type) means no comment.
        preValidation: async (request) => {
          if (request.body === undefined || request.body === null) (request as { body: unknown }).body = {};
        },
        schema: {
          tags,
          security,
          summary: path === 'ack' ? 'Acknowledge an open alert (officer)' : 'Resolve an open or acknowledged alert (officer)',
          description: '409 when the alert is not in a status this change applies to. A comment that holds a fødselsnummer is refused (400).',
          params: AlertIdParams,
          body: CommentBody,
          response: { 200: AlertDetailSchema, ...errorResponses(404, 409, 413, 415) },
        },
      },
      async (request) => {
        const a = await doIt(request.params.id, request.principal!.name, request.body?.comment ?? '');
        if (a === null) throw new ApiError(404, 'no alert with this id');
        request.log.info({ action, actor: request.principal!.name }, 'alert lifecycle change');
        return withAcceptance(withNorwegian(a), await activeAcceptances());
      },
    );
  }
};
