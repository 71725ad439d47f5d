/**
 * A policy drafted from the demo database: accepted by `policy check`, and the same captures
 * analysed with it raise no flow-not-allowed; `policy replay` lists what a change adds and removes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/repo-root.js';

const ROOT = repoRoot();
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const POLICY = join(ROOT, 'deploy/policy.example.yaml');
/** The captures `npm run demo` analyses (package.json). */
const DEMO = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.demo as string).match(/fixtures\/corpus\/\S+\.pcap(?:ng)?/g)!.map((f) => join(ROOT, f));
const tmp = mkdtempSync(join(tmpdir(), 'muvakt-draft-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function muvakt(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function alertsOf(file: string): { rule_id: string; subject: { src_ip: string; dst_ip: string } }[] {
  return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('policy suggest and replay on the demo database', () => {
  const db = join(tmp, 'demo.db');
  const draft = join(tmp, 'suggested.yaml');
  beforeAll(() => {
    expect(DEMO.length).toBeGreaterThan(5);
    const r = muvakt(['analyze', ...DEMO, '--policy', POLICY, '--db', db, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  it('drafts a policy that policy check accepts, each line with its basis, written 0640', () => {
    const r = muvakt(['policy', 'suggest', '--db', db, '--site', 'Demo', '--out', draft]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/draft policy with \d+ zone\(s\), \d+ allowed flow\(s\)/);
    expect(statSync(draft).mode & 0o777).toBe(0o640);
    const text = readFileSync(draft, 'utf8');
    expect(text).toMatch(/^# muvakt site policy — a DRAFT/);
    // the store's zone names are kept, flows are backed by the address pairs seen
    expect(text).toMatch(/name: "MU"\n\s+kind: medical/);
    expect(text).toMatch(/# \d+ client\/server pairs? seen, e\.g\. 10\.77\./);
    expect(text).toMatch(/jump_hosts:\n\s+- "10\.77\.40\.5" # opens/);
    const check = muvakt(['policy', 'check', draft]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/valid — site "Demo"/);
  });

  it('raises no flow-not-allowed on the captures it was drafted from, where the example policy does', () => {
    const withExample = join(tmp, 'example.ndjson');
    const withDraft = join(tmp, 'draft.ndjson');
    expect(muvakt(['analyze', ...DEMO, '--policy', POLICY, '--alerts', withExample, '--quiet']).code).toBe(0);
    expect(muvakt(['analyze', ...DEMO, '--policy', draft, '--alerts', withDraft, '--quiet']).code).toBe(0);
    expect(alertsOf(withExample).filter((a) => a.rule_id === 'flow-not-allowed').length).toBeGreaterThan(0);
    expect(alertsOf(withDraft).filter((a) => a.rule_id === 'flow-not-allowed')).toEqual([]);
  }, 60_000);

  it('replay lists what a change adds and removes, against a policy file or the store', () => {
    const r = muvakt(['policy', 'replay', '--policy', draft, '--against', POLICY, ...DEMO, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { added: { rule_id: string }[]; removed: { rule_id: string; src_ip: string }[]; unchanged: number };
    expect(out.removed.length).toBeGreaterThan(0);
    expect(out.removed.every((l) => l.rule_id === 'flow-not-allowed' || l.rule_id.startsWith('remote-access'))).toBe(true);
    expect(out.unchanged).toBeGreaterThan(5);
    // Against the store the demo was analysed into: the same removals.
    const s = muvakt(['policy', 'replay', '--policy', draft, '--db', db, ...DEMO, '--json']);
    expect(s.code, s.stderr).toBe(0);
    expect((JSON.parse(s.stdout) as typeof out).removed.map((l) => l.src_ip).sort()).toEqual(out.removed.map((l) => l.src_ip).sort());
    // A stricter change: drop one allowed flow from the example and see it come back as added.
    const stricter = join(tmp, 'stricter.yaml');
    writeFileSync(stricter, readFileSync(POLICY, 'utf8').replace(/^ {2}- \{from: MU, to: clinical-servers.*\n/m, ''));
    const t = muvakt(['policy', 'replay', '--policy', stricter, '--against', POLICY, ...DEMO]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/\d+ alert\(s\) added, 0 removed/);
    expect(t.stdout).toMatch(/^\+ high\s+flow-not-allowed\s+10\.77\.10\.\d+ → 10\.77\.20\.\d+ \(MU → clinical-servers\)/m);
  }, 90_000);

  it('refuses a missing store or a replay without something to compare with (exit 2)', () => {
    expect(muvakt(['policy', 'suggest', '--db', join(tmp, 'nope.db')]).code).toBe(2);
    expect(muvakt(['policy', 'replay', '--policy', POLICY, ...DEMO]).code).toBe(2);
    expect(muvakt(['policy', 'replay', '--policy', POLICY, '--against', POLICY]).code).toBe(2);
    expect(muvakt(['policy', 'suggest', '--help']).stdout).toMatch(/^muvakt policy suggest/);
  });
});
