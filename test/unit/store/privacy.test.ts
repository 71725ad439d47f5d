import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isValidFnr } from '../../../protocols/phi/fodselsnummer.js';
import { SqliteStore } from '../../../agent/store/sqlite-store.js';
import { AlertWriter } from '../../../agent/store/alert-writer.js';
import { StoreInputError } from '../../../agent/store/types.js';
import { containsFnr, redactFnr } from '../../../agent/store/values.js';
import { postgresBackend, setupBackends, sqliteBackend, type Backend } from './backends.js';
import { T0, cand, iso, someFnr, subject, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const pg = setupBackends();

const FNR = someFnr('010190'); // fødselsnummer
const DNR = someFnr('410190'); // D-nummer (day + 40)
const HNR = someFnr('014190'); // H-nummer (month + 40)
const SYN = someFnr('018190'); // synthetic (month + 80)
const SPACED = someFnr('150385');
const NUMERIC = someFnr('311299');
const TITLE = someFnr('020202');
const DEVICE = someFnr('030303');
const COMMENT = someFnr('040404');
const AUDIT = someFnr('050505');
const PLANTED = [FNR, DNR, HNR, SYN, SPACED, NUMERIC, TITLE, DEVICE, COMMENT, AUDIT];

/** Raw bytes of the database file and its WAL (if any). */
function rawFiles(path: string): Buffer {
  return Buffer.concat([path, `${path}-wal`, `${path}-journal`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
}

/** Raw bytes of every file of the PostgreSQL cluster: tables, indexes and the WAL. */
function rawCluster(dir: string): Buffer {
  const out: Buffer[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const f = join(d, name);
      const st = statSync(f);
      if (st.isDirectory()) walk(f);
      else if (st.isFile()) out.push(readFileSync(f));
    }
  };
  walk(dir);
  return Buffer.concat(out);
}

interface Raw {
  be: Backend;
  /** Everything on disk that could hold what the store wrote. */
  bytes(location: string): Promise<Buffer>;
}

const RAW: Raw[] = [
  { be: sqliteBackend, bytes: async (path) => rawFiles(path) },
  {
    be: postgresBackend,
    // A checkpoint writes the shared buffers out, so table pages are on disk beside the WAL.
    bytes: async (url) => (await postgresBackend.sql(url, 'CHECKPOINT'), rawCluster(join(pg.cluster().dir, 'data'))),
  },
];

describe('store privacy: nothing that validates as a fødselsnummer is written', () => {
  it('the planted values are valid numbers and the guard recognises every form', () => {
    for (const v of PLANTED) expect(isValidFnr(v)).toBe(true);
    expect(containsFnr(`{"note":"pid ${FNR}"}`)).toBe(true);
    expect(containsFnr(`${SPACED.slice(0, 6)} ${SPACED.slice(6)}`)).toBe(true);
    expect(containsFnr(`${SPACED.slice(0, 6)}-${SPACED.slice(6)}`)).toBe(true);
    expect(containsFnr(`x${FNR}7`)).toBe(false); // 12-digit run: accession number, not an identity
    expect(containsFnr('tel 12345678901')).toBe(isValidFnr('12345678901'));
    expect(redactFnr(`a ${FNR} b ${DNR}`)).toBe('a [redacted] b [redacted]');
  });

  it.each(RAW)('$be.name: rejects (and counts) candidates carrying one; stores the rest; the raw bytes on disk hold none', async ({ be, bytes }) => {
    const path = await be.fresh();
    const store = await be.open(path, { now: () => T0 });
    const writer = new AlertWriter(store, { timers: false });
    const planted = [
      cand(1, { evidence: { note: `PatientID=${FNR}` } }),
      cand(2, { evidence: { ids: [DNR, HNR] } }),
      cand(3, { evidence: { nested: { deep: { value: `syn:${SYN}` } } } }),
      cand(4, { evidence: { text: `pasient ${SPACED.slice(0, 6)} ${SPACED.slice(6)}` } }),
      cand(5, { evidence: { n: Number(NUMERIC) } }),
      cand(6, { title: `Leak of ${TITLE}` }),
      cand(7, { subject: { ...subject(7), device_id: `dev-${DEVICE}` } }),
    ];
    for (const c of planted) writer.write(c);
    // Clean alerts, including 11-digit runs that fail the checksum and a positive control.
    const notFnr = ['12345678901', '98765432109', '00000000000'].filter((v) => !isValidFnr(v));
    expect(notFnr.length).toBeGreaterThan(0);
    writer.write(cand(10, { evidence: { phone: notFnr[0], marker: 'CONTROL-MARKER-7f3a' } }));
    const r = await writer.flush();
    expect(r.rejected_phi).toBe(planted.length);
    expect(r.created).toHaveLength(1);
    expect(writer.stats.rejectedPhi).toBe(planted.length);

    // A repeat of a stored alert whose latest evidence carries one is refused too: the stored evidence stays clean.
    writer.write(cand(10, { ts: iso(99_000), evidence: { leaked: FNR } }));
    expect((await writer.flush()).rejected_phi).toBe(1);
    expect((await store.getAlert(r.created[0].id))!.evidence).toEqual({ phone: notFnr[0], marker: 'CONTROL-MARKER-7f3a' });

    // Officers' comments and the audit log.
    await expect(store.acknowledge(r.created[0].id, 'officer', `called about ${COMMENT}`)).rejects.toThrow(StoreInputError);
    await store.audit({ actor: 'viewer-1', role: 'viewer', action: 'alerts.list', query: { ip: '10.77.10.1', q: `search ${AUDIT}` } });
    expect(JSON.stringify((await store.listAudit()).items[0].query)).toContain('[redacted]');

    const raw = await bytes(path);
    if (be.name === 'sqlite') expect(existsSync(`${path}-wal`)).toBe(true);
    expect(raw.includes('CONTROL-MARKER-7f3a')).toBe(true); // the grep sees what is stored
    for (const v of PLANTED) {
      expect(raw.includes(v), v).toBe(false);
      expect(raw.includes(v.slice(0, 6) + ' ' + v.slice(6)), v).toBe(false);
    }
    await writer.close();
    await store.close();
    if (be.name === 'sqlite') {
      const closed = rawFiles(path);
      expect(closed.includes('CONTROL-MARKER-7f3a')).toBe(true);
      for (const v of PLANTED) expect(closed.includes(v), v).toBe(false);
    }
  }, 60_000);

  // SQLite only: PostgreSQL keeps deleted row versions until VACUUM (docs/deployment.md).
  it('SQLite: pruned alerts leave no bytes behind in the file or the WAL (secure_delete + checkpoint)', async () => {
    const path = tmp.db('prune.db');
    const day = 86_400_000;
    const store = SqliteStore.open(path, { now: () => T0 });
    await store.upsertAlerts([cand(1, { ts: iso(-400 * day), evidence: { marker: 'PRUNE-MARKER-91c2' } }), cand(2, { evidence: { marker: 'KEEP-MARKER-5d10' } })]);
    await store.audit({ actor: 'old-reader', role: 'viewer', action: 'AUDIT-MARKER-0b7e', query: {}, at: T0 - 400 * day });
    expect(rawFiles(path).includes('PRUNE-MARKER-91c2')).toBe(true);
    expect(await store.prune(T0)).toMatchObject({ alerts: 1, audit: 1 });
    const raw = rawFiles(path);
    expect(raw.includes('KEEP-MARKER-5d10')).toBe(true);
    expect(raw.includes('PRUNE-MARKER-91c2')).toBe(false);
    expect(raw.includes('AUDIT-MARKER-0b7e')).toBe(false);
    await store.close();
  });
});
