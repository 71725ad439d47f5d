/**
 * npm run bench:store -- [--file F] [--rounds N]
 *
 * `muvakt analyze FILE --policy … --db X --quiet` as the process a user runs, with the store on
 * SQLite (a fresh file) and on PostgreSQL (a fresh database in a throw-away cluster on a unix
 * socket), alternately, N rounds. Alerts, the inventory and the flow history are written to the
 * store by both. Each store is created and migrated before it is timed, as a fleet's database
 * is long before a sensor writes to it; a third run per round writes to a new PostgreSQL
 * database, its migrations included, the first start of a fleet. The paired difference per round
 * cancels the drift of a shared machine; the figures are the medians, the median paired change
 * with its quartiles, and `tcpdump -r F -w /dev/null` in the same invocation for reference.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../support/repo-root.js';
import { startPostgres } from '../support/postgres.js';
import { openStore } from '../../agent/store/open.js';

const { values } = parseArgs({ options: { file: { type: 'string', default: '/tmp/bench.pcap' }, rounds: { type: 'string', default: '7' } } });
const file = values.file!;
const rounds = Number(values.rounds);
const size = statSync(file).size;
const ROOT = repoRoot();
const CLI = join(ROOT, 'dist/agent/cli/muvakt.cjs');
const POLICY = join(ROOT, 'deploy/policy.example.yaml');

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const quartiles = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return [s[Math.floor((s.length - 1) / 4)], s[Math.ceil((3 * (s.length - 1)) / 4)]];
};

const tmp = mkdtempSync(join(tmpdir(), 'muvakt-bench-store-'));
const pg = await startPostgres({ settings: { fsync: 'on', synchronous_commit: 'on' } });
try {
  const sqlite: number[] = [];
  const postgres: number[] = [];
  const tcpdump: number[] = [];
  const change: number[] = [];
  const fresh: number[] = [];
  const freshChange: number[] = [];
  /** An empty store at the newest schema, as `analyze` finds a fleet's database. */
  const prepared = async (location: string) => (await openStore(location)).close();
  // One warm-up of each, not counted (page cache, first compile of the process).
  for (let i = -1; i < rounds; i++) {
    const db = join(tmp, `r${i}.db`);
    const url = await pg.createDatabase();
    const newUrl = await pg.createDatabase();
    await prepared(db);
    await prepared(url);
    const runSqlite = () => timed(process.execPath, [CLI, 'analyze', file, '--policy', POLICY, '--db', db, '--quiet']);
    // The URL through the environment, as a fleet deployment passes it.
    const runPg = () => timed(process.execPath, [CLI, 'analyze', file, '--policy', POLICY, '--quiet'], { ...process.env, MUVAKT_DB: url });
    const [a, b] = i % 2 === 0 ? [runSqlite(), runPg()] : (([p, s]) => [s, p])([runPg(), runSqlite()]);
    const first = timed(process.execPath, [CLI, 'analyze', file, '--policy', POLICY, '--quiet'], { ...process.env, MUVAKT_DB: newUrl });
    const ref = timed('tcpdump', ['-r', file, '-w', '/dev/null']);
    rmSync(db, { force: true });
    for (const s of ['-wal', '-shm']) rmSync(db + s, { force: true });
    if (i < 0) continue;
    sqlite.push(a);
    postgres.push(b);
    tcpdump.push(ref);
    change.push((b - a) / a);
    fresh.push(first);
    freshChange.push((first - a) / a);
  }
  const mb = size / 1e6;
  const row = (name: string, xs: number[]) => `${name.padEnd(34)} ${(median(xs) / 1000).toFixed(2).padStart(7)} s  ${(mb / (median(xs) / 1000)).toFixed(1).padStart(7)} MB/s  ${(median(tcpdump) / median(xs)).toFixed(2)}× tcpdump`;
  console.log(`muvakt store bench: ${file}, ${mb.toFixed(1)} MB, node ${process.version}, ${rounds} paired rounds (median)`);
  console.log(row('tcpdump -r -w /dev/null', tcpdump));
  console.log(row('analyze --policy --db sqlite', sqlite));
  console.log(row('analyze --policy --db postgres', postgres));
  console.log(row('analyze --policy, new postgres db', fresh));
  const pct = (xs: number[]) => {
    const [q1, q3] = quartiles(xs);
    return `${(median(xs) * 100).toFixed(1)} % (quartiles ${(q1 * 100).toFixed(1)} … ${(q3 * 100).toFixed(1)} %)`;
  };
  console.log(`postgres vs sqlite, paired change: ${pct(change)}`);
  console.log(`new postgres database (migrations included) vs sqlite: ${pct(freshChange)}`);
} finally {
  await pg.stop();
  rmSync(tmp, { recursive: true, force: true });
}
