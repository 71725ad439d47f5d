/**
 * The officer's dashboard: one self-contained HTML page (no CDN, no external fonts) at `/` and
 * `/dashboard`. The page itself is public; everything it shows comes from `/api/v1/*` with the
 * token the officer types (kept in sessionStorage only). Its source is dashboard-ui/ (TypeScript
 * modules); `npm run build` bundles it into dist/dashboard/index.html (scripts/build-dashboard.ts).
 *
 * Content-Security-Policy: nothing but the same origin. The page's one inline <script> and one
 * inline <style> are allowed by their SHA-256 hashes (computed here from the file), never by
 * 'unsafe-inline'; fetch may reach 'self' only; no frames, forms elsewhere, plugins or base URI.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';

const HERE = dirname(fileURLToPath(import.meta.url));
/** From the build (dist/dashboard-api/routes) or from source (dashboard-api/routes, as the tests run it): the page is only ever built into dist/. */
const CANDIDATES = [join(HERE, '../../dashboard/index.html'), join(HERE, '../../dist/dashboard/index.html')];

/** The built page, or null when `npm run build` has not bundled it yet. */
export function dashboardFile(): string | null {
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/** The CSP for a page: its inline scripts and styles by hash, everything else 'self' or nothing. */
export function contentSecurityPolicy(html: string): string {
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => sha256(m[1]));
  const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => sha256(m[1]));
  return [
    "default-src 'none'",
    `script-src 'self' ${scripts.join(' ')}`.trim(),
    `style-src 'self' ${styles.join(' ')}`.trim(),
    "connect-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), usb=(), serial=()',
  'cache-control': 'no-store',
} as const;

export const dashboardRoutes: FastifyPluginAsync<{ file?: string }> = async (app, opts) => {
  const file = opts.file ?? dashboardFile();
  // The API stays useful without the page (a checkout whose build has not run): the page says why it is missing.
  const html = file === null ? null : readFileSync(file, 'utf8');
  const csp = html === null ? "default-src 'none'" : contentSecurityPolicy(html);
  for (const url of ['/', '/dashboard']) {
    app.get(url, { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => {
      if (html === null) {
        return reply.code(503).header('content-security-policy', csp).headers(SECURITY_HEADERS).type('text/plain; charset=utf-8').send(`the dashboard page is not built: run "npm run build"\n`);
      }
      return reply
        .header('content-security-policy', csp)
        .headers(SECURITY_HEADERS)
        .type('text/html; charset=utf-8')
        .send(html);
    });
  }
};
