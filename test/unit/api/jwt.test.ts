import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { JwtConfigError, loadJwtConfig, parseJwtConfig, verifyJwt, type JwtConfig } from '../../../dashboard-api/plugins/jwt.js';

const NOW = 1_780_000_000;
const ISS = 'https://login.sykehus.example/realms/helse';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });

function jwt(payload: Record<string, unknown>, o: { alg?: string; kid?: string; key?: KeyObject; header?: Record<string, unknown> } = {}): string {
  const alg = o.alg ?? 'RS256';
  const head = b64({ alg, typ: 'JWT', ...(o.kid !== undefined ? { kid: o.kid } : {}), ...o.header });
  const data = `${head}.${b64(payload)}`;
  if (alg === 'none') return `${data}.`;
  const key = o.key ?? (alg === 'ES256' ? ec.privateKey : rsa.privateKey);
  const sig = alg === 'ES256' ? sign('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', Buffer.from(data), key);
  return `${data}.${sig.toString('base64url')}`;
}

const claims = (over: Record<string, unknown> = {}) => ({
  iss: ISS,
  aud: ['account', 'muvakt'],
  sub: 'f3a9c1',
  preferred_username: 'kari.sikkerhet',
  exp: NOW + 300,
  nbf: NOW - 10,
  iat: NOW - 10,
  groups: ['ansatte', 'sikkerhet'],
  ...over,
});

let dir: string;
let config: JwtConfig;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'muvakt-jwt-'));
  const jwks = {
    keys: [
      { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', use: 'sig', alg: 'RS256' },
      { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', use: 'sig' },
      { ...weak.publicKey.export({ format: 'jwk' }), kid: 'weak' },
      { ...other.publicKey.export({ format: 'jwk' }), kid: 'enc-1', use: 'enc' },
      { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
    ],
  };
  writeFileSync(join(dir, 'jwks.json'), JSON.stringify(jwks));
  writeFileSync(
    join(dir, 'oidc.yaml'),
    `oidc:\n  jwks_file: ${join(dir, 'jwks.json')}\n  issuer: ${ISS}\n  audience: muvakt\n  role_claim: groups\n  name_claim: preferred_username\n  roles: {muvakt-lesere: viewer, sikkerhet: officer, muvakt-drift: admin}\n`,
  );
  config = loadJwtConfig(join(dir, 'oidc.yaml'));
});

describe('verifyJwt', () => {
  it('accepts RS256 and ES256 tokens and maps the claim to the highest role', () => {
    expect(config.keys.map((k) => k.kid)).toEqual(['rsa-1', 'ec-1']); // weak, enc and HMAC keys skipped
    expect(verifyJwt(jwt(claims(), { kid: 'rsa-1' }), config, NOW)).toEqual({ name: 'oidc:kari.sikkerhet', role: 'officer' });
    expect(verifyJwt(jwt(claims(), { alg: 'ES256', kid: 'ec-1' }), config, NOW)).toEqual({ name: 'oidc:kari.sikkerhet', role: 'officer' });
    expect(verifyJwt(jwt(claims(), { alg: 'ES256' }), config, NOW)?.role).toBe('officer'); // no kid: any key of the alg
    expect(verifyJwt(jwt(claims({ groups: ['muvakt-lesere', 'muvakt-drift'] })), config, NOW)?.role).toBe('admin');
    expect(verifyJwt(jwt(claims({ groups: 'muvakt-lesere' })), config, NOW)?.role).toBe('viewer');
    expect(verifyJwt(jwt(claims({ aud: 'muvakt', preferred_username: undefined })), config, NOW)?.name).toBe('oidc:f3a9c1');
  });

  it('refuses tampered signatures and payloads, and unknown keys', () => {
    const t = jwt(claims());
    const [h, p, s] = t.split('.');
    const flipped = Buffer.from(s, 'base64url');
    flipped[10] ^= 1;
    expect(verifyJwt(`${h}.${p}.${flipped.toString('base64url')}`, config, NOW)).toBeNull();
    expect(verifyJwt(`${h}.${b64(claims({ groups: ['muvakt-drift'] }))}.${s}`, config, NOW)).toBeNull();
    expect(verifyJwt(jwt(claims(), { key: other.privateKey }), config, NOW)).toBeNull();
    expect(verifyJwt(jwt(claims(), { kid: 'weak', key: weak.privateKey }), config, NOW)).toBeNull();
    expect(verifyJwt(jwt(claims(), { kid: 'ec-1' }), config, NOW)).toBeNull(); // RS256 signature, EC kid
    const es = jwt(claims(), { alg: 'ES256' }).split('.');
    expect(verifyJwt(`${es[0]}.${es[1]}.${Buffer.from(es[2], 'base64url').subarray(0, 63).toString('base64url')}`, config, NOW)).toBeNull();
  });

  it('refuses alg none, HS256 with the public key as secret, and crit headers', () => {
    expect(verifyJwt(jwt(claims(), { alg: 'none' }), config, NOW)).toBeNull();
    expect(verifyJwt(jwt(claims(), { alg: 'NONE' }), config, NOW)).toBeNull();
    const data = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims())}`;
    const secret = rsa.publicKey.export({ format: 'pem', type: 'spki' });
    expect(verifyJwt(`${data}.${createHmac('sha256', secret).update(data).digest('base64url')}`, config, NOW)).toBeNull();
    expect(verifyJwt(jwt(claims(), { header: { crit: ['exp'] } }), config, NOW)).toBeNull();
  });

  it('checks exp and nbf with 60 s leeway, iss and aud', () => {
    expect(verifyJwt(jwt(claims({ exp: NOW - 30 })), config, NOW)).not.toBeNull(); // inside the leeway
    expect(verifyJwt(jwt(claims({ exp: NOW - 61 })), config, NOW)).toBeNull();
    expect(verifyJwt(jwt(claims({ exp: undefined })), config, NOW)).toBeNull();
    expect(verifyJwt(jwt(claims({ exp: String(NOW + 300) })), config, NOW)).toBeNull();
    expect(verifyJwt(jwt(claims({ nbf: NOW + 30 })), config, NOW)).not.toBeNull();
    expect(verifyJwt(jwt(claims({ nbf: NOW + 120 })), config, NOW)).toBeNull();
    expect(verifyJwt(jwt(claims({ iss: `${ISS}/` })), config, NOW)).toBeNull();
    expect(verifyJwt(jwt(claims({ aud: 'account' })), config, NOW)).toBeNull();
    expect(verifyJwt(jwt(claims({ aud: undefined })), config, NOW)).toBeNull();
    expect(verifyJwt(jwt(claims({ groups: ['ansatte'] })), config, NOW)).toBeNull(); // no mapped role
    expect(verifyJwt(jwt(claims({ groups: undefined })), config, NOW)).toBeNull();
  });

  it('refuses garbage without throwing', () => {
    for (const t of ['', 'a', 'a.b', 'a.b.c', '..', 'a.b.c.d', `${b64({ alg: 'RS256' })}.%%%.xx`, `${b64('x')}.${b64(claims())}.AA`, 'x'.repeat(9000)]) {
      expect(verifyJwt(t, config, NOW)).toBeNull();
    }
  });
});

describe('JWT config', () => {
  it('rejects bad configuration with the field named', () => {
    const base = { jwks_file: join(dir, 'jwks.json'), issuer: ISS, audience: 'muvakt', roles: { x: 'viewer' } };
    expect(parseJwtConfig(base).roleClaim).toEqual(['roles']);
    expect(() => parseJwtConfig({ ...base, roles: { x: 'root' } })).toThrow(/roles\.x: expected one of viewer, officer, admin/);
    expect(() => parseJwtConfig({ ...base, issuer: '' })).toThrow(/issuer/);
    expect(() => parseJwtConfig({ ...base, algs: ['none'] })).toThrow(/unknown key "algs"/);
    expect(() => parseJwtConfig({ ...base, jwks_file: join(dir, 'missing.json') })).toThrow(/ENOENT/);
    writeFileSync(join(dir, 'empty.json'), JSON.stringify({ keys: [{ kty: 'oct', k: 'AA' }] }));
    expect(() => parseJwtConfig({ ...base, jwks_file: join(dir, 'empty.json') })).toThrow(JwtConfigError);
  });
});

describe('OIDC tokens through the API', () => {
  it('a viewer JWT reads alerts, an officer JWT acknowledges, both audited by their IdP name', async () => {
    const { fixture, AUTH, tempDir } = await import('./helpers.js');
    const { parseAuthConfig } = await import('../../../dashboard-api/plugins/auth.js');
    const auth = { ...AUTH, oidc: { jwks_file: join(dir, 'jwks.json'), issuer: ISS, audience: 'muvakt', role_claim: 'groups', name_claim: 'preferred_username', roles: { 'muvakt-lesere': 'viewer', sikkerhet: 'officer' } } };
    parseAuthConfig(auth, 'test');
    const now = Math.floor(Date.now() / 1000);
    const live = (over: Record<string, unknown>) => claims({ exp: now + 300, nbf: now - 10, iat: now - 10, ...over });
    const g = await fixture(tempDir(), { auth: auth as never });
    try {
      const viewer = jwt(live({ groups: ['muvakt-lesere'], preferred_username: 'ola.leser' }), { kid: 'rsa-1' });
      const list = await g.app.inject({ url: '/api/v1/alerts', headers: { authorization: `Bearer ${viewer}` } });
      expect(list.statusCode).toBe(200);
      expect((await g.app.inject({ method: 'POST', url: `/api/v1/alerts/${g.ids[0]}/ack`, headers: { authorization: `Bearer ${viewer}` }, payload: {} })).statusCode).toBe(403);
      const officer = jwt(live({ groups: ['sikkerhet'], preferred_username: 'kari.sikkerhet' }), { kid: 'ec-1', alg: 'ES256' });
      expect((await g.app.inject({ method: 'POST', url: `/api/v1/alerts/${g.ids[0]}/ack`, headers: { authorization: `Bearer ${officer}` }, payload: { comment: 'sett' } })).statusCode).toBe(200);
      const expired = jwt(live({ exp: now - 3600 }), { kid: 'rsa-1' });
      expect((await g.app.inject({ url: '/api/v1/alerts', headers: { authorization: `Bearer ${expired}` } })).statusCode).toBe(401);
      const actors = (await g.store.listAudit({ limit: 100 })).items.map((a) => a.actor);
      expect(actors).toEqual(expect.arrayContaining(['oidc:ola.leser', 'oidc:kari.sikkerhet']));
    } finally {
      await g.close();
    }
  });
});
