/**
 * The API's start-up, shared by `serve` (over a store) and `run --listen` (beside a live
 * capture). With the commands, this is the composition root: the one place where agent/
 * wires in dashboard-api/. The commands load it only when they serve, so a run that serves
 * nothing never loads the web stack.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { apiLogSerializers, buildApp, type BuildAppOptions } from '../../dashboard-api/app.js';
import { parseListen, plainHttpRefusal, type ListenAddress } from '../../dashboard-api/listen.js';
import { AuthConfigError, EMPTY_AUTH, loadAuthConfig, type AuthConfig } from '../../dashboard-api/plugins/auth.js';
import { storeAssets } from '../../dashboard-api/routes/assets.js';
import type { ApiInstance } from '../../dashboard-api/types.js';
import type { Policy } from '../../rules/policy/index.js';
import { ConfigError } from '../errors.js';
import { PolicyFileError, readPolicyFile } from '../policy-file.js';
import type { Store } from '../store/index.js';
import { UsageError } from './args.js';

/** The API's command-line flags, as both commands spell them. */
export interface ApiFlags {
  listen: string;
  auth?: string;
  tlsCert?: string;
  tlsKey?: string;
  allowPlainHttp?: boolean;
}

/** Checked flags: where to listen, the TLS key pair and the tokens. */
export interface ApiSettings {
  listen: ListenAddress;
  tls?: { cert: Buffer; key: Buffer };
  auth: AuthConfig;
}

function readPem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ConfigError(`--${flag}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Checks the flags and reads the TLS pair and the auth file; UsageError/ConfigError (exit 2) on any problem. */
export function apiSettings(f: ApiFlags): ApiSettings {
  const listen = parseListen(f.listen);
  if (typeof listen === 'string') throw new UsageError(listen);
  if (Boolean(f.tlsCert) !== Boolean(f.tlsKey)) throw new UsageError('--tls-cert and --tls-key go together');
  const tls = f.tlsCert && f.tlsKey ? { cert: readPem('tls-cert', f.tlsCert), key: readPem('tls-key', f.tlsKey) } : undefined;
  const refusal = plainHttpRefusal({ host: listen.host, tls: tls !== undefined, allowPlainHttp: f.allowPlainHttp ?? false });
  if (refusal !== null) throw new UsageError(refusal);
  let auth: AuthConfig = EMPTY_AUTH;
  if (f.auth) {
    try {
      auth = loadAuthConfig(f.auth);
    } catch (e) {
      if (e instanceof AuthConfigError) throw new ConfigError(e.message);
      throw e;
    }
  }
  return { listen, tls, auth };
}

/** A reload for POST /policy/reload: the API answers 422 with the problems on one line. */
export function policyReloader(file: string): () => Policy {
  return () => {
    try {
      return readPolicyFile(file);
    } catch (e) {
      throw e instanceof PolicyFileError ? new Error(e.problems.join('; ')) : e;
    }
  };
}

export interface ApiStart extends Pick<BuildAppOptions, 'reloadPolicy' | 'metrics' | 'captureAlive'> {
  store: Store;
  policy: Policy | null;
  logger: Logger;
  /** The log line once listening. */
  listening: string;
}

/**
 * Builds the API and listens. A failed listen (address in use, not on this host, no permission)
 * is a runtime failure: the reason goes to stderr, the app is closed and null is returned, so
 * the command ends with exit 1 after closing what it opened.
 */
export async function startApi(s: ApiSettings, o: ApiStart): Promise<{ app: ApiInstance; address: string } | null> {
  const log = o.logger.child({ component: 'api' }, { serializers: apiLogSerializers });
  if (s.auth.tokens.length === 0) log.warn('no API tokens configured (--auth): every /api/v1 route answers 401');
  if (s.auth.metrics?.open) log.warn('/metrics is open without a token: listen on an address only the scraper can reach');
  const app = await buildApp({
    store: o.store,
    auth: s.auth,
    policy: o.policy,
    reloadPolicy: o.reloadPolicy,
    logger: log,
    https: s.tls,
    assets: storeAssets(o.store),
    metrics: o.metrics,
    captureAlive: o.captureAlive,
  });
  try {
    const address = await app.listen({ host: s.listen.host, port: s.listen.port });
    log.info({ address, tls: s.tls !== undefined }, o.listening);
    return { app, address };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`muvakt: cannot listen on ${s.listen.host}:${s.listen.port}: ${err.code ?? err.message}\n`);
    await app.close();
    return null;
  }
}
