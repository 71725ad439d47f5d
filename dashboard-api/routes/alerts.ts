/**
 * Alerts: list (filters, cursor paging, sort), detail with history, acknowledge and resolve.
 * Each alert carries the rule's Norwegian texts beside the English contract fields.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ALL_RULES } from '../../rules/index.js';
import type { Alert, AlertQuery } from '../../agent/store/index.js';
import { ApiError } from '../plugins/errors.js';
import { AlertDetailSchema, AlertIdParams, AlertListQuery, AlertPageSchema, CommentBody, errorResponses, strictValidatorCompiler } from '../schemas.js';
import type { ApiStore } from '../types.js';

const RULES = new Map(ALL_RULES.map((r) => [r.id, r]));

/** Adds the bokmål title and recommendation of the alert's rule (when the rule is known). */
export function withNorwegian<T extends Alert>(a: T): T & { title_nb?: string; recommendation_nb?: string } {
  const r = RULES.get(a.rule_id);
  return r ? { ...a, title_nb: r.title.nb, recommendation_nb: r.recommendation.nb } : a;
}

/** `since`/`until` from the query string: digits are epoch milliseconds, anything else ISO 8601 (the store checks it). */
function time(v: string | undefined): string | number | undefined {
  return v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : v;
}

export function toStoreQuery(q: AlertListQuery): AlertQuery {
  return {
    severity: q.severity,
    rule_id: q.rule_id,
    status: q.status,
    zone: q.zone,
    ip: q.ip,
    since: time(q.since),
    until: time(q.until),
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

  app.get(
    '/alerts',
    {
      config: { access: 'viewer', audit: 'alerts.list' },
      schema: {
        tags,
        security,
        summary: 'List alerts',
        description:
          'Newest first (`sort=last_seen`) or most severe first (`sort=severity`). Filters combine with AND; repeat `severity`, `rule_id` or `status` for several values. Pass `next_cursor` back as `cursor` with the same filters for the next page. Every call is audited.',
        querystring: AlertListQuery,
        response: { 200: AlertPageSchema, ...errorResponses() },
      },
    },
    async (request) => {
      const page = store.listAlerts(toStoreQuery(request.query));
      return { items: page.items.map(withNorwegian), next_cursor: page.next_cursor };
    },
  );

  app.get(
    '/alerts/:id',
    {
      config: { access: 'viewer', audit: 'alerts.get' },
      schema: { tags, security, summary: 'One alert with its lifecycle history', params: AlertIdParams, response: { 200: AlertDetailSchema, ...errorResponses(404) } },
    },
    async (request) => {
      const a = store.getAlert(request.params.id);
      if (a === null) throw new ApiError(404, 'no alert with this id');
      return withNorwegian(a);
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
        const a = doIt(request.params.id, request.principal!.name, request.body?.comment ?? '');
        if (a === null) throw new ApiError(404, 'no alert with this id');
        request.log.info({ action, actor: request.principal!.name }, 'alert lifecycle change');
        return withNorwegian(a);
      },
    );
  }
};
