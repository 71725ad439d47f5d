/** `GET /api/v1/audit` (admin): who read or changed what, newest first. Reading it is audited too. */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AuditPageSchema, AuditQuery, errorResponses } from '../schemas.js';
import type { ApiStore } from '../types.js';

const time = (v: string | undefined) => (v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : v);

export const auditRoutes: FastifyPluginAsync<{ store: ApiStore }> = async (instance, opts) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/audit',
    {
      config: { access: 'admin', audit: 'audit.list' },
      schema: {
        tags: ['audit'],
        security: [{ bearer: [] }],
        summary: 'The audit log (admin)',
        querystring: AuditQuery,
        response: { 200: AuditPageSchema, ...errorResponses() },
      },
    },
    async (request) => {
      const q = request.query;
      return await opts.store.listAudit({ actor: q.actor, action: q.action, since: time(q.since), until: time(q.until), limit: q.limit, cursor: q.cursor });
    },
  );
};
