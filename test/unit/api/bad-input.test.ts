import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, bearer, fixture, tempDir, type Fixture } from './helpers.js';
import { someFnr } from '../store/helpers.js';

const tmp = tempDir('muvakt-api-');
let f: Fixture;
beforeAll(async () => {
  f = await fixture(tmp, { auth: { ...AUTH, rate_limit: { max: 100_000, window_s: 60 } } });
});
afterAll(async () => {
  await f.close();
  tmp.cleanup();
});

function expectError(r: { statusCode: number; json: () => any }, code: number, msg?: RegExp) {
  expect(r.statusCode).toBe(code);
  const b = r.json();
  expect(Object.keys(b).sort()).toEqual(['error', 'message', 'statusCode']);
  expect(b.statusCode).toBe(code);
  if (msg) expect(b.message).toMatch(msg);
}

describe('bad input is a 400 with a clear message, never a 500', () => {
  it('bad filters', async () => {
    const cases: [string, RegExp][] = [
      ['severity=urgent', /severity.*expected one of low, medium, high, critical/],
      ['status=closed', /status.*expected one of open, acknowledged, resolved/],
      ['sort=random', /sort.*expected one of last_seen, severity/],
      ['limit=0', /limit/],
      ['limit=1001', /limit/],
      ['limit=abc', /limit.*integer/],
      ['limit=1.5', /limit/],
      ['since=yesterday', /since: expected an ISO 8601 time/],
      ['until=2026-13-45T99:00:00Z', /until: expected an ISO 8601 time/],
      ['ip=10.0.0.1%27%20OR%201%3D1', /ip/],
      ['rule_id=a%3Bdrop%20table%20alerts', /rule_id/],
      ['zone=' + 'x'.repeat(200), /zone/],
      ['severty=high', /query parameter "severty" is not known/],
      ['severity=' + Array(30).fill('high').join('&severity='), /severity/],
    ];
    for (const [q, re] of cases) expectError(await f.app.inject({ url: `/api/v1/alerts?${q}`, headers: bearer('viewer') }), 400, re);
  });

  it('bad cursors', async () => {
    for (const c of ['garbage', 'eyJxIjoiYSJ9', Buffer.from('{"q":"x","k":[1,"a"]}').toString('base64url'), '%00%01', 'a'.repeat(600), '../../etc/passwd']) {
      const r = await f.app.inject({ url: `/api/v1/alerts?cursor=${encodeURIComponent(c)}`, headers: bearer('viewer') });
      expectError(r, 400, /cursor/);
    }
  });

  it('bad ids', async () => {
    for (const id of ['nope', 'A'.repeat(32), '0'.repeat(31), '0'.repeat(33), '%27%20OR%201%3D1', '..%2F..%2Fetc%2Fpasswd']) {
      expectError(await f.app.inject({ url: `/api/v1/alerts/${id}`, headers: bearer('viewer') }), 400, /path parameter id/);
      expectError(await f.app.inject({ method: 'POST', url: `/api/v1/alerts/${id}/ack`, headers: bearer('officer'), payload: {} }), 400, /path parameter id/);
    }
  });

  it('bad bodies: broken JSON, wrong types, unknown fields, oversized comments, patient identifiers', async () => {
    const url = `/api/v1/alerts/${f.ids[0]}/ack`;
    const h = { ...bearer('officer'), 'content-type': 'application/json' };
    expectError(await f.app.inject({ method: 'POST', url, headers: h, payload: '{"comment": ' }), 400, /JSON/);
    expectError(await f.app.inject({ method: 'POST', url, headers: h, payload: '[1,2]' }), 400, /body/);
    expectError(await f.app.inject({ method: 'POST', url, headers: h, payload: '"text"' }), 400, /body/);
    expectError(await f.app.inject({ method: 'POST', url, headers: h, payload: { comment: 42 } }), 400, /comment.*string/);
    expectError(await f.app.inject({ method: 'POST', url, headers: h, payload: { comment: 'ok', status: 'resolved' } }), 400, /body "status" is not known/);
    expectError(await f.app.inject({ method: 'POST', url, headers: h, payload: { comment: 'x'.repeat(2001) } }), 400, /comment.*2000/);
    expectError(await f.app.inject({ method: 'POST', url, headers: h, payload: { comment: 'x'.repeat(20_000) } }), 413);
    expectError(await f.app.inject({ method: 'POST', url, headers: { ...bearer('officer'), 'content-type': 'text/plain' }, payload: 'hello' }), 400, /body/);
    const fnr = someFnr('010170');
    const r = await f.app.inject({ method: 'POST', url, headers: h, payload: { comment: `pasient ${fnr}` } });
    expectError(r, 400, /fødselsnummer/);
    expect(r.body).not.toContain(fnr);
    // none of that changed the alert
    expect((await f.store.getAlert(f.ids[0]))!.status).toBe('open');
  });

  it('unknown routes and methods are JSON 404s', async () => {
    expectError(await f.app.inject({ url: '/api/v1/nothing', headers: bearer('viewer') }), 404);
    expectError(await f.app.inject({ method: 'DELETE', url: `/api/v1/alerts/${f.ids[0]}`, headers: bearer('admin') }), 404);
  });

  it('1,000 hostile queries give no 500 and never echo a fødselsnummer', async () => {
    const fnr = someFnr('311299');
    const nasty = [
      "'", '"', ';', '--', "' OR '1'='1", '%00', '../../../../etc/passwd', '..\\..\\windows', '<script>alert(1)</script>', '${jndi:ldap://x}',
      '😀', 'ø'.repeat(300), '\u202e', '-1', '1e309', 'NaN', '9'.repeat(40), '[]', '{}', 'null', fnr, `${fnr.slice(0, 6)} ${fnr.slice(6)}`,
    ];
    const params = ['severity', 'rule_id', 'status', 'zone', 'ip', 'since', 'until', 'limit', 'cursor', 'sort', fnr, '__proto__', 'constructor'];
    const paths = ['/api/v1/alerts', '/api/v1/assets', '/api/v1/audit', '/api/v1/flows/summary', '/api/v1/alerts/', '/api/v1/assets/'];
    let n = 0;
    const codes = new Map<number, number>();
    for (let i = 0; n < 1000; i++) {
      const v = nasty[i % nasty.length];
      const p = params[(i * 7) % params.length];
      const base = paths[(i * 3) % paths.length];
      const url = base.endsWith('/') ? `${base}${encodeURIComponent(v)}` : `${base}?${encodeURIComponent(p)}=${encodeURIComponent(v)}&limit=${i % 2 ? '5' : '99999'}`;
      const r = await f.app.inject({ url, headers: bearer('admin') });
      n++;
      codes.set(r.statusCode, (codes.get(r.statusCode) ?? 0) + 1);
      expect(r.statusCode, url).toBeLessThan(500);
      expect(r.body, url).not.toContain(fnr);
      expect(() => r.json()).not.toThrow();
    }
    expect(codes.get(400)).toBeGreaterThan(300);
  });
});
