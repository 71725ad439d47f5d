/**
 * The remote-session log end to end: `muvakt analyze` of real-byte captures of a vendor going
 * through the jump host (fixtures/rules/make.sh: the vendor logs in at 16:59:50 Oslo time and
 * opens the device session at 17:00:10, after the window closed; the same an hour earlier),
 * into a store on each backend; `serve` over it answers the sessions and their CSV.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlowEvent } from '../../agent/events/types.js';
import { SqliteStore, type RemoteSession } from '../../agent/store/index.js';
import { tokenHash } from '../../dashboard-api/plugins/auth.js';
import { readEventsFile } from '../support/event-schemas.js';
import { startPostgres } from '../support/postgres.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const POLICY = join(ROOT, 'deploy/policy.example.yaml');
const OUTSIDE = join(ROOT, 'fixtures/rules/vendor_via_jump_host_outside.pcap');
const INSIDE = join(ROOT, 'fixtures/rules/vendor_via_jump_host_inside.pcap');
const MIDNIGHT = join(ROOT, 'fixtures/rules/vendor_via_jump_host_midnight.pcap');
const tmp = mkdtempSync(join(tmpdir(), 'muvakt-remote-sessions-'));
const TOKEN = 'remote-sessions-viewer-token-0123456789';

function muvakt(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function serve(db: string): Promise<{ proc: ChildProcess; base: string }> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--db', db, '--auth', join(tmp, 'auth.yaml'), '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
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

function stop(proc: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    proc.removeAllListeners('exit');
    proc.on('exit', (code) => resolve(code));
    proc.kill('SIGTERM');
  });
}

async function get(base: string, path: string): Promise<{ status: number; text: string }> {
  const r = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: r.status, text: await r.text() };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
  writeFileSync(join(tmp, 'auth.yaml'), `tokens:\n  - {name: soc, role: viewer, sha256: "${tokenHash(TOKEN)}"}\n`);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** What both backends must show after the outside capture. */
function checkOutside(items: RemoteSession[], flows: FlowEvent[]): void {
  expect(items).toHaveLength(2);
  const [onward, inbound] = items; // newest start first
  expect(inbound).toMatchObject({
    sensor: 'bygg3',
    protocol: 'ssh',
    encrypted: true,
    src_ip: '192.0.2.9',
    dst_ip: '10.77.40.5',
    vendor: 'Acme Medical service',
    outside_window: false, // 16:59:50 Oslo, inside 07:00–17:00
    jump_host: '10.77.40.5',
    inbound_id: null,
    path: ['192.0.2.9', '10.77.40.5'],
    ongoing: false,
  });
  expect(onward).toMatchObject({
    src_ip: '10.77.40.5',
    dst_ip: '10.77.10.40',
    zone_dst: 'MU',
    vendor: 'Acme Medical service',
    outside_window: true, // 17:00:10 Oslo
    inbound_id: inbound.id,
    path: ['192.0.2.9', '10.77.40.5', '10.77.10.40'],
    ongoing: false,
  });
  // Start, end and bytes are the flows' own.
  for (const s of items) {
    const f = flows.find((e) => e.flow.id === s.flow_id)!;
    expect(f, s.flow_id).toBeDefined();
    expect([s.bytes_toserver, s.bytes_toclient]).toEqual([Number(f.bytes_toserver), Number(f.bytes_toclient)]);
    expect(Date.parse(s.start)).toBe(Math.floor(Date.parse(String(f.start))));
    expect(Date.parse(s.end!)).toBe(Math.floor(Date.parse(String(f.end))));
    expect(s.duration_s).toBeGreaterThan(0);
  }
  // The inbound leg spans the onward one: it was open when the onward leg started, and ended after it.
  expect(Date.parse(inbound.start)).toBeLessThan(Date.parse(onward.start));
  expect(Date.parse(inbound.end!)).toBeGreaterThan(Date.parse(onward.end!));
}

describe('remote-session log: analyze captures with a jump-host path, serve the sessions', () => {
  it('SQLite: the vendor’s two legs, linked, the onward one outside the window; inside an hour earlier; the API and CSV answer them', async () => {
    const db = join(tmp, 'sessions.db');
    const events = join(tmp, 'events.ndjson');
    const r = muvakt(['analyze', OUTSIDE, '--policy', POLICY, '--db', db, '--sensor', 'bygg3', '--events', events, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const flows = readEventsFile(events).filter((e): e is FlowEvent => e.type === 'flow');
    const store = SqliteStore.open(db, { pruneOnOpen: false });
    try {
      checkOutside((await store.listRemoteSessions()).items, flows);
    } finally {
      await store.close();
    }

    expect(muvakt(['analyze', INSIDE, '--policy', POLICY, '--db', db, '--sensor', 'bygg3', '--quiet']).code).toBe(0);
    const s = await serve(db);
    try {
      const all = JSON.parse((await get(s.base, '/api/v1/remote-sessions')).text) as { items: RemoteSession[] };
      expect(all.items).toHaveLength(4);
      const outside = JSON.parse((await get(s.base, '/api/v1/remote-sessions?outside_window=true')).text) as { items: RemoteSession[] };
      expect(outside.items.map((x) => x.dst_ip)).toEqual(['10.77.10.40']);
      expect(Date.parse(outside.items[0].start)).toBeGreaterThan(Date.parse('2026-11-23T16:00:00Z')); // 17:00 Oslo
      const device = JSON.parse((await get(s.base, '/api/v1/remote-sessions?ip=10.77.10.40')).text) as { items: RemoteSession[] };
      expect(device.items.map((x) => x.outside_window)).toEqual([true, false]); // the later capture first
      const csv = await get(s.base, '/api/v1/remote-sessions.csv?vendor=Acme%20Medical%20service');
      expect(csv.status).toBe(200);
      const lines = csv.text.trimEnd().split('\r\n');
      expect(lines).toHaveLength(5);
      expect(lines[0].split(',')).toContain('outside_window');
      expect(lines.filter((l) => l.endsWith('192.0.2.9 > 10.77.40.5 > 10.77.10.40'))).toHaveLength(2);
    } finally {
      expect(await stop(s.proc)).toBe(0);
    }
  }, 60_000);

  it('across midnight: the vendor in at 23:59:50 on Friday, onward at 00:00:10 on Saturday (Oslo), judged by a night window that ends at midnight and by one that runs past it', async () => {
    const example = readFileSync(POLICY, 'utf8');
    const WINDOW = /windows: \[\{days: \[mon, tue, wed, thu, fri\], from: "07:00", to: "17:00"\}\]/;
    expect(example).toMatch(WINDOW);
    const run = async (window: string) => {
      const policy = join(tmp, `night-${window.replace(':', '')}.yaml`);
      writeFileSync(policy, example.replace(WINDOW, `windows: [{days: [fri], from: "22:00", to: "${window}"}]`));
      const db = join(tmp, `night-${window.replace(':', '')}.db`);
      const alerts = join(tmp, `night-${window.replace(':', '')}.ndjson`);
      const r = muvakt(['analyze', MIDNIGHT, '--policy', policy, '--db', db, '--sensor', 'bygg3', '--alerts', alerts, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      const store = SqliteStore.open(db, { pruneOnOpen: false });
      try {
        const [onward, inbound] = (await store.listRemoteSessions()).items;
        const rules = readFileSync(alerts, 'utf8').trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { rule_id: string }).rule_id);
        return { onward, inbound, rules };
      } finally {
        await store.close();
      }
    };
    // Friday 22:00 to midnight: the vendor logs in on time, the device session starts on Saturday, outside.
    const ends = await run('00:00');
    expect(ends.inbound).toMatchObject({ src_ip: '192.0.2.9', dst_ip: '10.77.40.5', vendor: 'Acme Medical service', outside_window: false, path: ['192.0.2.9', '10.77.40.5'] });
    expect(ends.onward).toMatchObject({ src_ip: '10.77.40.5', dst_ip: '10.77.10.40', outside_window: true, inbound_id: ends.inbound.id, path: ['192.0.2.9', '10.77.40.5', '10.77.10.40'] });
    expect(ends.onward.start.startsWith('2026-11-27T23:00:09')).toBe(true); // 00:00:09 Saturday in Oslo
    expect(ends.rules).toContain('vendor-onward-session-outside-window');
    expect(ends.rules).not.toContain('remote-access-from-external');
    // Friday 22:00 to 02:00 on Saturday: both legs inside, nothing outside the window.
    const runs = await run('02:00');
    expect([runs.inbound.outside_window, runs.onward.outside_window]).toEqual([false, false]);
    expect(runs.onward.path).toEqual(['192.0.2.9', '10.77.40.5', '10.77.10.40']);
    expect(runs.rules).not.toContain('vendor-onward-session-outside-window');
    expect(runs.rules).not.toContain('remote-access-from-external');
  }, 60_000);

  it('PostgreSQL: analyze writes the same sessions to the database, serve answers them', async () => {
    const pg = await startPostgres();
    try {
      const url = await pg.createDatabase();
      const events = join(tmp, 'pg-events.ndjson');
      const r = muvakt(['analyze', OUTSIDE, '--policy', POLICY, '--db', url, '--sensor', 'bygg3', '--events', events, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      const flows = readEventsFile(events).filter((e): e is FlowEvent => e.type === 'flow');
      const s = await serve(url);
      try {
        const page = JSON.parse((await get(s.base, '/api/v1/remote-sessions')).text) as { items: RemoteSession[] };
        checkOutside(page.items, flows);
      } finally {
        expect(await stop(s.proc)).toBe(0);
      }
    } finally {
      await pg.stop();
    }
  }, 120_000);
});
