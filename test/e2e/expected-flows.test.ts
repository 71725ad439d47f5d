/**
 * expected-flow-missing end to end on real bytes: `muvakt analyze` of the jump-host capture
 * (fixtures/rules/make.sh: the vendor's SSH to the jump host opens, is quiet for 20 s while the
 * onward session runs, and closes 30 s in) under a policy that expects the vendor's session at
 * least every 5 s and log forwarding that never comes. Judged on capture time: the run takes
 * far less than the capture's 30 s.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../agent/store/index.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const CAPTURE = join(ROOT, 'fixtures/rules/vendor_via_jump_host_outside.pcap');
const tmp = mkdtempSync(join(tmpdir(), 'muvakt-expected-flows-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('expected flows: analyze a capture with a gap, under a policy that expects the flow', () => {
  it('the flow silent past its limit is raised, and resolved by the sensor when it is seen again; a flow never seen stays open', async () => {
    if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
    // The example policy with its own expected flows replaced by two for this capture.
    const example = readFileSync(join(ROOT, 'deploy/policy.example.yaml'), 'utf8');
    const policy = join(tmp, 'policy.yaml');
    writeFileSync(
      policy,
      example.replace(
        /^expected_flows:\n(?:  .*\n)+/m,
        'expected_flows:\n  - {name: Vendor session, from: 192.0.2.9, to: 10.77.40.5, apps: [ssh], max_silence_s: 5}\n  - {name: Jump host logs, from: 10.77.40.5, to: clinical-servers, apps: [syslog], max_silence_s: 10}\n',
      ),
    );
    const db = join(tmp, 'store.db');
    const r = spawnSync(process.execPath, [CLI, 'analyze', CAPTURE, '--policy', policy, '--db', db, '--quiet'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const store = SqliteStore.open(db, { pruneOnOpen: false });
    try {
      const alerts = (await store.listAlerts({ rule_id: 'expected-flow-missing' })).items;
      const byName = new Map(alerts.map((a) => [String(a.evidence.expected_flow), a]));
      expect([...byName.keys()].sort()).toEqual(['Jump host logs', 'Vendor session']);
      const vendor = (await store.getAlert(byName.get('Vendor session')!.id))!;
      expect(vendor.status).toBe('resolved');
      expect(vendor.history.map((h) => [h.actor, h.action])).toEqual([['muvakt', 'resolve']]);
      expect(vendor.evidence).toMatchObject({ never_seen: false, max_silence_s: 5 });
      // Raised in capture time (16:00 UTC on the capture's day), not at the time of the run.
      expect(vendor.first_seen.startsWith('2026-11-23T16:00')).toBe(true);
      const logs = byName.get('Jump host logs')!;
      expect([logs.status, logs.evidence.never_seen]).toEqual(['open', true]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
