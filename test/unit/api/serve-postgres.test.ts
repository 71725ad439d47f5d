/**
 * `muvakt serve` on PostgreSQL: two replicas over one database (the URL from MUVAKT_DB, none on
 * the command line) both answer, an acknowledgement through one is seen through the other, and
 * the audit log holds the reads of both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { serveCommand } from '../../../agent/cli/serve.js';
import { PostgresStore } from '../../../agent/store/postgres-store.js';
import { tokenHash } from '../../../dashboard-api/plugins/auth.js';
import { startPostgres, type PostgresCluster } from '../../support/postgres.js';
import { seedCandidates, tempDir, T0 } from './helpers.js';

const tmp = tempDir('muvakt-serve-pg-');
let pg: PostgresCluster;
let url = '';
beforeAll(async () => {
  pg = await startPostgres();
  url = await pg.createDatabase();
  const s = await PostgresStore.open(url, { now: () => T0 + 86_400_000 });
  await s.upsertAlerts(seedCandidates());
  await s.close();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
  tmp.cleanup();
});

async function replica(auth: string): Promise<{ base: string; stop: () => Promise<number> }> {
  const ac = new AbortController();
  let base = '';
  const done = serveCommand(['--auth', auth, '--listen', '127.0.0.1:0'], { signal: ac.signal, logger: pino({ level: 'silent' }), onListening: (u) => (base = u) });
  while (base === '') {
    const early = await Promise.race([done, new Promise((r) => setTimeout(() => r(null), 10))]);
    if (early !== null) throw new Error(`serve exited ${String(early)}`);
  }
  return { base, stop: () => (ac.abort(), done) };
}

describe('serve replicas on one PostgreSQL database', () => {
  it('both answer; an acknowledgement through A is seen through B; the audit log has both', async () => {
    const auth = join(tmp.dir, 'auth.yaml');
    writeFileSync(auth, `tokens:\n  - {name: officer-a, role: officer, sha256: ${tokenHash('tok-a')}}\n  - {name: officer-b, role: admin, sha256: ${tokenHash('tok-b')}}\n`);
    const before = process.env.MUVAKT_DB;
    process.env.MUVAKT_DB = url;
    try {
      const a = await replica(auth);
      const b = await replica(auth);
      const get = async (r: { base: string }, path: string, tok: string, init: RequestInit = {}) => {
        const res = await fetch(`${r.base}${path}`, { ...init, headers: { authorization: `Bearer ${tok}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const listA = await get(a, '/api/v1/alerts', 'tok-a');
      const listB = await get(b, '/api/v1/alerts', 'tok-b');
      expect(listA.status).toBe(200);
      expect(listB.body).toEqual(listA.body);
      const id = (listA.body.items as { id: string }[])[0].id;
      expect((await get(a, `/api/v1/alerts/${id}/ack`, 'tok-a', { method: 'POST', body: JSON.stringify({ comment: 'seen' }) })).status).toBe(200);
      const seen = await get(b, `/api/v1/alerts/${id}`, 'tok-b');
      expect(seen.body).toMatchObject({ id, status: 'acknowledged', history: [{ actor: 'officer-a', action: 'ack', comment: 'seen' }] });
      const audit = await get(b, '/api/v1/audit?limit=100', 'tok-b');
      const rows = (audit.body.items as { actor: string; action: string }[]).map((r) => `${r.actor} ${r.action}`);
      expect(rows).toEqual(expect.arrayContaining(['officer-a alerts.list', 'officer-b alerts.list', 'officer-a alerts.ack', 'officer-b alerts.get']));
      expect(await a.stop()).toBe(0);
      expect(await b.stop()).toBe(0);
    } finally {
      if (before === undefined) delete process.env.MUVAKT_DB;
      else process.env.MUVAKT_DB = before;
    }
  }, 60_000);
});
