import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuthConfigError, loadAuthConfig, parseAuthConfig, tokenHash } from '../../../dashboard-api/plugins/auth.js';
import { AUTH, TOKENS, bearer, fixture, tempDir, type Fixture } from './helpers.js';

const tmp = tempDir('muvakt-api-');
let f: Fixture;
beforeAll(async () => {
  f = await fixture(tmp);
});
afterAll(async () => {
  await f.close();
  tmp.cleanup();
});

describe('API auth: 401 and 403 per role', () => {
  const reads = ['/api/v1/alerts', '/api/v1/assets', '/api/v1/flows/summary', '/api/v1/policy'];

  it('401 without a token, with a bad token, or with a malformed header; JSON with WWW-Authenticate', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token' }, { authorization: `Basic ${TOKENS.viewer}` }, { authorization: 'Bearer' }, { authorization: `Bearer ${TOKENS.metrics}` }]) {
      for (const url of reads) {
        const r = await f.app.inject({ url, headers });
        expect(r.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(401);
        expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
        const body = r.json();
        expect(body).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.any(String) });
      }
    }
  });

  it('viewer reads; viewer cannot ack/resolve (403) or read the audit log (403)', async () => {
    for (const url of reads.slice(0, 3)) expect((await f.app.inject({ url, headers: bearer('viewer') })).statusCode).toBe(200);
    for (const action of ['ack', 'resolve']) {
      const r = await f.app.inject({ method: 'POST', url: `/api/v1/alerts/${f.ids[0]}/${action}`, headers: bearer('viewer'), payload: { comment: 'x' } });
      expect(r.statusCode).toBe(403);
      expect(r.json().message).toMatch(/viewer.*officer/);
    }
    expect((await f.app.inject({ url: '/api/v1/audit', headers: bearer('viewer') })).statusCode).toBe(403);
    expect((await f.app.inject({ url: `/api/v1/alerts/${f.ids[0]}`, headers: bearer('viewer') })).json().status).toBe('open');
  });

  it('officer may ack but not read the audit log; admin may do both', async () => {
    expect((await f.app.inject({ url: '/api/v1/audit', headers: bearer('officer') })).statusCode).toBe(403);
    expect((await f.app.inject({ url: '/api/v1/audit', headers: bearer('admin') })).statusCode).toBe(200);
    const r = await f.app.inject({ method: 'POST', url: `/api/v1/alerts/${f.ids[2]}/ack`, headers: bearer('admin'), payload: {} });
    expect(r.statusCode).toBe(200);
    expect(r.json().history.at(-1)).toMatchObject({ actor: 'ops-admin', action: 'ack' });
  });

  it('metrics token only opens /metrics, and API tokens do not open /metrics', async () => {
    expect((await f.app.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect((await f.app.inject({ url: '/metrics', headers: bearer('admin') })).statusCode).toBe(401);
    expect((await f.app.inject({ url: '/metrics', headers: bearer('metrics') })).statusCode).toBe(200);
    expect((await f.app.inject({ url: '/api/v1/metrics', headers: bearer('metrics') })).statusCode).toBe(200);
  });

  it('probes and docs are open', async () => {
    for (const url of ['/healthz', '/readyz', '/api/v1/healthz', '/docs/json']) expect((await f.app.inject({ url })).statusCode, url).toBe(200);
  });

  it('rate limit per token: 429 JSON after max, other tokens unaffected', async () => {
    const g = await fixture(tmp, { auth: { ...AUTH, rate_limit: { max: 3, window_s: 60 } } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await g.app.inject({ url: '/api/v1/alerts', headers: bearer('viewer') })).statusCode);
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      const r = await g.app.inject({ url: '/api/v1/alerts', headers: bearer('viewer') });
      expect(r.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
      expect((await g.app.inject({ url: '/api/v1/alerts', headers: bearer('officer') })).statusCode).toBe(200);
    } finally {
      await g.close();
    }
  });

  it('metrics open only when the operator says so', async () => {
    const g = await fixture(tmp, { auth: { tokens: [], metrics: { open: true } } });
    try {
      expect((await g.app.inject({ url: '/metrics' })).statusCode).toBe(200);
      expect((await g.app.inject({ url: '/api/v1/alerts' })).statusCode).toBe(401);
    } finally {
      await g.close();
    }
  });
});

describe('auth config file', () => {
  it('loads YAML and JSON; names the field of a mistake', () => {
    const y = join(tmp.dir, 'auth.yaml');
    writeFileSync(y, `tokens:\n  - {name: soc, role: viewer, sha256: ${tokenHash('a-token')}}\nmetrics: {open: true}\n`);
    expect(loadAuthConfig(y)).toEqual({ tokens: [{ name: 'soc', role: 'viewer', sha256: tokenHash('a-token') }], metrics: { open: true } });
    const j = join(tmp.dir, 'auth.json');
    writeFileSync(j, JSON.stringify({ tokens: [{ name: 'a', role: 'admin', sha256: tokenHash('b') }] }));
    expect(loadAuthConfig(j).tokens[0].role).toBe('admin');
    expect(() => loadAuthConfig(join(tmp.dir, 'missing.yaml'))).toThrow(/cannot read: ENOENT/);
  });

  it('refuses plaintext tokens, unknown roles and keys, duplicates', () => {
    const h = tokenHash('x');
    const bad: [unknown, RegExp][] = [
      [{ tokens: [{ name: 'a', role: 'viewer', sha256: 'my-secret-token' }] }, /tokens\[0\]\.sha256: expected 64 hex digits/],
      [{ tokens: [{ name: 'a', role: 'root', sha256: h }] }, /tokens\[0\]\.role/],
      [{ tokens: [{ name: 'a', role: 'viewer', sha256: h, token: 'x' }] }, /unknown key "token"/],
      [{ tokens: [{ name: 'a', role: 'viewer', sha256: h }, { name: 'a', role: 'admin', sha256: tokenHash('y') }] }, /tokens\[1\]\.name: "a" appears twice/],
      [{ tokens: [{ name: 'a', role: 'viewer', sha256: h }, { name: 'b', role: 'admin', sha256: h.toUpperCase() }] }, /listed twice/],
      [{ tokens: [{ name: 'a', role: 'viewer', sha256: h }], metrics_token_sha256: h }, /metrics_token_sha256: must differ/],
      [{ tokens: [{ name: 'a', role: 'viewer', sha256: tokenHash('') }] }, /empty token/],
      [null, /empty auth file/],
    ];
    for (const [v, re] of bad) expect(() => parseAuthConfig(v, 'auth.yaml'), JSON.stringify(v)).toThrow(re);
    expect(() => parseAuthConfig({ tokens: 3 })).toThrow(AuthConfigError);
  });
});
