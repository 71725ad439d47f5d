import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const CORPUS = join(ROOT, 'fixtures/corpus');
const tmp = mkdtempSync(join(tmpdir(), 'muvakt-cli-'));

function muvakt(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('muvakt analyze', () => {
  it('a truncated capture: error names file and offset, flows before it are reported, later files still read, exit 1', () => {
    const events = join(tmp, 'trunc.ndjson');
    const r = muvakt(['analyze', join(CORPUS, '27_malformed_truncated.pcap'), join(CORPUS, '01_dicom_cecho.pcap'), '--events', events]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/27_malformed_truncated\.pcap: capture truncated: last record incomplete \(765 bytes of it present\) at byte offset 773850/);
    const flows = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.type === 'flow');
    expect(flows.map((f) => `${f.flow.src_ip}:${f.flow.src_port}`).sort()).toEqual(['10.77.10.21:33174', '10.77.10.21:33184']);
    const cut = flows.find((f) => f.flow.src_port === 33184);
    expect(cut.pkts_toserver + cut.pkts_toclient).toBe(648); // every frame before the cut except the 2 ARP
    expect(r.stdout).toMatch(/stopped early/);
  });

  it('prints a summary table: packets, bytes, flows by app, decode errors, duration, throughput', () => {
    const r = muvakt(['analyze', join(CORPUS, '25_dicom_hl7_mixed.pcapng')]);
    expect(r.code).toBe(0);
    for (const label of ['packets', 'bytes (on the wire)', 'flows', 'decode errors', 'duration', 'throughput']) expect(r.stdout).toContain(label);
    expect(r.stdout).toMatch(/^ {2}hl7\s+1$/m);
  });

  it('bad arguments exit 2 with a message', () => {
    expect(muvakt(['analyze']).code).toBe(2);
    expect(muvakt(['analyze', 'x.pcap', '--max-flows', 'lots']).stderr).toMatch(/--max-flows expects a positive integer, got "lots"/);
    expect(muvakt(['frobnicate']).code).toBe(2);
    expect(muvakt(['analyze', join(CORPUS, '01_dicom_cecho.pcap'), '--events', '/nonexistent/dir/e.ndjson']).stderr).toMatch(/cannot write events to \/nonexistent\/dir\/e\.ndjson: ENOENT/);
    const notCapture = join(tmp, 'notes.txt');
    writeFileSync(notCapture, 'patient list\n');
    const r = muvakt(['analyze', notCapture]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a pcap or pcapng file/);
  });
});

describe('privacy: planted patient data and credentials never come out', () => {
  it('no planted secret of the corpus appears in events, summary or logs', () => {
    const manifest = JSON.parse(readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8'));
    const secrets = new Set<string>();
    for (const c of manifest.captures) for (const s of c.planted_secrets) secrets.add(s);
    for (const p of manifest.identities.patients) {
      secrets.add(p.PatientName);
      secrets.add(p.fodselsnummer);
      for (const part of p.PatientName.split('^')) secrets.add(part);
    }
    for (const c of manifest.identities.credentials) {
      secrets.add(c.password);
      if (c.user) secrets.add(c.user);
    }
    expect(secrets.size).toBeGreaterThan(25);
    const events = join(tmp, 'all.ndjson');
    const files = readdirSync(CORPUS).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => join(CORPUS, f));
    const r = muvakt(['analyze', ...files, '--events', events], { MUVAKT_LOG_LEVEL: 'trace' });
    expect(r.code).toBe(1); // the truncated capture
    const out = readFileSync(events, 'utf8');
    expect(out.split('\n').length).toBeGreaterThan(50);
    const everything = out + r.stdout + r.stderr;
    const leaked = [...secrets].filter((s) => everything.toLowerCase().includes(s.toLowerCase()));
    expect(leaked).toEqual([]);
    // Patient identifiers are there as keyed pseudonyms.
    expect(out).toMatch(/"pseudonyms":\["fodselsnummer:[0-9a-f]{16}"/);
  });
});
