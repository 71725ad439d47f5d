/**
 * Audit (LEV 6.3, 6.4, MU 4.5): who read which alerts and assets, and who changed what, is
 * itself an audit event. A route opts in with `config.audit = '<action>'`; the entry (actor,
 * role, action, the validated query and path parameters) is written before the handler runs,
 * and if it cannot be written the request is refused (503): nothing is served unlogged.
 * The store bounds the query to 4 KiB and redacts fødselsnummer-like values.
 *
 * Denied attempts are audited too (OWASP API10): every 401 and 403 leaves a row with the
 * route template (or the redacted path), the method and the client address — never the
 * presented token nor any part of it. /metrics has no principal: its reads are written with
 * the actor `metrics-scraper` (or `anonymous` when metrics are open); a scrape is the one read
 * still served when its audit row cannot be written (logged instead), because metrics carry no
 * patient data and are what tells the SOC that the store is unreachable.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiStore } from '../types.js';
import { redactPath } from '../redact.js';
import { ApiError, globalPlugin } from './errors.js';

const DENIED_ACTION: Record<number, string> = { 401: 'denied.unauthenticated', 403: 'denied.forbidden' };

export interface AuditPluginOptions {
  store: ApiStore;
}

/** /metrics is read with the metrics token (or none when open), which has no name of its own. */
function metricsActor(request: FastifyRequest): string {
  return typeof request.headers.authorization === 'string' ? 'metrics-scraper' : 'anonymous';
}

export const auditPlugin = globalPlugin(async function audit(app: FastifyInstance, opts: AuditPluginOptions) {
  app.addHook('preHandler', async (request) => {
    const action = request.routeOptions.config?.audit;
    if (action === undefined) return;
    const access = request.routeOptions.config?.access;
    const p = request.principal ?? (access === 'metrics' ? { name: metricsActor(request), role: 'metrics' } : null);
    if (p === null) throw new ApiError(401, 'missing bearer token');
    const query: Record<string, unknown> = {};
    const params = request.params as Record<string, unknown> | undefined;
    const q = request.query as Record<string, unknown> | undefined;
    if (params && Object.keys(params).length > 0) query.params = params;
    if (q && Object.keys(q).length > 0) query.query = q;
    try {
      await opts.store.audit({ actor: p.name, role: p.role, action, query });
    } catch (e) {
      request.log.error({ err: { name: (e as Error).name }, action }, 'audit write failed');
      // Metrics hold counts, never a patient value, and they are how the SOC sees that the store
      // is down: a scrape is served (the gap logged) rather than blinding the monitoring.
      if (access === 'metrics') return;
      throw new ApiError(503, 'the audit log cannot be written, so the request was not served');
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const action = DENIED_ACTION[reply.statusCode];
    if (action === undefined) return;
    const p = request.principal;
    const route = request.routeOptions.url;
    try {
      await opts.store.audit({
        actor: p?.name ?? 'anonymous',
        role: p?.role ?? 'none',
        action,
        query: { method: request.method, route: route ?? redactPath(request.url), address: request.ip },
      });
    } catch (e) {
      // The answer is already sent (a refusal): nothing to withhold, but the gap is logged.
      request.log.error({ err: { name: (e as Error).name } }, 'audit write of a denied request failed');
    }
  });
}, 'muvakt-audit');
