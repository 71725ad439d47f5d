/**
 * A throw-away PostgreSQL cluster for tests: `initdb` + `pg_ctl` of Debian's PostgreSQL 15
 * (/usr/lib/postgresql/15/bin, `postgresql` in .ci/run) as user `postgres`, under a fresh
 * temporary directory, listening only on a unix socket in that directory (no TCP port, so
 * clusters of parallel tests never clash). Never the system cluster.
 *
 *   const pg = await startPostgres();
 *   const url = await pg.createDatabase();   // a fresh database per test file or test
 *   ...
 *   await pg.stop();                          // in afterAll: stops the server, removes the directory
 *
 * `url` is `postgresql://postgres@/postgres?host=<dir>`; with `{ password }` the cluster
 * requires scram-sha-256 and the URL carries no password (pass it as PGPASSWORD or in the URL).
 * The server runs with fsync off: tests kill processes, not the machine.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export const PG_BIN = process.env.MUVAKT_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface PostgresCluster {
  /** The cluster's directory (data in `data/`, socket and log beside it). */
  readonly dir: string;
  /** Socket directory: the `host` of a unix-socket connection. */
  readonly socketDir: string;
  readonly port: number;
  /** Superuser URL of the `postgres` database (no password in it). */
  readonly url: string;
  /** URL of database `name` (same user and socket). */
  urlFor(name: string, user?: string, password?: string): string;
  /** Creates a new empty database (default: a unique name) and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Runs SQL as the superuser on `database` (default `postgres`). */
  query<T extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[], database?: string): Promise<T[]>;
  /** Stops the server (fast shutdown) without removing anything; `start()` brings it back. */
  halt(): Promise<void>;
  start(): Promise<void>;
  /** Fast stop, then start again. */
  restart(): Promise<void>;
  /** Stops the server for `ms` milliseconds in the background; the promise resolves when it is up again. */
  stopFor(ms: number): Promise<void>;
  /** Whether the server is running. */
  readonly running: boolean;
  /** Stops the server and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Require this password (scram-sha-256) for every connection; default: trust on the socket. */
  password?: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
}

/** Whether initdb is installed (for a clear skip message is NOT offered: CI installs it). */
export function postgresInstalled(): boolean {
  return existsSync(join(PG_BIN, 'initdb'));
}

function asPostgres(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  if (process.getuid?.() === 0) return run('runuser', ['-u', 'postgres', '--', cmd, ...args], { cwd: '/' });
  return run(cmd, args, { cwd: '/' });
}

let seq = 0;

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresCluster> {
  if (!postgresInstalled()) throw new Error(`PostgreSQL not found in ${PG_BIN}: install Debian's postgresql (see .ci/run)`);
  const dir = mkdtempSync(join(tmpdir(), 'muvakt-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const port = 5432;
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const initArgs = ['-D', data, '-U', 'postgres', '--encoding=UTF8', '--locale=C', '--no-sync'];
  if (options.password !== undefined) {
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, options.password + '\n', { mode: 0o600 });
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      chownSync(pwfile, uid, -1);
    }
    initArgs.push('--auth-local=scram-sha-256', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`);
  } else {
    initArgs.push('--auth-local=trust', '--auth-host=trust');
  }
  try {
    await asPostgres(join(PG_BIN, 'initdb'), initArgs);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
  }
  rmSync(join(dir, 'pwfile'), { force: true });
  const settings: Record<string, string | number> = {
    listen_addresses: "''",
    unix_socket_directories: `'${dir}'`,
    port,
    fsync: 'off',
    full_page_writes: 'off',
    shared_buffers: '32MB',
    max_connections: 100,
    ...options.settings,
  };
  const serverOpts = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
  let running = false;
  let removed = false;

  const start = async () => {
    await asPostgres(join(PG_BIN, 'pg_ctl'), ['start', '-w', '-t', '60', '-D', data, '-l', log, '-o', serverOpts]);
    running = true;
  };
  const halt = async () => {
    if (!running) return;
    running = false;
    await asPostgres(join(PG_BIN, 'pg_ctl'), ['stop', '-w', '-t', '60', '-m', 'fast', '-D', data]);
  };
  try {
    await start();
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`pg_ctl start failed: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
  }

  const urlFor = (name: string, user = 'postgres', password?: string) =>
    `postgresql://${encodeURIComponent(user)}${password !== undefined ? ':' + encodeURIComponent(password) : ''}@/${encodeURIComponent(name)}?host=${encodeURIComponent(dir)}`;

  const query = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = [], database = 'postgres'): Promise<T[]> => {
    const client = new pg.Client({ host: dir, port, user: 'postgres', database, password: options.password });
    await client.connect();
    try {
      return (await client.query<T>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };

  const cluster: PostgresCluster = {
    dir,
    socketDir: dir,
    port,
    url: urlFor('postgres'),
    urlFor,
    async createDatabase(name = `t${process.pid}_${++seq}_${Date.now().toString(36)}`) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${name}: use [a-z0-9_]`);
      await query(`CREATE DATABASE ${name}`);
      return urlFor(name);
    },
    query,
    halt,
    start,
    async restart() {
      await halt();
      await start();
    },
    async stopFor(ms: number) {
      await halt();
      await new Promise((r) => setTimeout(r, ms));
      await start();
    },
    get running() {
      return running;
    },
    async stop() {
      if (removed) return;
      try {
        await halt();
      } catch {
        // Already gone (a test killed it): the directory goes anyway.
      }
      removed = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
