import { execFileSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { apiLogSerializers } from '../../../dashboard-api/app.js';
import { DEFAULT_FAILURE_LIMIT } from '../../../dashboard-api/plugins/failure-limit.js';
import { someFnr } from '../store/helpers.js';
import { AUTH, bearer, fixture, tempDir, TOKENS } from './helpers.js';

const tmp = tempDir('muvakt-api-hard-');
afterAll(() => tmp.cleanup());

const ATTACKER = '198.51.100.66';
const OTHER = '10.77.1.20';

describe('limit before authentication', () => {
  it('locks an address out before its 700th bad-token guess, with a growing Retry-After; other addresses keep working', async () => {
    let clock = Date.parse('2026-06-01T00:00:00Z');
    const f = await fixture(tmp, { now: () => clock });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 700; i++) {
        const r = await f.app.inject({ url: '/api/v1/alerts', remoteAddress: ATTACKER, headers: { authorization: `Bearer guess-${i}-0123456789abcdef` } });
        codes.push(r.statusCode);
      }
      const first429 = codes.indexOf(429);
      expect(first429).toBeGreaterThan(0);
      expect(first429).toBeLessThan(699);
      expect(first429).toBe(DEFAULT_FAILURE_LIMIT.max);
      expect(codes.slice(first429).every((c) => c === 429)).toBe(true);

      const locked = await f.app.inject({ url: '/api/v1/alerts', remoteAddress: ATTACKER, headers: bearer('viewer') });
      expect(locked.statusCode).toBe(429); // even a right token: a locked address learns nothing
      expect(locked.json()).toMatchObject({ statusCode: 429, error: 'Too Many Requests' });
      const retry1 = Number(locked.headers['retry-after']);
      expect(retry1).toBe(DEFAULT_FAILURE_LIMIT.lockout_s);

      const ok = await f.app.inject({ url: '/api/v1/alerts', remoteAddress: OTHER, headers: bearer('viewer') });
      expect(ok.statusCode).toBe(200);

      // After the lockout, another run of failures locks for twice as long.
      clock += retry1 * 1000 + 1;
      expect((await f.app.inject({ url: '/api/v1/alerts', remoteAddress: ATTACKER, headers: bearer('viewer') })).statusCode).toBe(200);
      for (let i = 0; i < DEFAULT_FAILURE_LIMIT.max; i++) await f.app.inject({ url: '/api/v1/alerts', remoteAddress: ATTACKER, headers: { authorization: 'Bearer nope-nope-nope' } });
      const again = await f.app.inject({ url: '/api/v1/alerts', remoteAddress: ATTACKER });
      expect(again.statusCode).toBe(429);
      expect(Number(again.headers['retry-after'])).toBe(2 * retry1);
    } finally {
      await f.close();
    }
  });

  it('counts 403 and 404 as denied too; valid traffic keeps the per-token limit only', async () => {
    const f = await fixture(tmp, { auth: { ...AUTH, lockout: { max: 5, window_s: 60, lockout_s: 10, max_lockout_s: 100 } } });
    try {
      const forbidden: number[] = [];
      for (let i = 0; i < 7; i++) forbidden.push((await f.app.inject({ url: '/api/v1/audit', remoteAddress: '10.0.0.1', headers: bearer('viewer') })).statusCode);
      expect(forbidden).toEqual([403, 403, 403, 403, 403, 429, 429]);
      const missing: number[] = [];
      for (let i = 0; i < 7; i++) missing.push((await f.app.inject({ url: `/no/such/${i}`, remoteAddress: '10.0.0.2' })).statusCode);
      expect(missing).toEqual([404, 404, 404, 404, 404, 429, 429]);
      const fine: number[] = [];
      for (let i = 0; i < 20; i++) fine.push((await f.app.inject({ url: '/api/v1/alerts', remoteAddress: '10.0.0.3', headers: bearer('viewer') })).statusCode);
      expect(new Set(fine)).toEqual(new Set([200]));
    } finally {
      await f.close();
    }
  });
});

describe('audit of denied attempts', () => {
  it('writes a row for 401, 403 and reads of /policy and /metrics, without the token', async () => {
    const f = await fixture(tmp);
    const secretGuess = 'Sup3rSecretGuessToken-abcdefghijklmnop';
    try {
      expect((await f.app.inject({ url: '/api/v1/alerts', remoteAddress: OTHER, headers: { authorization: `Bearer ${secretGuess}` } })).statusCode).toBe(401);
      expect((await f.app.inject({ url: '/api/v1/audit', remoteAddress: OTHER, headers: bearer('viewer') })).statusCode).toBe(403);
      expect((await f.app.inject({ url: '/api/v1/policy', headers: bearer('viewer') })).statusCode).toBe(404); // no policy loaded: still a read
      expect((await f.app.inject({ url: '/metrics', headers: bearer('metrics') })).statusCode).toBe(200);
      const rows = (await f.store.listAudit({ limit: 100 })).items;
      const byAction = (a: string) => rows.filter((r) => r.action === a);
      expect(byAction('denied.unauthenticated')).toHaveLength(1);
      expect(byAction('denied.unauthenticated')[0]).toMatchObject({ actor: 'anonymous', role: 'none' });
      expect(JSON.stringify(byAction('denied.unauthenticated')[0].query)).toContain('/api/v1/alerts');
      expect(JSON.stringify(byAction('denied.unauthenticated')[0].query)).toContain(OTHER);
      expect(byAction('denied.forbidden')[0]).toMatchObject({ actor: 'soc-viewer', role: 'viewer' });
      expect(byAction('policy.read')[0]).toMatchObject({ actor: 'soc-viewer' });
      expect(byAction('metrics.read')[0]).toMatchObject({ actor: 'metrics-scraper', role: 'metrics' });
      const all = JSON.stringify(rows);
      // No part of any presented token: not the guess, not a real token, not 12 characters of either.
      for (const t of [secretGuess, TOKENS.viewer, TOKENS.metrics]) {
        for (let i = 0; i + 12 <= t.length; i++) expect(all).not.toContain(t.slice(i, i + 12));
      }
    } finally {
      await f.close();
    }
  });
});

describe('security headers', () => {
  it('no-store and nosniff on every kind of answer; /docs CSP without https: wildcards', async () => {
    const f = await fixture(tmp);
    try {
      const answers = [
        await f.app.inject({ url: '/api/v1/alerts', headers: bearer('viewer') }),
        await f.app.inject({ url: '/api/v1/alerts' }),
        await f.app.inject({ url: '/nothing-here' }),
        await f.app.inject({ url: '/healthz' }),
        await f.app.inject({ url: `/api/v1/alerts/${'x'.repeat(200)}` }),
        await f.app.inject({ url: '/api/v1/alerts/%G0' }),
        await f.app.inject({ url: '/docs/json' }),
        await f.app.inject({ url: '/docs/static/index.html' }),
      ];
      for (const r of answers) {
        expect(r.headers['cache-control'], `${r.statusCode} ${r.request?.url ?? ''}`).toBe('no-store');
        expect(r.headers['x-content-type-options']).toBe('nosniff');
        expect(r.headers['strict-transport-security']).toBeUndefined(); // plain HTTP
      }
      const csp = String(answers[7].headers['content-security-policy']);
      expect(csp).toContain("style-src 'self'");
      expect(csp).not.toMatch(/https:/);
      expect(csp).not.toContain('validator.swagger.io');
    } finally {
      await f.close();
    }
  });

  it('HSTS under TLS', async () => {
    const cert = join(tmp.dir, 'cert.pem');
    const key = join(tmp.dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const { readFileSync } = await import('node:fs');
    const f = await fixture(tmp, { https: { cert: readFileSync(cert), key: readFileSync(key) } });
    try {
      for (const url of ['/healthz', '/api/v1/alerts', `/api/v1/alerts/${'x'.repeat(200)}`]) {
        const r = await f.app.inject({ url });
        expect(r.headers['strict-transport-security']).toBe('max-age=31536000');
      }
    } finally {
      await f.close();
    }
  });
});

describe('patient data out of error paths', () => {
  it('a 414 or 400 for a path with a fødselsnummer answers in the documented shape with no 11-digit run, and the log holds none', async () => {
    const fnr = someFnr('140785');
    const lines: string[] = [];
    const logger = pino({ level: 'debug', serializers: apiLogSerializers }, new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }));
    const f = await fixture(tmp, { logger });
    try {
      const urls = [
        `/api/v1/alerts/${'a'.repeat(120)}${fnr}`, // 414: over the parameter length
        `/api/v1/alerts/%G0${fnr}`, // 400: bad percent-encoding
        `/api/v1/alerts/x%E0%A4%A%3${fnr.slice(0, 1)}${fnr.slice(1)}`,
        `/nothing/${fnr}`, // 404
        `/api/v1/alerts/${fnr}`, // 401
        `/api/v1/alerts/${fnr.slice(0, 6)}-${fnr.slice(6)}?q=${fnr}`,
      ];
      const codes: number[] = [];
      for (const url of urls) {
        const r = await f.app.inject({ url, remoteAddress: '10.0.0.9' });
        codes.push(r.statusCode);
        expect(r.body).not.toMatch(/\d{11}/);
        expect(Object.keys(r.json()).sort()).toEqual(['error', 'message', 'statusCode']);
      }
      expect(codes.slice(0, 5)).toEqual([414, 400, 400, 404, 401]);
      const log = lines.join('').replace(/"time":\d+/g, '"time":0').replace(/"responseTime":[\d.]+/g, '"responseTime":0'); // pino's own numbers
      expect(log).toContain('/api/v1/alerts');
      expect(log).toContain('[redacted]');
      expect(log).not.toMatch(/\d{11}/);
      expect(log).not.toContain(fnr.slice(6)); // nor the 6+5 form's tail
      const audit = JSON.stringify((await f.store.listAudit({ limit: 100 })).items);
      expect(audit).not.toMatch(/\d{11}/);
    } finally {
      await f.close();
    }
  });
});

describe('connection limits', () => {
  const open = (port: number) =>
    new Promise<Socket>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(s));
      s.on('error', reject);
    });
  const closed = (s: Socket, ms: number) =>
    new Promise<boolean>((resolve) => {
      if (s.destroyed || s.readyState === 'closed') return resolve(true);
      const t = setTimeout(() => resolve(false), ms);
      s.once('close', () => {
        clearTimeout(t);
        resolve(true);
      });
      s.on('error', () => undefined);
    });

  it('caps connections per client and in all, and closes a slow body at the request deadline', async () => {
    const f = await fixture(tmp, { connectionLimits: { maxPerClient: 3, maxConnections: 50, requestTimeoutMs: 800, idleTimeoutMs: 5000, checkIntervalMs: 100 } });
    try {
      await f.app.listen({ host: '127.0.0.1', port: 0 });
      const port = (f.app.server.address() as { port: number }).port;
      expect(f.app.server.maxConnections).toBe(50);
      expect(f.app.server.requestTimeout).toBe(800);
      const socks: Socket[] = [];
      for (let i = 0; i < 5; i++) socks.push(await open(port));
      const fates = await Promise.all(socks.map((s) => closed(s, 500)));
      expect(fates.filter(Boolean)).toHaveLength(2); // the 4th and 5th
      expect(fates.slice(0, 3)).toEqual([false, false, false]);

      // A slow body on one of the three kept: the deadline ends it (408 or a close), long before the idle timeout.
      const s = socks[0];
      let answer = '';
      s.on('data', (d) => (answer += String(d)));
      s.write(`POST /api/v1/alerts/x/ack HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKENS.officer}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`);
      const t0 = Date.now();
      expect(await closed(s, 4000)).toBe(true);
      expect(Date.now() - t0).toBeLessThan(4000);
      if (answer !== '') expect(answer).toMatch(/^HTTP\/1\.1 408/);
      for (const x of socks) x.destroy();
    } finally {
      await f.close();
    }
  });
});
