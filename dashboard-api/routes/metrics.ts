/**
 * `GET /metrics`: Prometheus text. Needs the metrics token (`metrics_token_sha256`) unless
 * the operator opened it (`metrics: {open: true}`), in which case the API should listen on a
 * separate, internal address only the scraper reaches.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Metrics } from '../metrics.js';

export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics }> = async (app, opts) => {
  app.get(
    '/metrics',
    {
      config: { access: 'metrics', audit: 'metrics.read' },
      schema: {
        tags: ['metrics'],
        security: [{ metricsBearer: [] }],
        summary: 'Prometheus text exposition (muvakt_* and process metrics)',
        produces: ['text/plain; version=0.0.4'],
      },
    },
    async (_request, reply) => {
      const text = await opts.metrics.render();
      return reply.type(opts.metrics.contentType).send(text);
    },
  );
};
