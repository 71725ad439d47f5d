/**
 * The limit before authentication: every request denied with 401, 403 or 404 counts against
 * its client address, and an address that reaches `max` denials within `window_s` is locked
 * out (429 with Retry-After, for any token) for `lockout_s`, doubling with each further
 * lockout up to `max_lockout_s`. A locked address is refused before its token is looked at,
 * so the answer says nothing about whether a guess was right. Valid-token traffic keeps the
 * per-token limit of plugins/auth.ts.
 *
 * Memory is bounded: at most `MAX_CLIENTS` addresses are tracked; the one denied least
 * recently is forgotten first (counted in `forgotten`). Behind NAT one address is many users:
 * a guesser there locks them out too — the price of not answering guesses.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, globalPlugin } from './errors.js';

export interface FailureLimitConfig {
  max: number;
  window_s: number;
  lockout_s: number;
  max_lockout_s: number;
}

export const DEFAULT_FAILURE_LIMIT: FailureLimitConfig = { max: 30, window_s: 300, lockout_s: 60, max_lockout_s: 3600 };
export const MAX_CLIENTS = 100_000;
/** Status codes that count as a denied attempt. */
export const DENIED = new Set([401, 403, 404, 414]);

interface ClientFailures {
  count: number;
  windowStart: number;
  lockedUntil: number;
  /** Lockouts in a row (reset after max_lockout_s without a denial). */
  strikes: number;
  lastFailure: number;
}

export class FailureLimiter {
  private readonly clients = new Map<string, ClientFailures>();
  /** Lockouts started. */
  lockouts = 0;
  /** Addresses forgotten because the table was full. */
  forgotten = 0;

  constructor(
    readonly config: FailureLimitConfig = DEFAULT_FAILURE_LIMIT,
    private readonly now: () => number = Date.now,
    private readonly maxClients = MAX_CLIENTS,
  ) {}

  get tracked(): number {
    return this.clients.size;
  }

  /** Milliseconds until `address` may try again; 0 when it is not locked out. */
  retryAfterMs(address: string): number {
    const e = this.clients.get(address);
    if (e === undefined) return 0;
    return Math.max(0, e.lockedUntil - this.now());
  }

  /** Counts one denied request. Returns the lockout (seconds) it started, or 0. */
  fail(address: string): number {
    const now = this.now();
    const c = this.config;
    let e = this.clients.get(address);
    if (e === undefined) {
      if (this.clients.size >= this.maxClients) {
        const oldest = this.clients.keys().next().value as string;
        this.clients.delete(oldest);
        this.forgotten++;
      }
      e = { count: 0, windowStart: now, lockedUntil: 0, strikes: 0, lastFailure: now };
    } else this.clients.delete(address); // re-inserted below: the map stays ordered by last denial
    this.clients.set(address, e);
    if (now - e.windowStart >= c.window_s * 1000) {
      e.count = 0;
      e.windowStart = now;
    }
    if (now - e.lastFailure >= c.max_lockout_s * 1000) e.strikes = 0;
    e.lastFailure = now;
    if (++e.count < c.max) return 0;
    const secs = Math.min(c.lockout_s * 2 ** e.strikes, c.max_lockout_s);
    e.strikes++;
    e.count = 0;
    e.windowStart = now;
    e.lockedUntil = now + secs * 1000;
    this.lockouts++;
    return secs;
  }
}

export interface FailureLimitPluginOptions {
  limiter: FailureLimiter;
}

/** Counts a denied response; logs the start of a lockout (address and duration only). */
export function countDenied(limiter: FailureLimiter, request: FastifyRequest, statusCode: number): void {
  if (!DENIED.has(statusCode)) return;
  const secs = limiter.fail(request.ip);
  if (secs > 0) request.log.warn({ address: request.ip, lockout_s: secs }, 'address locked out after repeated denied requests');
}

export function refuseLocked(limiter: FailureLimiter, request: FastifyRequest, reply: FastifyReply): void {
  const ms = limiter.retryAfterMs(request.ip);
  if (ms === 0) return;
  const secs = Math.ceil(ms / 1000);
  void reply.header('retry-after', String(secs));
  throw new ApiError(429, `too many denied requests from this address; retry in ${secs} s`);
}

export const failureLimitPlugin = globalPlugin(async function failureLimit(app: FastifyInstance, opts: FailureLimitPluginOptions) {
  app.addHook('onRequest', async (request, reply) => refuseLocked(opts.limiter, request, reply));
  app.addHook('onResponse', async (request, reply) => countDenied(opts.limiter, request, reply.statusCode));
}, 'muvakt-failure-limit');
