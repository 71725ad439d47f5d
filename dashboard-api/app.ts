/**
 * The API app factory: `buildApp(opts)` returns a Fastify instance (not listening), so tests
 * use `app.inject` and `serve` calls `listen`. Each concern is a plugin:
 *
 *   plugins/errors.ts   JSON errors, 400 for bad input, never a 500 for the caller's mistakes
 *   plugins/failure-limit.ts  denied requests (401/403/404/414) per address → lockout, before auth
 *   plugins/security-headers.ts  no-store, nosniff, HSTS under TLS on every response
 *   plugins/connection-limits.ts  connection caps and timeouts per client
 *   plugins/auth.ts     bearer tokens (SHA-256 in the auth file), roles, rate limit per token
 *   openapi.ts          /docs (UI) and /docs/json (OpenAPI 3)
 *   plugins/audit.ts    every read of alerts/assets/audit and every change → audit log
 *   routes/*.ts         /api/v1/alerts, assets, flows/summary and remote-sessions (from the store), policy, audit; /healthz, /readyz, /metrics
 *
 * Responses go through their TypeBox schemas, so only declared fields leave the API.
 */
import type { Server } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyHttpOptions, type FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Policy } from '../rules/policy/index.js';
import { createMetrics, storeSnapshot, type Metrics, type SnapshotProvider } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import { auditPlugin } from './plugins/audit.js';
import { authPlugin, EMPTY_AUTH, type AuthConfig } from './plugins/auth.js';
import { capConnections, DEFAULT_CONNECTION_LIMITS, nodeServerOptions, serverOptions, type ConnectionLimits } from './plugins/connection-limits.js';
import { errorsPlugin, formatSchemaErrors } from './plugins/errors.js';
import { frameworkErrors } from './plugins/framework-errors.js';
import { DEFAULT_FAILURE_LIMIT, failureLimitPlugin, FailureLimiter } from './plugins/failure-limit.js';
import { securityHeadersPlugin } from './plugins/security-headers.js';
import { redactPath } from './redact.js';
import { alertRoutes } from './routes/alerts.js';
import { assetRoutes, type AssetProvider } from './routes/assets.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { auditRoutes } from './routes/audit.js';
import { flowRoutes } from './routes/flows.js';
import { healthRoutes } from './routes/health.js';
import { whoamiRoutes } from './routes/whoami.js';
import { metricsRoutes } from './routes/metrics.js';
import { policyRoutes, type PolicyHolder } from './routes/policy.js';
import { riskAcceptanceRoutes } from './routes/risk-acceptances.js';
import { remoteSessionRoutes } from './routes/remote-sessions.js';
import type { ApiInstance, ApiStore } from './types.js';

export const API_VERSION = '1.0.0';
export const API_PREFIX = '/api/v1';
/** Request bodies are a comment at most: 16 KiB is plenty. */
export const BODY_LIMIT = 16 * 1024;

export interface BuildAppOptions {
  store: ApiStore;
  /** Tokens and metrics access; default: no tokens (every protected route is 401). */
  auth?: AuthConfig;
  /** The policy in force (GET /policy); null or absent = 404. */
  policy?: Policy | null;
  /** Re-reads the policy file (POST /policy/reload, admin). */
  reloadPolicy?: () => Policy;
  /** The sensor's counters for /metrics (a live `run` plugs its pipeline in; without it only store-derived and HTTP metrics are exported). Alert gauges come from the store unless this gives them. */
  metrics?: SnapshotProvider;
  /** Default process metrics; default true. */
  processMetrics?: boolean;
  assets?: AssetProvider;
  /** Readiness: false = capture has stopped (503). */
  captureAlive?: () => boolean;
  /** A pino logger; default: no logging. */
  logger?: FastifyBaseLogger;
  /** TLS for the listener (PEM). */
  https?: { cert: string | Buffer; key: string | Buffer };
  /** Honour X-Forwarded-For (only behind a trusted proxy); default false. */
  trustProxy?: boolean;
  /** Connection caps and timeouts; default DEFAULT_CONNECTION_LIMITS. */
  connectionLimits?: Partial<ConnectionLimits>;
  /** Clock for the lockout of denied addresses (tests); default Date.now. */
  now?: () => number;
}

/** Log serializers that keep query strings (filters an officer typed), headers and fødselsnummer-like values in the path out of the log. */
export const apiLogSerializers = {
  req: (req: FastifyRequest) => ({ method: req.method, url: redactPath(req.url), remoteAddress: req.ip }),
};

export interface BuiltApp {
  app: ApiInstance;
  metrics: Metrics;
  policy: PolicyHolder;
  failures: FailureLimiter;
}

export async function buildApp(opts: BuildAppOptions): Promise<ApiInstance> {
  return (await buildAppWithParts(opts)).app;
}

export async function buildAppWithParts(opts: BuildAppOptions): Promise<BuiltApp> {
  const limits = { ...DEFAULT_CONNECTION_LIMITS, ...opts.connectionLimits };
  const failures = new FailureLimiter(opts.auth?.lockout ?? DEFAULT_FAILURE_LIMIT, opts.now);
  const tls = opts.https !== undefined;
  const options: FastifyHttpOptions<Server> = {
    ...serverOptions(limits),
    bodyLimit: BODY_LIMIT,
    frameworkErrors: frameworkErrors(failures, tls),
    trustProxy: opts.trustProxy ?? false,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
    schemaErrorFormatter: formatSchemaErrors,
    ...(opts.logger ? { loggerInstance: opts.logger } : { logger: false }),
  };
  // TLS changes only the server Fastify creates; the instance type stays the plain one.
  if (opts.https) {
    (options as Record<string, unknown>).https = { cert: opts.https.cert, key: opts.https.key, minVersion: 'TLSv1.2', ...nodeServerOptions(limits) };
  }
  const app = Fastify(options).withTypeProvider<TypeBoxTypeProvider>() as unknown as ApiInstance;
  capConnections(app.server, limits);

  const storePart = storeSnapshot(opts.store, { assets: opts.assets });
  const sensor = opts.metrics;
  const metrics = createMetrics({
    processMetrics: opts.processMetrics,
    liveSensor: sensor !== undefined,
    snapshot: async () => {
      const s = sensor ? await sensor() : {};
      if (s.alertsOpen !== undefined && s.alertsByRule !== undefined) return s;
      if (sensor === undefined) return { ...(await storePart()), ...s };
      // Beside a live capture the sensor's own counters (its store spool above all) must be
      // scraped while the store is down: the store-derived series then have no sample.
      return { ...(await storePart().catch(() => ({}))), ...s };
    },
  });
  const policy: PolicyHolder = { current: opts.policy ?? null, reload: opts.reloadPolicy };

  // The API's own request metrics; hooked on the root instance so every route (and 404s) counts.
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? null, reply.statusCode, reply.elapsedTime / 1000);
  });
  await app.register(errorsPlugin);
  await app.register(securityHeadersPlugin, { tls });
  await app.register(failureLimitPlugin, { limiter: failures });
  await app.register(authPlugin, { config: opts.auth ?? EMPTY_AUTH });
  await registerOpenApi(app, API_VERSION);
  await app.register(auditPlugin, { store: opts.store });

  await app.register(healthRoutes, { store: opts.store, captureAlive: opts.captureAlive });
  await app.register(metricsRoutes, { metrics });
  await app.register(dashboardRoutes);
  await app.register(
    async (api) => {
      await api.register(alertRoutes, { store: opts.store });
      await api.register(assetRoutes, { assets: opts.assets });
      await api.register(flowRoutes, { store: opts.store, assets: opts.assets });
      await api.register(remoteSessionRoutes, { store: opts.store });
      await api.register(policyRoutes, { policy });
      await api.register(auditRoutes, { store: opts.store });
      await api.register(riskAcceptanceRoutes, { store: opts.store });
      await api.register(whoamiRoutes);
      await api.register(healthRoutes, { store: opts.store, captureAlive: opts.captureAlive });
      await api.register(metricsRoutes, { metrics });
    },
    { prefix: API_PREFIX },
  );
  return { app, metrics, policy, failures };
}
