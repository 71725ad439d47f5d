/**
 * Shared types of the API: the Fastify instance with the TypeBox provider, what a route
 * declares about access and audit, and the structural view of the store the API needs.
 */
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Store } from '../agent/store/index.js';

export type Role = 'viewer' | 'officer' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'officer', 'admin'];
/** viewer < officer < admin: a role may do everything the roles before it may. */
export const ROLE_RANK: Readonly<Record<Role, number>> = { viewer: 1, officer: 2, admin: 3 };

/**
 * Who may call a route: `public` (probes, docs), `metrics` (the scrape token, or open when
 * the operator says so), or the least role needed.
 */
export type Access = 'public' | 'metrics' | Role;

export interface Principal {
  /** The token's (or identity's) name: the audit log's actor. Never the token. */
  name: string;
  role: Role;
}

/** The store methods the API uses (either backend; tests can wrap a real store). */
export type ApiStore = Pick<
  Store,
  'listAlerts' | 'getAlert' | 'acknowledge' | 'resolve' | 'openCounts' | 'audit' | 'listAudit' | 'kvGet' | 'kvSet' | 'kvList' | 'isOpen' | 'flowMatrix' | 'flowHistoryExtent' | 'flowPeers' | 'listRemoteSessions'
>;

export type ApiInstance = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Required on every route: checked by plugins/auth.ts (a route without it is refused). */
    access?: Access;
    /** Audit action name (e.g. `alerts.list`): the call is written to the audit log before the handler runs. */
    audit?: string;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}
