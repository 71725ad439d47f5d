import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { serveCommand } from '../../agent/cli/serve.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEventsFile } from '../support/event-schemas.js';
import type { FlowEvent } from '../../agent/events/types.js';

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

describe('old captures in a store', () => {
  it('alerts of a capture dated two years back survive a second analyze and serve opening the store; the store is 0600', async () => {
    const old = join(tmp, 'two-years-back.pcap');
    const shift = spawnSync('editcap', ['-t', String(-730 * 86_400), join(CORPUS, '09_hl7_nack_ae_ar.pcap'), old], { encoding: 'utf8' });
    expect(shift.status, shift.stderr).toBe(0);
    const db = join(tmp, 'old.db');
    const args = ['analyze', old, '--policy', join(ROOT, 'deploy/policy.example.yaml'), '--db', db, '--quiet'];
    const count = () => {
      const d = new Database(db, { readonly: true });
      try {
        return d.prepare('SELECT count(*) AS n, max(last_seen) AS last FROM alerts').get() as { n: number; last: string };
      } finally {
        d.close();
      }
    };
    expect(muvakt(args).code).toBe(0);
    const first = count();
    expect(first.n).toBeGreaterThan(0);
    expect(Date.parse(first.last)).toBeLessThan(Date.now() - 700 * 86_400_000);
    expect(muvakt(args).code).toBe(0); // a second run opens (and prunes) the store: nothing of it is older than 180 days before its newest alert
    expect(count().n).toBe(first.n);

    const ac = new AbortController();
    let url = '';
    const done = serveCommand(['--db', db, '--listen', '127.0.0.1:0'], { signal: ac.signal, logger: pino({ level: 'silent' }), onListening: (u) => (url = u) });
    while (url === '') await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    expect(await done).toBe(0);
    expect(count().n).toBe(first.n);
    expect((statSync(db).mode & 0o777).toString(8)).toBe('600');
  });
});

describe('muvakt analyze', () => {
  it('a second run into the same store continues the same alerts: counts grow, no duplicates', () => {
    const db = join(tmp, 'twice.db');
    const args = ['analyze', join(CORPUS, '09_hl7_nack_ae_ar.pcap'), '--policy', join(ROOT, 'deploy/policy.example.yaml'), '--db', db, '--alerts', '-', '--quiet'];
    const first = muvakt(args).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const second = muvakt(args).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(second.map((a) => a.id).sort()).toEqual(first.map((a) => a.id).sort());
    for (const a of second) expect(a.count).toBe(2 * first.find((b) => b.id === a.id).count);
  });

  it('a bad policy stops with its located errors and exit 2', () => {
    const bad = join(tmp, 'bad.yaml');
    writeFileSync(bad, 'site: X\nzones:\n  - {name: mu, kind: medical, cidrs: [10.0.0.0/33]}\n');
    const r = muvakt(['analyze', join(CORPUS, '01_dicom_cecho.pcap'), '--policy', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:3:39: zones[0].cidrs[0]: "10.0.0.0/33" is not a CIDR`);
    expect(muvakt(['policy', 'check', bad]).code).toBe(2);
    expect(muvakt(['policy', 'check', join(ROOT, 'deploy/policy.example.yaml')]).code).toBe(0);
  });

  it('a truncated capture: error names file and offset, flows before it are reported, later files still read, exit 1', () => {
    const events = join(tmp, 'trunc.ndjson');
    const r = muvakt(['analyze', join(CORPUS, '27_malformed_truncated.pcap'), join(CORPUS, '01_dicom_cecho.pcap'), '--events', events]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/27_malformed_truncated\.pcap: capture truncated: last record incomplete \(765 bytes of it present\) at byte offset 773850/);
    const flows = readEventsFile(events).filter((e): e is FlowEvent => e.type === 'flow');
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
    const alerts = join(tmp, 'alerts.ndjson');
    const db = join(tmp, 'store.db');
    const files = readdirSync(CORPUS).filter((f) => /\.pcap(ng)?$/.test(f)).map((f) => join(CORPUS, f));
    const r = muvakt(['analyze', ...files, '--events', events, '--policy', join(ROOT, 'deploy/policy.example.yaml'), '--db', db, '--alerts', alerts], { MUVAKT_LOG_LEVEL: 'trace' });
    expect(r.code).toBe(1); // the truncated capture
    const out = readFileSync(events, 'utf8');
    expect(readEventsFile(events).length).toBeGreaterThan(50);
    expect(readFileSync(alerts, 'utf8').split('\n').length).toBeGreaterThan(20);
    // The raw bytes of the store (and its WAL, if any), not what SQL would show.
    const raw = [db, `${db}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f).toString('latin1')).join('');
    expect(raw.length).toBeGreaterThan(4096);
    // Capture 12's device really serves its admin page at the path /admin/ — a URL fact, not the
    // planted username "admin" (which must appear nowhere else).
    const everything = (out + readFileSync(alerts, 'utf8') + raw + r.stdout + r.stderr).replaceAll('"url":"/admin/"', '"url":"/"');
    // Long secrets anywhere, in any case; short ones ("admin", "OLA") as whole words, as written,
    // so the English of a recommendation ("administrative", "Isolate") is not taken for a leak.
    const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const leaked = [...secrets].filter((s) =>
      s.length >= 6 ? everything.toLowerCase().includes(s.toLowerCase()) : new RegExp(`(^|[^A-Za-z0-9])${escape(s)}([^A-Za-z0-9]|$)`).test(everything),
    );
    expect(leaked).toEqual([]);
    // Patient identifiers are there as keyed pseudonyms.
    expect(out).toMatch(/"pseudonyms":\["fodselsnummer:[0-9a-f]{16}"/);
  });
});

describe('CLI papercuts', () => {
  const policy = join(ROOT, 'deploy/policy.example.yaml');
  const captures = ['05_dicom_user_identity.pcap', '14_vnc_from_external.pcap', '17_tls10_weak_vendor.pcap', '19_callhome_http_phi.pcap', '20_segmentation_mu_to_office_http.pcap'].map((f) => join(CORPUS, f));
  const cmd = `"${process.execPath}" "${CLI}" analyze ${captures.map((c) => `"${c}"`).join(' ')} --policy "${policy}"`;
  const bash = (script: string) => spawnSync('bash', ['-c', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

  it('alerts on stdout go through real pipes: | head -1 and a reader that never reads exit 0 quietly, | jq . parses', () => {
    const head = bash(`set -o pipefail; ${cmd} --alerts - | head -1; echo "status:\${PIPESTATUS[*]}"`);
    expect(head.stdout).toMatch(/^\{.*\}\nstatus:0 0\n$/);
    expect(head.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
    // `true` exits before muvakt writes: the write meets a closed pipe for certain.
    const closed = bash(`${cmd} --alerts - | true; echo "status:\${PIPESTATUS[*]}"`);
    expect(closed.stdout).toBe('status:0 0\n');
    expect(closed.stderr).not.toMatch(/EPIPE|Error|\n\s+at /);
    const events = bash(`${cmd} --events - | head -1; echo "status:\${PIPESTATUS[*]}"`);
    expect(events.stdout).toMatch(/\nstatus:0 0\n$/);
    const jq = bash(`set -o pipefail; ${cmd} --alerts - | jq -c .`);
    expect(jq.status, jq.stderr).toBe(0);
    const docs = jq.stdout.trim().split('\n').map((l) => JSON.parse(l) as { rule_id: string });
    expect(docs.length).toBeGreaterThan(5);
    expect(docs.every((d) => typeof d.rule_id === 'string')).toBe(true);
    // The summary went to stderr.
    expect(jq.stderr).toMatch(/alerts/);
  });

  // Root without CAP_NET_RAW/CAP_NET_ADMIN in the bounding set: tcpdump cannot open a socket.
  const noCaps = ['setpriv', '--bounding-set', '-net_raw,-net_admin', process.execPath, CLI, 'run', '--interface', 'lo'];

  it('run without CAP_NET_RAW names the capabilities and the ways to grant them; without --policy it warns once', () => {
    const r = spawnSync(noCaps[0], noCaps.slice(1), { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Operation not permitted');
    expect(r.stderr).toContain('CAP_NET_RAW and CAP_NET_ADMIN');
    expect(r.stderr).toContain('setcap cap_net_raw,cap_net_admin=eip');
    expect(r.stderr).toContain('deploy/muvakt-sensor.service');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // Not a terminal: JSON log lines; the no-policy warning once, at warn.
    const warnings = r.stderr.split('\n').filter((l) => l.includes('no --policy'));
    expect(warnings.length).toBe(1);
    expect(JSON.parse(warnings[0])).toMatchObject({ level: 40, name: 'muvakt' });
  });

  it('logs are pretty on a terminal and with --log-format pretty, JSON with --log-format json', () => {
    const pretty = spawnSync(noCaps[0], [...noCaps.slice(1), '--log-format', 'pretty'], { encoding: 'utf8', timeout: 30_000 });
    expect(pretty.stderr).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN  no --policy: nothing is judged/m);
    expect(pretty.stderr).not.toMatch(/"level":/);
    // A real terminal (script(1) gives the command a pty): pretty without asking.
    const tty = spawnSync('script', ['-qec', noCaps.map((a) => `'${a}'`).join(' '), '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(tty.stdout).toMatch(/\d\d:\d\d:\d\d\.\d{3} \S*WARN\S* +no --policy/);
    expect(tty.stdout).not.toMatch(/"level":40/);
    const json = spawnSync('script', ['-qec', [...noCaps, '--log-format', 'json'].map((a) => `'${a}'`).join(' '), '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(json.stdout).toMatch(/\{"level":40,.*"msg":"no --policy/);
    const bad = muvakt(['analyze', captures[0], '--log-format', 'fancy']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--log-format expects json or pretty, got "fancy"');
  });

  it('SIEM options are checked before anything runs', () => {
    const fmt = muvakt(['analyze', captures[0], '--policy', policy, '--syslog', '127.0.0.1:6514', '--syslog-format', 'leef']);
    expect(fmt.code).toBe(2);
    expect(fmt.stderr).toContain('--syslog-format: expected one of rfc5424, cef, ecs, got "leef"');
    const lone = muvakt(['analyze', captures[0], '--policy', policy, '--syslog-format', 'cef']);
    expect(lone.code).toBe(2);
    expect(lone.stderr).toContain('--syslog-format needs --syslog HOST:PORT');
    const addr = muvakt(['analyze', captures[0], '--policy', policy, '--syslog', 'siem']);
    expect(addr.code).toBe(2);
    expect(addr.stderr).toContain('--syslog expects HOST:PORT');
  });

  it('npm run demo starts its database afresh: a second run gives the same alerts and counts, not double', () => {
    // The demo script as package.json has it, after its build, writing a database in this test's directory.
    const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { demo: string } }).scripts.demo;
    expect(script.startsWith('npm run build --silent && ')).toBe(true);
    const db = join(tmp, 'demo-twice.db');
    const demo = script.slice('npm run build --silent && '.length).replaceAll('muvakt-demo.db', db);
    const node = process.execPath.slice(0, process.execPath.lastIndexOf('/'));
    const run = () => {
      const r = bash(`cd "${ROOT}" && PATH="${node}:$PATH" ${demo} > /dev/null`);
      expect(r.status, r.stderr).toBe(0);
      const store = new Database(db, { readonly: true });
      try {
        return store.prepare('SELECT id, count FROM alerts ORDER BY id').all() as { id: string; count: number }[];
      } finally {
        store.close();
      }
    };
    const first = run();
    expect(first.length).toBeGreaterThan(5);
    expect(run()).toEqual(first);
  });

  it('policy check reports every problem in one round, YAML errors where they are', () => {
    const bad = join(tmp, 'bad-policy.yaml');
    writeFileSync(bad, 'site: t\nzones:\n  - {name: a, kind: medicl, cidrs: [10.0.0.0/24]}\n  - {name: b, kind: office, cidrs: [10.0.0.0/23]}\nencryption: {min_tls: 1.2}\nretention_days: 0\n');
    const r = muvakt(['policy', 'check', bad]);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/:3:\d+: zones\[0\]\.kind: expected one of .*got "medicl"$/),
      expect.stringMatching(/:4:\d+: zones\[1\]\.cidrs\[0\]: 10\.0\.0\.0\/23 overlaps/),
      expect.stringMatching(/:5:\d+: encryption\.min_tls: .*quote it: "1\.2"$/),
      expect.stringMatching(/:6:\d+: retention_days: expected an integer from 1 to 3650, got 0$/),
      `${bad}: 4 problems`,
    ]);
    const yaml = join(tmp, 'broken.yaml');
    writeFileSync(yaml, 'site: t\nzones:\n  - name: a\n    kind: medical\n    cidrs: [10.0.0.0/24\n  - name: b\n');
    const y = muvakt(['policy', 'check', yaml]);
    expect(y.code).toBe(2);
    expect(y.stderr).toMatch(new RegExp(`^${yaml.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:[5-7]:\\d+: YAML syntax: `));
  });
});
