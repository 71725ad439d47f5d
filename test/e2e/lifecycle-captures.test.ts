/**
 * Retired devices and vendor contract ends, judged by `muvakt analyze` on real bytes: the
 * jump-host capture (fixtures/rules/make.sh: Monday 2026-11-23, 15:59:50 Oslo time, the vendor
 * 192.0.2.9 logs in to the jump host 10.77.40.5 and from there opens SSH to the MR at
 * 10.77.10.40, MAC 02:77:0a:00:00:28). The example policy is changed in one line per case, so
 * each rule has a capture-and-policy that raises it and one that must not.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const CAPTURE = join(ROOT, 'fixtures/rules/vendor_via_jump_host_inside.pcap');
const EXAMPLE = readFileSync(join(ROOT, 'deploy/policy.example.yaml'), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'muvakt-lifecycle-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Alert {
  rule_id: string;
  subject: { src_ip: string; dst_ip: string };
  evidence: Record<string, unknown>;
}

let n = 0;
/** The alerts of one rule when the capture is analysed under the example policy changed by `edit`. */
function alertsUnder(rule: string, edit: (policy: string) => string): Alert[] {
  const policy = join(tmp, `policy-${++n}.yaml`);
  const changed = edit(EXAMPLE);
  expect(changed, 'the edit must change the policy').not.toBe(EXAMPLE);
  writeFileSync(policy, changed);
  const out = join(tmp, `alerts-${n}.ndjson`);
  const r = spawnSync(process.execPath, [CLI, 'analyze', CAPTURE, '--policy', policy, '--alerts', out, '--quiet'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Alert).filter((a) => a.rule_id === rule);
}

const contractEnd = (day: string) => (p: string) => p.replace(/contract_end: "2030-12-31"/, `contract_end: "${day}"`);
const retired = (entry: string) => (p: string) => p.replace(/^retired_devices:\n/m, `retired_devices:\n  - ${entry}\n`);

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
  expect(EXAMPLE).toMatch(/contract_end: "2030-12-31"/);
  expect(EXAMPLE).toMatch(/^retired_devices:\n/m);
});

describe('vendor-access-after-contract-end on a real vendor session', () => {
  it('an agreement that ended the day before the session raises it on the vendor’s leg', () => {
    const found = alertsUnder('vendor-access-after-contract-end', contractEnd('2026-11-22'));
    expect(found).toHaveLength(1);
    expect(found[0].subject).toMatchObject({ src_ip: '192.0.2.9', dst_ip: '10.77.40.5' });
    expect(found[0].evidence).toMatchObject({ vendor: 'Acme Medical service', contract_end: '2026-11-22', time_zone: 'Europe/Oslo', protocol: 'ssh' });
  });

  it('on the agreement’s last day it does not', () => {
    expect(alertsUnder('vendor-access-after-contract-end', contractEnd('2026-11-23'))).toEqual([]);
  });
});

describe('retired-device-seen on a real session to the device', () => {
  it('the MR retired by its MAC before the capture raises it, as the server of the session', () => {
    const found = alertsUnder('retired-device-seen', retired('{name: Old MR, macs: ["02:77:0a:00:00:28"], retired_on: "2026-11-01"}'));
    // (The fixture rewrote addresses only, so the jump host's frames of the vendor's leg carry this MAC too.)
    const toMr = found.find((a) => a.subject.dst_ip === '10.77.10.40');
    expect(toMr?.evidence).toMatchObject({ retired_device: 'Old MR', matched_by: 'mac', role: 'server' });
  });

  it('by its address it raises it too; retired only from the day after the capture, it does not', () => {
    const byAddress = alertsUnder('retired-device-seen', retired('{name: Old MR, addresses: [10.77.10.40], retired_on: "2026-11-01"}'));
    expect(byAddress.map((a) => a.evidence.matched_by)).toContain('address');
    expect(alertsUnder('retired-device-seen', retired('{name: Old MR, macs: ["02:77:0a:00:00:28"], addresses: [10.77.10.40], retired_on: "2026-11-24"}'))).toEqual([]);
  });
});
