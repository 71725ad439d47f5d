/** OpenAPI 3 document (`/docs/json`) and Swagger UI (`/docs`), generated from the route schemas. */
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ErrorSchema } from './schemas.js';

export async function registerOpenApi(app: FastifyInstance, version: string): Promise<void> {
  app.addSchema(ErrorSchema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'muvakt API',
        version,
        description:
          'Alerts, devices, flows and policy of a muvakt sensor. Bearer tokens with roles viewer (read), officer (acknowledge/resolve) and admin (audit log, policy reload). Every read of alerts or assets is audited. No response holds patient data.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API token from the auth file (stored there as its SHA-256)' },
          metricsBearer: { type: 'http', scheme: 'bearer', description: 'The metrics token (metrics_token_sha256)' },
        },
      },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    uiConfig: { validatorUrl: null },
    // Everything the UI needs is served from here: no style or font from any https: origin, no external validator badge.
    transformStaticCSP: (header: string) => header.replace(/ https:(?=[ ;])/g, '').replace(/ validator\.swagger\.io/g, ''),
  });
}
