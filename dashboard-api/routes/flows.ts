/** Flow summary by zone pair and app, from an injected provider (the pipeline); empty without one. */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type, { type Static } from 'typebox';
import { errorResponses } from '../schemas.js';

export const FlowSummarySchema = Type.Object({
  generated_at: Type.String(),
  items: Type.Array(
    Type.Object({
      zone_src: Type.String(),
      zone_dst: Type.String(),
      app: Type.String(),
      flows: Type.Integer({ minimum: 0 }),
      bytes: Type.Integer({ minimum: 0 }),
      encrypted: Type.Optional(Type.Integer({ minimum: 0, description: 'Flows of these that were encrypted' })),
    }),
  ),
});
export type FlowSummary = Static<typeof FlowSummarySchema>;
export type FlowSummaryProvider = () => FlowSummary['items'];

export const flowRoutes: FastifyPluginAsync<{ flows?: FlowSummaryProvider }> = async (instance, opts) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/flows/summary',
    {
      config: { access: 'viewer', audit: 'flows.summary' },
      schema: {
        tags: ['flows'],
        security: [{ bearer: [] }],
        summary: 'Flows by zone pair and app (empty when the API runs without a live pipeline)',
        response: { 200: FlowSummarySchema, ...errorResponses() },
      },
    },
    async () => ({ generated_at: new Date().toISOString(), items: opts.flows?.() ?? [] }),
  );
};
