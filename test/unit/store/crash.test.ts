/**
 * kill -9 durability, on both backends: a child process writes alerts through the compiled
 * store (dist/, built by `npm test` or `npx tsc -p tsconfig.json`) and prints "stored N" after
 * each commit. It is killed with SIGKILL mid-run; every alert it reported stored must be in the
 * store. A second run over the same store continues the same alerts: counts grow, no duplicate rows.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, setupBackends, type Backend } from './backends.js';
import { tempDir } from './helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const MODULES = ['sqlite-store', 'postgres-store', 'open', 'location', 'query', 'store', 'alert-writer', 'schema', 'pg-schema', 'values', 'types'];
const PER_BATCH = 200;
const tmp = tempDir('muvakt-crash-');
afterAll(() => tmp.cleanup());
setupBackends();

const CHILD = `
import { writeSync } from 'node:fs';
import { openStore } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/agent/store/open.js')).href)};
import { AlertWriter } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/agent/store/alert-writer.js')).href)};

const [path, maxBatches] = [process.argv[2], Number(process.argv[3])];
const store = await openStore(path);
let committed = 0;
const writer = new AlertWriter(store, {
  timers: false, maxBatch: 1e9, flushIntervalMs: 1e9, maxNewPerRulePerHour: 1e9,
  // Called after COMMIT has returned: from here on the batch must survive kill -9.
  onCommit: () => writeSync(1, 'stored ' + ++committed + '\\n'),
});
const cand = (k, ts) => ({
  rule_id: 'crash.test', title: 'crash test', severity: 'medium', guide_refs: ['LEV 6.3'],
  subject: { src_ip: '10.0.' + ((k >> 8) & 255) + '.' + (k & 255), dst_ip: '198.51.100.7', zone_src: 'mu', zone_dst: 'external', device_id: 'd' + k },
  evidence: { k, pad: 'x'.repeat(200) }, recommendation: 'none', ts,
});
for (let b = 0; b < maxBatches; b++) {
  const ts = new Date().toISOString();
  for (let j = 0; j < ${PER_BATCH}; j++) writer.write(cand(b * ${PER_BATCH} + j, ts));
  writer.write({ ...cand(-1, ts), subject: { src_ip: '10.9.9.9', dst_ip: '198.51.100.7', zone_src: 'mu', zone_dst: 'external', device_id: 'heartbeat' } });
  await writer.flush();
}
await writer.close();
await store.close();
writeSync(1, 'done\\n');
`;

interface Run {
  stored: number;
  signal: NodeJS.Signals | null;
  code: number | null;
  stderr: string;
}

/** Runs the child; with `killAfter`, SIGKILLs it once it has reported that many commits. */
function runChild(script: string, db: string, maxBatches: number, killAfter?: number): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [script, db, String(maxBatches)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let stored = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) if (l.startsWith('stored ')) stored = Number(l.slice(7));
      if (killAfter !== undefined && stored >= killAfter && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    // 'close' waits for stdout to drain: `stored` holds every line the child printed.
    child.on('close', (code, signal) => done({ stored, signal, code, stderr }));
  });
}

async function snapshot(be: Backend, db: string) {
  const one = async <T>(sql: string, ...p: unknown[]) => (await be.sql<T>(db, sql, p))[0];
  const key = 'CAST(substr(device_id, 2) AS INTEGER)';
  return {
    integrity: be.name === 'sqlite' ? (await one<{ integrity_check: string }>('PRAGMA integrity_check')).integrity_check : 'ok',
    rows: (await one<{ n: number }>("SELECT count(*) AS n FROM alerts WHERE device_id <> 'heartbeat'")).n,
    distinct: (await one<{ n: number }>('SELECT count(DISTINCT rule_id || subject) AS n FROM alerts')).n,
    all: (await one<{ n: number }>('SELECT count(*) AS n FROM alerts')).n,
    maxK: (await one<{ k: number | null }>(`SELECT max(${key}) AS k FROM alerts WHERE device_id <> 'heartbeat'`)).k ?? -1,
    heartbeat: (await one<{ count: number } | undefined>("SELECT count FROM alerts WHERE device_id = 'heartbeat'"))?.count ?? 0,
    below: async (k: number) => (await one<{ n: number }>(`SELECT count(*) AS n FROM alerts WHERE device_id <> 'heartbeat' AND ${key} < $1`, k)).n,
    countsBelow: async (k: number) => one<{ lo: number; hi: number }>(`SELECT min(count) AS lo, max(count) AS hi FROM alerts WHERE device_id <> 'heartbeat' AND ${key} < $1`, k),
  };
}

describe.each(BACKENDS)('store durability under kill -9 ($name)', (be) => {
  let script = '';
  beforeAll(() => {
    for (const m of MODULES) {
      const js = join(ROOT, `dist/agent/store/${m}.js`);
      const ts = join(ROOT, `agent/store/${m}.ts`);
      if (!existsSync(js)) throw new Error(`${js} is missing: run "npx tsc -p tsconfig.json" (npm test does)`);
      if (statSync(js).mtimeMs < statSync(ts).mtimeMs) throw new Error(`${js} is older than its source: run "npx tsc -p tsconfig.json"`);
    }
    script = join(tmp.dir, 'child.mjs');
    writeFileSync(script, CHILD);
  });

  it('every alert reported stored survives SIGKILL; a restart continues the same alerts', async () => {
    const db = be.name === 'sqlite' ? join(tmp.dir, 'crash.db') : await be.fresh();
    const first = await runChild(script, db, 1_000_000, 15);
    expect(first.signal, first.stderr).toBe('SIGKILL');
    expect(first.stored).toBeGreaterThanOrEqual(15);
    if (be.name === 'sqlite') expect(existsSync(`${db}-wal`)).toBe(true); // never closed: recovery goes through the WAL

    const s1 = await snapshot(be, db);
    expect(s1.integrity).toBe('ok');
    // Everything reported stored is there; at most the batch in flight is missing beyond it.
    const reported = first.stored * PER_BATCH;
    expect(await s1.below(reported)).toBe(reported);
    expect(s1.rows).toBeGreaterThanOrEqual(reported);
    expect(s1.rows % PER_BATCH).toBe(0); // a batch is all or nothing
    expect(s1.maxK + 1).toBe(s1.rows);
    expect(s1.heartbeat).toBe(s1.rows / PER_BATCH);
    expect(s1.distinct).toBe(s1.all);

    // Second run over the same store: the same alerts again, then a clean exit.
    const again = 5;
    const second = await runChild(script, db, again);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stored).toBe(again);
    const s2 = await snapshot(be, db);
    expect(s2.integrity).toBe('ok');
    expect(s2.rows).toBe(s1.rows); // no new rows: same ids
    expect(s2.distinct).toBe(s2.all); // no duplicates
    expect(s2.heartbeat).toBe(s1.heartbeat + again);
    expect(await s2.countsBelow(again * PER_BATCH)).toEqual({ lo: 2, hi: 2 });
    expect(await s2.countsBelow(s1.rows)).toEqual({ lo: 1, hi: 2 });
  }, 120_000);
});
