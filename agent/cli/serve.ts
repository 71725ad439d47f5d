import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { SqliteStore } from '../store/index.js';
import { loadPolicy, type Policy } from '../../rules/policy/index.js';
import { apiLogSerializers, buildApp } from '../../dashboard-api/app.js';
import { DEFAULT_LISTEN, parseListen, plainHttpRefusal } from '../../dashboard-api/listen.js';
import { storeAssets } from '../../dashboard-api/routes/assets.js';
import { AuthConfigError, EMPTY_AUTH, loadAuthConfig, type AuthConfig } from '../../dashboard-api/plugins/auth.js';
import { createLogger } from '../log.js';
import { UsageError } from './args.js';

export const SERVE_USAGE = `muvakt serve --db FILE [--policy FILE] [--auth FILE] [--listen HOST:PORT]
             [--tls-cert FILE --tls-key FILE] [--allow-plain-http]

  Serves the API (/api/v1), /metrics, /healthz, /readyz and /docs over an existing alert store.
  --db FILE          the SQLite store written by "analyze --db" or "run --db"
  --policy FILE      the site policy shown by GET /api/v1/policy (reloadable by an admin)
  --auth FILE        tokens (as SHA-256 hashes) and roles; without it every API route answers 401
  --listen HOST:PORT default ${DEFAULT_LISTEN}
  --tls-cert FILE, --tls-key FILE  PEM certificate and key: serve HTTPS (TLS 1.2+)
  --allow-plain-http plain HTTP on a non-loopback address (only behind a TLS proxy on this host)
`;

export interface ServeHooks {
  /** Stops the server like SIGTERM (tests). */
  signal?: AbortSignal;
  /** Called with the base URL once listening (tests). */
  onListening?: (url: string) => void;
  logger?: Logger;
}

function readPem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new UsageError(`--${flag}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function policyFrom(file: string): Policy {
  const r = loadPolicy(file);
  if (!r.ok) throw new Error(r.errors.map((e) => e.toString()).join('; '));
  return r.policy;
}

/** `muvakt serve`: returns the process exit code. */
export async function serveCommand(argv: string[], hooks: ServeHooks = {}): Promise<number> {
  let values: { db?: string; policy?: string; auth?: string; listen?: string; 'tls-cert'?: string; 'tls-key'?: string; 'allow-plain-http'?: boolean; help?: boolean };
  try {
    values = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        db: { type: 'string' },
        policy: { type: 'string' },
        auth: { type: 'string' },
        listen: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'allow-plain-http': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  if (!values.db) throw new UsageError('serve needs --db FILE (the alert store to serve)');
  if (!existsSync(values.db)) throw new UsageError(`--db: ${values.db} does not exist (create it with "muvakt analyze --db" or "muvakt run --db")`);
  const listen = parseListen(values.listen ?? DEFAULT_LISTEN);
  if (typeof listen === 'string') throw new UsageError(listen);
  if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) throw new UsageError('--tls-cert and --tls-key go together');
  const tls = values['tls-cert'] && values['tls-key'] ? { cert: readPem('tls-cert', values['tls-cert']), key: readPem('tls-key', values['tls-key']) } : undefined;
  const refusal = plainHttpRefusal({ host: listen.host, tls: tls !== undefined, allowPlainHttp: values['allow-plain-http'] ?? false });
  if (refusal !== null) throw new UsageError(refusal);

  let auth: AuthConfig = EMPTY_AUTH;
  if (values.auth) {
    try {
      auth = loadAuthConfig(values.auth);
    } catch (e) {
      if (e instanceof AuthConfigError) throw new UsageError(e.message);
      throw e;
    }
  }
  let policy: Policy | null = null;
  if (values.policy) {
    try {
      policy = policyFrom(values.policy);
    } catch (e) {
      throw new UsageError(`invalid policy: ${(e as Error).message}`);
    }
  }
  let store: SqliteStore;
  try {
    // Read-only: serving a store never deletes from it (retention is the writer's job: run, analyze).
    store = SqliteStore.open(values.db, { retentionDays: policy?.retention_days, pruneOnOpen: false });
  } catch (e) {
    throw new UsageError(`cannot open the store ${values.db}: ${(e as Error).message}`);
  }

  const log = (hooks.logger ?? createLogger()).child({ component: 'api' }, { serializers: apiLogSerializers });
  if (auth.tokens.length === 0) log.warn('no API tokens configured (--auth): every /api/v1 route answers 401');
  if (auth.metrics?.open) log.warn('/metrics is open without a token: listen on an address only the scraper can reach');

  const policyFile = values.policy;
  const app = await buildApp({
    store,
    auth,
    policy,
    reloadPolicy: policyFile ? () => policyFrom(policyFile) : undefined,
    logger: log,
    https: tls,
    assets: storeAssets(store),
  });
  try {
    const address = await app.listen({ host: listen.host, port: listen.port });
    log.info({ address, tls: tls !== undefined }, 'API listening');
    hooks.onListening?.(address);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    process.stderr.write(`muvakt: cannot listen on ${listen.host}:${listen.port}: ${err.code ?? err.message}\n`);
    await app.close();
    store.close();
    return 1;
  }

  let stop: () => void = () => {};
  await new Promise<void>((resolve) => {
    stop = resolve;
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    hooks.signal?.addEventListener('abort', stop, { once: true });
    if (hooks.signal?.aborted) stop();
  });
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  log.info('API stopping');
  await app.close();
  store.close();
  return 0;
}
