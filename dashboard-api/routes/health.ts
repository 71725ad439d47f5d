/**
 * Liveness and readiness, open to probes. `/healthz` is 200 whenever the process answers.
 * `/readyz` is 503 when the store cannot be written (a small kv write is tried) or when the
 * injected capture check says capture has stopped.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import * as Type from 'typebox';
import type { ApiStore } from '../types.js';

const Ready = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not ready')]),
  checks: Type.Object({ store: Type.Boolean(), capture: Type.Optional(Type.Boolean()) }),
});

export const healthRoutes: FastifyPluginAsync<{ store: ApiStore; captureAlive?: () => boolean }> = async (instance, opts) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['health'];
  app.get(
    '/healthz',
    { config: { access: 'public' }, schema: { tags, summary: 'Liveness: 200 while the process runs', response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );
  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: { tags, summary: 'Readiness: 503 when the store is not writable or capture has stopped', response: { 200: Ready, 503: Ready } },
    },
    async (request, reply) => {
      let storeOk = false;
      try {
        if (opts.store.isOpen) {
          await opts.store.kvSet('api.readyz', { at: new Date().toISOString() });
          storeOk = true;
        }
      } catch (e) {
        request.log.warn({ err: { name: (e as Error).name } }, 'readiness: store not writable');
      }
      let capture: boolean | undefined;
      if (opts.captureAlive) {
        try {
          capture = opts.captureAlive() === true;
        } catch {
          capture = false;
        }
      }
      const ready = storeOk && capture !== false;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: capture === undefined ? { store: storeOk } : { store: storeOk, capture } });
    },
  );
};
