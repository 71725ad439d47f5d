import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowEvent } from '../../agent/events/types.js';
import { SqliteStore } from '../../agent/store/index.js';
import { tokenHash } from '../../dashboard-api/plugins/auth.js';
import { readEventsFile } from '../support/event-schemas.js';
import { startPostgres } from '../support/postgres.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const POLICY = join(ROOT, 'deploy/policy.example.yaml');
const tmp = mkdtempSync(join(tmpdir(), 'muvakt-flow-history-'));
const TOKEN = 'flow-history-viewer-token-0123456789';

/** The captures `npm run demo` analyses, read from package.json so this test follows the demo. */
function demoCaptures(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const files = pkg.scripts.demo.match(/fixtures\/corpus\/\S+\.pcap(ng)?/g) ?? [];
  expect(files.length).toBeGreaterThan(3);
  return files.map((f) => join(ROOT, f));
}

function muvakt(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Served {
  proc: ChildProcess;
  base: string;
}

/** `muvakt serve` as its own process; resolves with its URL from the "API listening" log line. */
function serve(db: string, auth: string): Promise<Served> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--db', db, '--auth', auth, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    proc.stderr!.on('data', (c: Buffer) => {
      err += String(c);
      const m = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(err);
      if (m) resolve({ proc, base: m[1] });
    });
    proc.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

function stop(s: Served): Promise<number | null> {
  return new Promise((resolve) => {
    s.proc.removeAllListeners('exit');
    s.proc.on('exit', (code) => resolve(code));
    s.proc.kill('SIGTERM');
  });
}

interface Summary {
  items: { zone_src: string; zone_dst: string; app: string; encrypted: boolean; bytes: number; flows: number; phi: number }[];
  from: string | null;
  to: string | null;
  extent: { sensors: string[]; from: string | null; to: string | null; bucket_seconds: number | null };
}

async function summary(base: string, query = ''): Promise<Summary> {
  const r = await fetch(`${base}/api/v1/flows/summary${query}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(r.status).toBe(200);
  return (await r.json()) as Summary;
}

const flowBytes = (flows: FlowEvent[]) => flows.reduce((n, f) => n + Number(f.bytes_toserver) + Number(f.bytes_toclient), 0);

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
  writeFileSync(join(tmp, 'auth.yaml'), `tokens:\n  - {name: soc, role: viewer, sha256: "${tokenHash(TOKEN)}"}\n`);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('flow history: analyze into a store, serve the zone matrix from it', () => {
  it('after the demo captures, serve answers a non-empty matrix whose bytes are the bytes of every flow event, in capture time', async () => {
    const db = join(tmp, 'demo.db');
    const events = join(tmp, 'events.ndjson');
    const r = muvakt(['analyze', ...demoCaptures(), '--policy', POLICY, '--db', db, '--events', events, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const flows = readEventsFile(events).filter((e): e is FlowEvent => e.type === 'flow');
    expect(flows.length).toBeGreaterThan(5);

    const s = await serve(db, join(tmp, 'auth.yaml'));
    try {
      const all = await summary(s.base);
      expect(all.items.length).toBeGreaterThan(3);
      expect(all.items.reduce((n, i) => n + i.bytes, 0)).toBe(flowBytes(flows));
      expect(all.items.reduce((n, i) => n + i.flows, 0)).toBeGreaterThanOrEqual(flows.length);
      // The demo's cleartext DICOM and HL7 carry patient data; its TLS does not show any.
      expect(all.items.some((i) => i.app === 'dicom' && i.phi > 0)).toBe(true);
      expect(all.items.some((i) => i.app === 'hl7' && i.phi > 0)).toBe(true);
      expect(all.items.filter((i) => i.encrypted).every((i) => i.phi === 0)).toBe(true);
      // Zones from the policy, one sensor (this host), buckets in the captures' own time.
      expect(all.items.some((i) => i.zone_src === 'external' && i.zone_dst === 'MU' && i.app === 'vnc')).toBe(true);
      expect(all.extent.sensors).toHaveLength(1);
      const first = Math.min(...flows.map((f) => Date.parse(String(f.start))));
      const last = Math.max(...flows.map((f) => Date.parse(String(f.end))));
      expect(Date.parse(all.extent.from!)).toBeLessThanOrEqual(first);
      expect(Date.parse(all.extent.from!)).toBeGreaterThan(first - 300_000);
      expect(Date.parse(all.extent.to!)).toBeGreaterThan(last);
      expect(all.extent.bucket_seconds).toBe(300);

      // A range: the flows' bytes of the buckets it covers, here the last bucket only.
      const lastBucket = await summary(s.base, `?since=${encodeURIComponent(new Date(Date.parse(all.extent.to!) - 1).toISOString())}`);
      expect(lastBucket.items.length).toBeGreaterThan(0);
      expect(lastBucket.items.reduce((n, i) => n + i.bytes, 0)).toBeLessThan(flowBytes(flows));
      expect((await summary(s.base, `?sensor=${all.extent.sensors[0]}`)).items).toEqual(all.items);
      expect((await summary(s.base, '?sensor=another-sensor')).items).toEqual([]);
    } finally {
      expect(await stop(s)).toBe(0);
    }
  });

  it('a second analysis of the same captures into the same store adds to the same buckets (upsert-add)', async () => {
    const db = join(tmp, 'twice.db');
    const file = demoCaptures().find((f) => f.includes('02_dicom'))!;
    const matrix = async (p: string) => {
      const store = SqliteStore.open(p, { pruneOnOpen: false });
      try {
        return (await store.flowMatrix()).items;
      } finally {
        await store.close();
      }
    };
    expect(muvakt(['analyze', file, '--policy', POLICY, '--db', db, '--quiet']).code).toBe(0);
    const b = await matrix(db);
    expect(muvakt(['analyze', file, '--policy', POLICY, '--db', db, '--quiet']).code).toBe(0);
    const a = await matrix(db);
    expect(b.length).toBeGreaterThan(0);
    expect(a.map((i) => ({ ...i, bytes: i.bytes / 2, flows: i.flows / 2, phi: i.phi / 2 }))).toEqual(b);
  });

  it('on PostgreSQL: analyze writes the flow history to the database, serve over the same URL answers a matrix with every flow byte', async () => {
    const pg = await startPostgres();
    try {
      const url = await pg.createDatabase();
      const events = join(tmp, 'pg-events.ndjson');
      const file = demoCaptures().find((f) => f.includes('25_dicom_hl7'))!;
      const r = muvakt(['analyze', file, '--policy', POLICY, '--db', url, '--events', events, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      const flows = readEventsFile(events).filter((e): e is FlowEvent => e.type === 'flow');
      const s = await serve(url, join(tmp, 'auth.yaml'));
      try {
        const all = await summary(s.base);
        expect(all.items.length).toBeGreaterThan(0);
        expect(all.items.reduce((n, i) => n + i.bytes, 0)).toBe(flowBytes(flows));
        expect(all.extent.bucket_seconds).toBe(300);
      } finally {
        expect(await stop(s)).toBe(0);
      }
    } finally {
      await pg.stop();
    }
  }, 120_000);
});
