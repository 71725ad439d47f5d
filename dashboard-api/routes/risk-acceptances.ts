/**
 * Risk acceptances (the hospital's recorded decision to live with a finding, after its risk
 * assessment): list and export (viewer), record and revoke (officer). Every call is audited; an
 * acceptance never deletes or hides an alert, it marks it as accepted until it expires.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import * as Type from 'typebox';
import { ALL_RULES } from '../../rules/index.js';
import { csvLine } from '../../agent/export/csv.js';
import { AcceptanceInputError, covers, isActive, listAcceptances, recordAcceptance, revokeAcceptance, type RiskAcceptance } from '../../agent/risk-acceptances.js';
import type { Alert } from '../../agent/store/index.js';
import { ApiError } from '../plugins/errors.js';
import { AcceptanceBody, AcceptanceCsvQuery, AcceptanceIdParams, AcceptanceListQuery, AcceptanceSchema, CommentBody, errorResponses, strictValidatorCompiler } from '../schemas.js';
import type { ApiStore } from '../types.js';

const RULE_IDS: ReadonlySet<string> = new Set(ALL_RULES.map((r) => r.id));
const CSV_HEADERS = {
  en: ['id', 'rule_id', 'scope', 'device_id', 'src_ip', 'dst_ip', 'zone_src', 'zone_dst', 'reason', 'owner', 'reference', 'expires', 'active', 'created_by', 'created_at', 'revoked_by', 'revoked_at'],
  nb: ['id', 'regel', 'gjelder', 'enhet', 'kilde_ip', 'mål_ip', 'kildesone', 'målsone', 'begrunnelse', 'eier', 'ros_referanse', 'til_og_med', 'gjeldende', 'registrert_av', 'registrert', 'trukket_av', 'trukket'],
} as const;
const CSV_WORDS = {
  en: { device: 'device', pair: 'pair', zones: 'zones', true: 'true', false: 'false' },
  nb: { device: 'enhet', pair: 'adressepar', zones: 'sonepar', true: 'ja', false: 'nei' },
} as const;
/** Alerts read to count what each acceptance covers. */
const MAX_ALERTS_COUNTED = 50_000;

export interface RiskAcceptanceRoutesOptions {
  store: ApiStore;
  now?: () => number;
}

async function allAlerts(store: ApiStore): Promise<Alert[]> {
  const out: Alert[] = [];
  let cursor: string | null = null;
  do {
    const page: { items: Alert[]; next_cursor: string | null } = await store.listAlerts({ limit: 1000, cursor });
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor !== null && out.length < MAX_ALERTS_COUNTED);
  return out;
}

export const riskAcceptanceRoutes: FastifyPluginAsync<RiskAcceptanceRoutesOptions> = async (instance, opts) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = opts;
  const now = opts.now ?? Date.now;
  const tags = ['risk acceptance'];
  const security = [{ bearer: [] }];
  const view = (a: RiskAcceptance, alerts: readonly Alert[] | null) => {
    const active = isActive(a, now());
    return { ...a, active, ...(alerts !== null && active ? { covers_alerts: alerts.filter((x) => covers(a, x)).length } : {}) };
  };

  const listed = async (active: boolean | undefined) => {
    const alerts = await allAlerts(store);
    const items = (await listAcceptances(store)).map((a) => view(a, alerts));
    return active === undefined ? items : items.filter((a) => a.active === active);
  };

  app.get(
    '/risk-acceptances',
    {
      config: { access: 'viewer', audit: 'risk.list' },
      schema: {
        tags,
        security,
        summary: 'Recorded risk acceptances, newest first',
        description: 'Expired and revoked acceptances stay on record (`active: false`). Each active one says how many alerts in the store it covers.',
        querystring: AcceptanceListQuery,
        response: { 200: Type.Object({ items: Type.Array(AcceptanceSchema) }), ...errorResponses() },
      },
    },
    async (request) => ({ items: await listed(request.query.active) }),
  );

  app.get(
    '/risk-acceptances.csv',
    {
      config: { access: 'viewer', audit: 'risk.export' },
      schema: {
        tags,
        security,
        summary: 'Recorded risk acceptances as CSV (RFC 4180, formula-like cells neutralised)',
        description: '`lang=nb` heads the columns in bokmål and writes the scope and whether it is in force in bokmål.',
        querystring: AcceptanceCsvQuery,
        response: errorResponses(),
      },
    },
    async (request, reply) => {
      const lang = request.query.lang ?? 'en';
      const words = CSV_WORDS[lang];
      const lines = [csvLine(CSV_HEADERS[lang])];
      for (const a of await listed(request.query.active)) {
        lines.push(
          csvLine([a.id, a.rule_id, words[a.scope], a.device_id ?? '', a.src_ip ?? '', a.dst_ip ?? '', a.zone_src ?? '', a.zone_dst ?? '', a.reason, a.owner, a.reference, a.expires, words[String(a.active) as 'true' | 'false'], a.created_by, a.created_at, a.revoked_by ?? '', a.revoked_at ?? '']),
        );
      }
      void reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="muvakt-risk-acceptances.csv"');
      return `${lines.join('\r\n')}\r\n`;
    },
  );

  app.post(
    '/risk-acceptances',
    {
      config: { access: 'officer', audit: 'risk.accept' },
      validatorCompiler: strictValidatorCompiler as never,
      schema: {
        tags,
        security,
        summary: 'Record a risk acceptance for one rule and subject (officer)',
        description: 'Scope `device` needs device_id, `pair` src_ip and dst_ip, `zones` zone_src and zone_dst. An unknown rule, a past or more than about three years distant expiry, or free text holding a fødselsnummer is a 400.',
        body: AcceptanceBody,
        response: { 201: AcceptanceSchema, ...errorResponses(413, 415) },
      },
    },
    async (request, reply) => {
      try {
        const a = await recordAcceptance(store, request.body, request.principal!.name, RULE_IDS, now());
        request.log.info({ action: 'risk.accept', actor: request.principal!.name, rule_id: a.rule_id, scope: a.scope }, 'risk acceptance recorded');
        return reply.code(201).send(view(a, await allAlerts(store)));
      } catch (e) {
        if (e instanceof AcceptanceInputError) throw new ApiError(400, e.message);
        throw e;
      }
    },
  );

  app.post(
    '/risk-acceptances/:id/revoke',
    {
      config: { access: 'officer', audit: 'risk.revoke' },
      validatorCompiler: strictValidatorCompiler as never,
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) (request as { body: unknown }).body = {};
      },
      schema: {
        tags,
        security,
        summary: 'End a risk acceptance before its expiry (officer)',
        params: AcceptanceIdParams,
        body: CommentBody,
        response: { 200: AcceptanceSchema, ...errorResponses(404, 413, 415) },
      },
    },
    async (request) => {
      try {
        const a = await revokeAcceptance(store, request.params.id, request.principal!.name, request.body?.comment, now());
        if (a === null) throw new ApiError(404, 'no risk acceptance with this id');
        request.log.info({ action: 'risk.revoke', actor: request.principal!.name }, 'risk acceptance revoked');
        return view(a, null);
      } catch (e) {
        if (e instanceof AcceptanceInputError) throw new ApiError(400, e.message);
        throw e;
      }
    },
  );
};
