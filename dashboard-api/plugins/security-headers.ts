/**
 * Headers on every response: API answers are never cached (`no-store`: alerts and audit rows
 * must not linger in a browser or proxy cache), never content-sniffed, and under TLS the
 * browser is told to keep using TLS (HSTS).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { globalPlugin } from './errors.js';

export interface SecurityHeadersOptions {
  tls: boolean;
}

export const HSTS = 'max-age=31536000';

export function setSecurityHeaders(reply: FastifyReply, tls: boolean): void {
  void reply.header('cache-control', 'no-store');
  void reply.header('x-content-type-options', 'nosniff');
  if (tls) void reply.header('strict-transport-security', HSTS);
}

export const securityHeadersPlugin = globalPlugin(async function securityHeaders(app: FastifyInstance, opts: SecurityHeadersOptions) {
  app.addHook('onSend', async (_request, reply, payload) => {
    setSecurityHeaders(reply, opts.tls);
    return payload;
  });
}, 'muvakt-security-headers');
