/**
 * OIDC access tokens (LEV 6.3 IAM): `Authorization: Bearer <JWT>` from the hospital's identity
 * provider, verified offline against a JWKS file (RS256, ES256 only; `none`, HS* and anything
 * else refused), with `exp`/`nbf` (leeway, default 60 s), `iss` and `aud` checked, and a
 * configured claim (`roles`, `groups`, or a dotted path like `realm_access.roles`) mapped to
 * muvakt's roles; several matches give the highest role, none gives no access.
 *
 * In the auth file:
 * ```yaml
 * oidc:
 *   jwks_file: /etc/muvakt/idp-jwks.json     # the IdP's published keys, refreshed by the operator
 *   issuer: https://login.sykehus.example/realms/helse
 *   audience: muvakt                         # or a list
 *   role_claim: groups                       # default roles
 *   roles: {muvakt-lesere: viewer, sikkerhet: officer, muvakt-drift: admin}
 *   name_claim: preferred_username           # the audit log's actor; default sub
 *   leeway_s: 60
 * ```
 */
import { createPublicKey, verify as cryptoVerify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ROLE_RANK, ROLES, type Principal, type Role } from '../types.js';

export type JwtAlg = 'RS256' | 'ES256';
const ALGS: readonly JwtAlg[] = ['RS256', 'ES256'];

export interface JwtKey {
  kid?: string;
  alg: JwtAlg;
  key: KeyObject;
}

/** The compiled configuration `verifyJwt` needs. */
export interface JwtConfig {
  issuer: string;
  audience: string[];
  roleClaim: string[];
  roles: Readonly<Record<string, Role>>;
  nameClaim: string;
  leewaySec: number;
  keys: JwtKey[];
}

export class JwtConfigError extends Error {
  override readonly name = 'JwtConfigError';
}

const KNOWN = new Set(['jwks_file', 'issuer', 'audience', 'role_claim', 'roles', 'name_claim', 'leeway_s']);

function str(v: unknown, field: string, where: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 2048) throw new JwtConfigError(`${where}: ${field}: expected a non-empty string`);
  return v;
}

/** Public keys usable for RS256/ES256 from a JWKS document; others (enc keys, HS, RSA < 2048) are skipped. */
export function keysFromJwks(jwks: unknown, where = '<jwks>'): JwtKey[] {
  const list = (jwks as { keys?: unknown })?.keys;
  if (!Array.isArray(list)) throw new JwtConfigError(`${where}: expected a JWKS document {"keys": [...]}`);
  const out: JwtKey[] = [];
  for (const [i, k] of list.entries()) {
    if (typeof k !== 'object' || k === null) continue;
    const j = k as Record<string, unknown>;
    if (j.use !== undefined && j.use !== 'sig') continue;
    let alg: JwtAlg;
    let pub: JsonWebKey;
    if (j.kty === 'RSA' && typeof j.n === 'string' && typeof j.e === 'string' && (j.alg === undefined || j.alg === 'RS256')) {
      alg = 'RS256';
      pub = { kty: 'RSA', n: j.n, e: j.e };
    } else if (j.kty === 'EC' && j.crv === 'P-256' && typeof j.x === 'string' && typeof j.y === 'string' && (j.alg === undefined || j.alg === 'ES256')) {
      alg = 'ES256';
      pub = { kty: 'EC', crv: 'P-256', x: j.x, y: j.y };
    } else continue;
    let key: KeyObject;
    try {
      key = createPublicKey({ key: pub, format: 'jwk' });
    } catch (e) {
      throw new JwtConfigError(`${where}: keys[${i}]: not a valid key: ${(e as Error).message}`);
    }
    if (alg === 'RS256' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) continue;
    out.push({ kid: typeof j.kid === 'string' ? j.kid : undefined, alg, key });
  }
  if (out.length === 0) throw new JwtConfigError(`${where}: no RS256 or ES256 signing key`);
  return out;
}

/** Validates the `oidc` section (an object) and reads its JWKS file. */
export function parseJwtConfig(value: unknown, where = '<auth>: oidc'): JwtConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwtConfigError(`${where}: expected a mapping`);
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v)) if (!KNOWN.has(k)) throw new JwtConfigError(`${where}: unknown key ${JSON.stringify(k)}`);
  const jwksFile = str(v.jwks_file, 'jwks_file', where);
  const issuer = str(v.issuer, 'issuer', where);
  const aud = Array.isArray(v.audience) ? v.audience : [v.audience];
  if (aud.length === 0) throw new JwtConfigError(`${where}: audience: expected at least one`);
  const audience = aud.map((a, i) => str(a, `audience[${i}]`, where));
  const roleClaim = (v.role_claim === undefined ? 'roles' : str(v.role_claim, 'role_claim', where)).split('.');
  const nameClaim = v.name_claim === undefined ? 'sub' : str(v.name_claim, 'name_claim', where);
  if (typeof v.roles !== 'object' || v.roles === null || Array.isArray(v.roles) || Object.keys(v.roles).length === 0) {
    throw new JwtConfigError(`${where}: roles: expected a mapping of claim values to ${ROLES.join('/')}`);
  }
  const roles: Record<string, Role> = Object.create(null) as Record<string, Role>;
  for (const [claim, role] of Object.entries(v.roles as Record<string, unknown>)) {
    if (!ROLES.includes(role as Role)) throw new JwtConfigError(`${where}: roles.${claim}: expected one of ${ROLES.join(', ')}`);
    roles[claim] = role as Role;
  }
  const leeway = v.leeway_s ?? 60;
  if (typeof leeway !== 'number' || !Number.isInteger(leeway) || leeway < 0 || leeway > 600) throw new JwtConfigError(`${where}: leeway_s: expected an integer 0–600`);
  let jwks: unknown;
  try {
    jwks = JSON.parse(readFileSync(jwksFile, 'utf8'));
  } catch (e) {
    throw new JwtConfigError(`${where}: jwks_file ${jwksFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message.split('\n')[0]}`);
  }
  return { issuer, audience, roleClaim, roles, nameClaim, leewaySec: leeway, keys: keysFromJwks(jwks, jwksFile) };
}

/** Reads a file holding the `oidc` mapping (YAML or JSON), for a separate OIDC config file. */
export function loadJwtConfig(file: string): JwtConfig {
  let value: unknown;
  try {
    value = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new JwtConfigError(`${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message.split('\n')[0]}`);
  }
  const inner = (value as { oidc?: unknown } | null)?.oidc ?? value;
  return parseJwtConfig(inner, file);
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function b64json(part: string): Record<string, unknown> | null {
  if (!B64URL.test(part)) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function claimAt(payload: Record<string, unknown>, path: string[]): unknown {
  let v: unknown = payload;
  for (const p of path) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

/**
 * The principal of a valid token, or null (malformed, bad signature, wrong alg/issuer/audience,
 * expired or not yet valid, or no mapped role). `nowSec` is for tests.
 */
export function verifyJwt(token: string, config: JwtConfig, nowSec = Date.now() / 1000): Principal | null {
  if (token.length > 8192) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [h, p, s] = parts;
  const header = b64json(h);
  if (header === null || !ALGS.includes(header.alg as JwtAlg) || header.crit !== undefined) return null;
  const alg = header.alg as JwtAlg;
  if (!B64URL.test(s)) return null;
  const sig = Buffer.from(s, 'base64url');
  if (alg === 'ES256' && sig.length !== 64) return null;
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  const candidates = config.keys.filter((k) => k.alg === alg && (kid === undefined || k.kid === kid));
  const data = Buffer.from(`${h}.${p}`, 'ascii');
  const ok = candidates.some((k) => {
    try {
      return alg === 'RS256' ? cryptoVerify('sha256', data, k.key, sig) : cryptoVerify('sha256', data, { key: k.key, dsaEncoding: 'ieee-p1363' }, sig);
    } catch {
      return false;
    }
  });
  if (!ok) return null;
  const c = b64json(p);
  if (c === null) return null;
  const leeway = config.leewaySec;
  if (typeof c.exp !== 'number' || !Number.isFinite(c.exp) || nowSec >= c.exp + leeway) return null;
  if (c.nbf !== undefined && (typeof c.nbf !== 'number' || nowSec < c.nbf - leeway)) return null;
  if (c.iat !== undefined && (typeof c.iat !== 'number' || c.iat > nowSec + leeway)) return null;
  if (c.iss !== config.issuer) return null;
  const aud = typeof c.aud === 'string' ? [c.aud] : Array.isArray(c.aud) ? c.aud : [];
  if (!aud.some((a) => typeof a === 'string' && config.audience.includes(a))) return null;
  const rc = claimAt(c, config.roleClaim);
  const values = typeof rc === 'string' ? [rc] : Array.isArray(rc) ? rc : [];
  let role: Role | null = null;
  for (const x of values) {
    if (typeof x !== 'string' || !Object.hasOwn(config.roles, x)) continue;
    const r = config.roles[x];
    if (role === null || ROLE_RANK[r] > ROLE_RANK[role]) role = r;
  }
  if (role === null) return null;
  const rawName = c[config.nameClaim] ?? c.sub;
  if (typeof rawName !== 'string' || rawName === '') return null;
  // The audit actor: printable, bounded, marked as coming from the identity provider.
  const name = `oidc:${rawName.replace(/[^\x21-\x7e]/g, '_').slice(0, 200)}`;
  return { name, role };
}
