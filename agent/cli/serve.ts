import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { DEFAULT_LISTEN } from '../../dashboard-api/listen.js';
import type { Policy } from '../../rules/policy/index.js';
import { createLogger } from '../log.js';
import { readPolicyFile } from '../policy-file.js';
import { openStoreAt } from '../store-file.js';
import { dbLocation, isPostgresUrl } from '../store/location.js';
import { apiSettings, policyReloader, startApi } from './api-bootstrap.js';
import { applyLogFormat, sensorOption, UsageError } from './args.js';

export const SERVE_USAGE = `muvakt serve --db FILE|URL [--sensor NAME] [--policy FILE] [--auth FILE] [--listen HOST:PORT]
             [--tls-cert FILE --tls-key FILE] [--allow-plain-http] [--log-format json|pretty]

  Serves the API (/api/v1), /metrics, /healthz, /readyz and /docs over an existing alert store.
  --db FILE|URL      the store written by "analyze --db" or "run --db": a SQLite file or a postgres:// URL
                     (default $MUVAKT_DB; put the password in PGPASSWORD or PGPASSFILE, not in the URL)
  --sensor NAME      this instance's name, written in every audit row it makes (default: the host name);
                     give each API replica on one store its own
  --policy FILE      the site policy shown by GET /api/v1/policy (reloadable by an admin)
  --auth FILE        tokens (as SHA-256 hashes) and roles; without it every API route answers 401
  --listen HOST:PORT default ${DEFAULT_LISTEN}
  --tls-cert FILE, --tls-key FILE  PEM certificate and key: serve HTTPS (TLS 1.2+)
  --allow-plain-http plain HTTP on a non-loopback address (only behind a TLS proxy on this host)
  --log-format F     json or pretty (default: pretty on a terminal, JSON otherwise)
`;

export interface ServeHooks {
  /** Stops the server like SIGTERM (tests). */
  signal?: AbortSignal;
  /** Called with the base URL once listening (tests). */
  onListening?: (url: string) => void;
  logger?: Logger;
}

/** `muvakt serve`: returns the process exit code. */
export async function serveCommand(argv: string[], hooks: ServeHooks = {}): Promise<number> {
  let values: { db?: string; sensor?: string; policy?: string; auth?: string; listen?: string; 'tls-cert'?: string; 'tls-key'?: string; 'allow-plain-http'?: boolean; 'log-format'?: string; help?: boolean };
  try {
    values = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        db: { type: 'string' },
        sensor: { type: 'string' },
        policy: { type: 'string' },
        auth: { type: 'string' },
        listen: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'allow-plain-http': { type: 'boolean', default: false },
        'log-format': { type: 'string' },
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
  applyLogFormat(values['log-format']);
  const db = dbLocation(values.db);
  if (!db) throw new UsageError('serve needs --db FILE|URL or $MUVAKT_DB (the alert store to serve)');
  if (!isPostgresUrl(db) && !existsSync(db)) throw new UsageError(`--db: ${db} does not exist (create it with "muvakt analyze --db" or "muvakt run --db")`);
  const settings = apiSettings({
    listen: values.listen ?? DEFAULT_LISTEN,
    auth: values.auth,
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    allowPlainHttp: values['allow-plain-http'],
  });
  const policy: Policy | null = values.policy ? readPolicyFile(values.policy) : null;
  // Read-only: serving a store never deletes from it (retention is the writer's job: run, analyze).
  const store = await openStoreAt(db, { retentionDays: policy?.retention_days, pruneOnOpen: false, sensor: await sensorOption(values.sensor) });
  const logger = hooks.logger ?? createLogger();
  const api = await startApi(settings, {
    store,
    policy,
    reloadPolicy: values.policy ? policyReloader(values.policy) : undefined,
    logger,
    listening: 'API listening',
  });
  if (api === null) {
    await store.close();
    return 1;
  }
  hooks.onListening?.(api.address);

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
  logger.child({ component: 'api' }).info('API stopping');
  await api.app.close();
  await store.close();
  return 0;
}
