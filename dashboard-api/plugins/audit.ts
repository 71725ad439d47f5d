/**
 * Audit (LEV 6.3, 6.4, MU 4.5): who read which alerts and assets, and who changed what, is
 * itself an audit event. A route opts in with `config.audit = '<action>'`; the entry (actor,
 * role, action, the validated query and path parameters) is written before the handler runs,
 * and if it cannot be written the request is refused (503): nothing is served unlogged.
 * The store bounds the query to 4 KiB and redacts fødselsnummer-like values.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiStore } from '../types.js';
import { ApiError, globalPlugin } from './errors.js';

export interface AuditPluginOptions {
  store: ApiStore;
}

export const auditPlugin = globalPlugin(async function audit(app: FastifyInstance, opts: AuditPluginOptions) {
  app.addHook('preHandler', async (request) => {
    const action = request.routeOptions.config?.audit;
    if (action === undefined) return;
    const p = request.principal;
    if (p === null) throw new ApiError(401, 'missing bearer token');
    const query: Record<string, unknown> = {};
    const params = request.params as Record<string, unknown> | undefined;
    const q = request.query as Record<string, unknown> | undefined;
    if (params && Object.keys(params).length > 0) query.params = params;
    if (q && Object.keys(q).length > 0) query.query = q;
    try {
      opts.store.audit({ actor: p.name, role: p.role, action, query });
    } catch (e) {
      request.log.error({ err: { name: (e as Error).name } }, 'audit write failed');
      throw new ApiError(503, 'the audit log cannot be written, so the request was not served');
    }
  });
}, 'muvakt-audit');
