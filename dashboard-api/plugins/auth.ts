/**
 * Authentication and roles (LEV 6.3, 6.4): bearer tokens from the operator's auth file,
 * kept there only as SHA-256 hashes and compared in constant time. Every route declares
 * its access in `config.access`; a route that forgets is admin-only (fail closed).
 *
 * Auth file (YAML or JSON):
 * ```yaml
 * tokens:
 *   - {name: soc-dashboard, role: viewer,  sha256: 9f86d0…}   # printf %s "$TOKEN" | sha256sum
 *   - {name: sikkerhetsleder, role: officer, sha256: …}
 *   - {name: ops-admin, role: admin, sha256: …}
 * metrics_token_sha256: …        # the Prometheus scraper's token, or:
 * metrics: {open: false}         # true = /metrics needs no token (then listen on a separate, internal address)
 * rate_limit: {max: 600, window_s: 60}   # per token (per address without a valid token)
 * lockout: {max: 30, window_s: 300, lockout_s: 60, max_lockout_s: 3600}   # denied requests per address (plugins/failure-limit.ts)
 * ```
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import * as Type from 'typebox';
import { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { parse as parseYaml } from 'yaml';
import { StrEnum } from '../schemas.js';
import { ROLE_RANK, ROLES, type Access, type Principal, type Role } from '../types.js';
import { ApiError, globalPlugin } from './errors.js';
import { parseJwtConfig, verifyJwt, type JwtConfig } from './jwt.js';

const Hex64 = Type.String({ pattern: '^[0-9a-fA-F]{64}$' });

export const AuthConfigSchema = Type.Object(
  {
    tokens: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.@-]+$' }),
          sha256: Hex64,
          role: StrEnum<Role>(ROLES),
        },
        { additionalProperties: false },
      ),
      { maxItems: 10_000 },
    ),
    metrics_token_sha256: Type.Optional(Hex64),
    oidc: Type.Optional(Type.Unknown()), // checked by parseJwtConfig (plugins/jwt.ts)
    metrics: Type.Optional(Type.Object({ open: Type.Boolean() }, { additionalProperties: false })),
    rate_limit: Type.Optional(
      Type.Object(
        { max: Type.Integer({ minimum: 1, maximum: 1_000_000 }), window_s: Type.Integer({ minimum: 1, maximum: 86_400 }) },
        { additionalProperties: false },
      ),
    ),
    lockout: Type.Optional(
      Type.Object(
        {
          max: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
          window_s: Type.Integer({ minimum: 1, maximum: 86_400 }),
          lockout_s: Type.Integer({ minimum: 1, maximum: 86_400 }),
          max_lockout_s: Type.Integer({ minimum: 1, maximum: 604_800 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type AuthConfig = Static<typeof AuthConfigSchema>;

/** No tokens: every protected route answers 401 (the safe default when no auth file is given). */
export const EMPTY_AUTH: AuthConfig = { tokens: [] };
export const DEFAULT_RATE_LIMIT = { max: 600, window_s: 60 };

export class AuthConfigError extends Error {
  override readonly name = 'AuthConfigError';
}

const checkAuth = Compile(AuthConfigSchema);

/** SHA-256 hex of a token: what goes into the auth file. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Validates an auth config object; errors name the field. */
export function parseAuthConfig(value: unknown, file = '<auth>'): AuthConfig {
  if (value === null || value === undefined) throw new AuthConfigError(`${file}: empty auth file`);
  for (const e of checkAuth.Errors(value)) {
    const segs = e.instancePath.split('/').slice(1);
    const params = e.params as Record<string, unknown>;
    // An unknown key is reported at the key itself ("schema is false") or at its object.
    const unknownKey = e.message === 'schema is false' ? segs.pop() : e.keyword === 'additionalProperties' ? String((params.additionalProperties as string[] | undefined)?.[0] ?? params.additionalProperty) : undefined;
    const field = segs.map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
    const what =
      unknownKey !== undefined
        ? `unknown key ${JSON.stringify(unknownKey)}`
        : e.keyword === 'pattern' && /sha256$/.test(field)
          ? 'expected 64 hex digits (the SHA-256 of the token, never the token itself)'
          : e.keyword === 'type' && /sha256$/.test(field)
            ? `${e.message}: quote the hash ("…"), or YAML reads a hash of only digits (or digits and one "e") as a number`
            : e.message;
    throw new AuthConfigError(`${file}: ${field || '(document)'}: ${what}`);
  }
  const cfg = value as AuthConfig;
  const names = new Set<string>();
  const hashes = new Set<string>();
  cfg.tokens.forEach((t, i) => {
    if (names.has(t.name)) throw new AuthConfigError(`${file}: tokens[${i}].name: "${t.name}" appears twice`);
    const h = t.sha256.toLowerCase();
    if (hashes.has(h)) throw new AuthConfigError(`${file}: tokens[${i}].sha256: the same token is listed twice`);
    if (h === tokenHash('')) throw new AuthConfigError(`${file}: tokens[${i}].sha256: is the hash of an empty token`);
    names.add(t.name);
    hashes.add(h);
  });
  if (cfg.metrics_token_sha256 !== undefined && hashes.has(cfg.metrics_token_sha256.toLowerCase())) {
    throw new AuthConfigError(`${file}: metrics_token_sha256: must differ from every API token`);
  }
  if (cfg.oidc !== undefined) {
    try {
      parseJwtConfig(cfg.oidc, `${file}: oidc`);
    } catch (e) {
      throw new AuthConfigError((e as Error).message);
    }
  }
  return cfg;
}

export function loadAuthConfig(file: string): AuthConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new AuthConfigError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text); // YAML is a superset of JSON
  } catch (e) {
    throw new AuthConfigError(`${file}: not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseAuthConfig(value, file);
}

const BEARER = /^Bearer +([\x21-\x7e]{1,4096}) *$/i;

/** Resolves bearer tokens to principals in constant time per configured token. */
export class TokenVerifier {
  private readonly tokens: { name: string; role: Role; hash: Buffer }[];
  private readonly metricsHash: Buffer | null;
  private readonly jwt: JwtConfig | null;
  private readonly cache = new WeakMap<FastifyRequest, Principal | null>();

  constructor(readonly config: AuthConfig) {
    this.tokens = config.tokens.map((t) => ({ name: t.name, role: t.role, hash: Buffer.from(t.sha256, 'hex') }));
    this.metricsHash = config.metrics_token_sha256 ? Buffer.from(config.metrics_token_sha256, 'hex') : null;
    this.jwt = config.oidc === undefined ? null : parseJwtConfig(config.oidc, 'auth file: oidc');
  }

  static bearer(request: FastifyRequest): string | null {
    const h = request.headers.authorization;
    if (typeof h !== 'string') return null;
    const m = BEARER.exec(h);
    return m === null ? null : m[1];
  }

  /** The principal of the request's bearer token, or null (no token, unknown token). */
  identify(request: FastifyRequest): Principal | null {
    if (this.cache.has(request)) return this.cache.get(request)!;
    const token = TokenVerifier.bearer(request);
    let found: Principal | null = null;
    if (token !== null) {
      const h = createHash('sha256').update(token, 'utf8').digest();
      // Compare against every entry without stopping early: the time does not say which matched.
      for (const t of this.tokens) {
        if (timingSafeEqual(h, t.hash) && found === null) found = { name: t.name, role: t.role };
      }
      if (found === null && this.jwt !== null && token.includes('.')) found = verifyJwt(token, this.jwt);
    }
    this.cache.set(request, found);
    return found;
  }

  isMetricsToken(request: FastifyRequest): boolean {
    if (this.metricsHash === null) return false;
    const token = TokenVerifier.bearer(request);
    if (token === null) return false;
    return timingSafeEqual(createHash('sha256').update(token, 'utf8').digest(), this.metricsHash);
  }
}

export interface AuthPluginOptions {
  config: AuthConfig;
}

export const authPlugin = globalPlugin(async function auth(app: FastifyInstance, opts: AuthPluginOptions) {
  const verifier = new TokenVerifier(opts.config);
  const metricsOpen = opts.config.metrics?.open === true;
  const limit = opts.config.rate_limit ?? DEFAULT_RATE_LIMIT;

  app.decorateRequest('principal', null);

  // Routes added by the docs plugins are public; any other route without `access` is admin-only.
  app.addHook('onRoute', (route) => {
    route.config ??= {};
    const cfg = route.config as { access?: Access };
    if (cfg.access === undefined) cfg.access = route.url.startsWith('/docs') ? 'public' : 'admin';
  });

  await app.register(rateLimit, {
    global: true,
    max: limit.max,
    timeWindow: limit.window_s * 1000,
    keyGenerator: (request) => {
      const p = verifier.identify(request);
      return p !== null ? `token:${p.name}` : `addr:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) => {
      const e = new ApiError(429, `rate limit exceeded: ${context.max} requests per ${limit.window_s} s; retry in ${context.after}`);
      return e as unknown as object;
    },
  });

  app.addHook('onRequest', async (request) => {
    const access = (request.routeOptions.config as { access?: Access } | undefined)?.access ?? (request.is404 ? 'public' : 'admin');
    if (access === 'public') return;
    if (access === 'metrics') {
      if (metricsOpen || verifier.isMetricsToken(request)) return;
      throw new ApiError(401, TokenVerifier.bearer(request) === null ? 'missing bearer token (the metrics token)' : 'invalid metrics token');
    }
    const principal = verifier.identify(request);
    if (principal === null) {
      throw new ApiError(401, TokenVerifier.bearer(request) === null ? 'missing bearer token: send "Authorization: Bearer <token>"' : 'invalid token');
    }
    request.principal = principal;
    if (ROLE_RANK[principal.role] < ROLE_RANK[access]) {
      throw new ApiError(403, `role ${principal.role} may not do this: needs ${access}`);
    }
  });
}, 'muvakt-auth');

