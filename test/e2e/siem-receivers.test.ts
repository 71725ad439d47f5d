/**
 * Alerts into real SIEM receivers, through `muvakt analyze --syslog` (the backfill path, which
 * shares the exporter and its spool with `run --syslog`):
 * - rsyslog (Debian's rsyslogd, started here with its own configuration in a temporary
 *   directory): imtcp on a free loopback port, mmpstrucdata parsing the RFC 5424 structured data,
 *   omfile writing every message as JSON. The SD-PARAMs must come out as named properties.
 * - the same rsyslog receiving `--syslog-format cef`: each message's CEF part parses with a CEF
 *   parser written from the spec (test/support/cef.ts) and keeps every field.
 * - a line receiver for `--syslog-format ecs` (Logstash's tcp/json_lines framing): each line is
 *   a JSON document with exactly the documented ECS fields.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CEF_LABELS } from '../../agent/export/cef.js';
import { ECS_FIELDS } from '../../agent/export/ecs.js';
import { msgidOf } from '../../agent/export/siem-record.js';
import { parseCef } from '../support/cef.js';
import { repoRoot } from '../support/repo-root.js';

const ROOT = repoRoot();
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const POLICY = join(ROOT, 'deploy/policy.example.yaml');
const CAPTURES = ['05_dicom_user_identity.pcap', '14_vnc_from_external.pcap', '17_tls10_weak_vendor.pcap', '20_segmentation_mu_to_office_http.pcap'].map((f) => join(ROOT, 'fixtures/corpus', f));
const RSYSLOGD = ['/usr/sbin/rsyslogd', '/sbin/rsyslogd'].find((p) => existsSync(p));
const tmp = mkdtempSync(join(tmpdir(), 'muvakt-siem-'));

interface AlertLine {
  id: string;
  rule_id: string;
  title: string;
  severity: string;
  status: string;
  guide_refs: string[];
  first_seen: string;
  last_seen: string;
  count: number;
  subject: { src_ip: string; dst_ip: string; zone_src: string; zone_dst: string };
  evidence: Record<string, unknown>;
}

function muvakt(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitFor<T>(get: () => T | undefined, ms: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let rsyslog: ChildProcess | null = null;
let rsyslogPort = 0;
let rsyslogErr = '';
const OUT = join(tmp, 'received.json');
let expected: AlertLine[] = [];

/** Lines rsyslog has written so far, parsed. */
function received(): Record<string, any>[] {
  if (!existsSync(OUT)) return [];
  return readFileSync(OUT, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, any>);
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
  if (RSYSLOGD === undefined) throw new Error('rsyslogd is missing: apt-get install rsyslog (.ci/run installs it)');
  // The alerts the captures raise, as muvakt's own NDJSON: what the SIEM must receive.
  const r = await muvakt(['analyze', ...CAPTURES, '--policy', POLICY, '--alerts', '-', '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  expected = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as AlertLine);
  expect(expected.length).toBeGreaterThan(3);
  expect(expected.some((a) => a.rule_id.length > 32)).toBe(true);

  rsyslogPort = await freePort();
  const conf = join(tmp, 'rsyslog.conf');
  writeFileSync(
    conf,
    `global(workDirectory="${tmp}")
module(load="imtcp")
module(load="mmpstrucdata")
template(name="alljson" type="list") { property(name="$!all-json") constant(value="\\n") }
input(type="imtcp" address="127.0.0.1" port="${rsyslogPort}" ruleset="siem")
ruleset(name="siem") {
  action(type="mmpstrucdata")
  set $!hdr!version = $protocol-version;
  set $!hdr!msgid = $msgid;
  set $!hdr!app = $app-name;
  set $!hdr!host = $hostname;
  set $!hdr!severity = $syslogseverity-text;
  set $!hdr!facility = $syslogfacility-text;
  set $!hdr!timestamp = $timereported;
  set $!hdr!msg = $msg;
  action(type="omfile" file="${OUT}" template="alljson")
}
`,
  );
  const check = spawnSync(RSYSLOGD, ['-N1', '-f', conf], { encoding: 'utf8' });
  expect(check.status, check.stderr + check.stdout).toBe(0);
  rsyslog = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', join(tmp, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
  rsyslog.stderr!.on('data', (d) => (rsyslogErr += d));
  rsyslog.stdout!.on('data', (d) => (rsyslogErr += d));
  // Up when it accepts a connection.
  const t0 = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(rsyslogPort, '127.0.0.1', () => {
        s.destroy();
        res(true);
      });
      s.on('error', () => res(false));
    });
    if (ok) break;
    if (rsyslog.exitCode !== null || Date.now() - t0 > 10_000) throw new Error(`rsyslogd did not start: ${rsyslogErr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 120_000);

afterAll(() => {
  rsyslog?.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
});

/** Evidence values that must not reach the SIEM: everything but the flow facts and addresses. */
function secretsOf(a: AlertLine): string[] {
  const shown = new Set([a.subject.src_ip, a.subject.dst_ip, a.subject.zone_src, a.subject.zone_dst, String(a.evidence.app), String(a.evidence.proto), String(a.evidence.flow_id)]);
  return Object.entries(a.evidence)
    .filter(([k, v]) => typeof v === 'string' && v.length >= 4 && !shown.has(v) && !/^(app|proto|flow_id|peer_app)$/.test(k) && !/^[\d.:a-f]+$/.test(v) && !/^\d{4}-\d{2}-\d{2}T/.test(v))
    .map(([, v]) => v as string);
}

describe('rsyslog receives the RFC 5424 feed', () => {
  it('parses the structured data into named properties, one message per alert, no evidence values', async () => {
    const r = await muvakt(['analyze', ...CAPTURES, '--policy', POLICY, '--syslog', `127.0.0.1:${rsyslogPort}`, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    // "syslog connected" is news, not a warning: info (pino level 30) in JSON, as stderr is no terminal.
    const connected = r.stderr.split('\n').filter((l) => l.includes('syslog connected')).map((l) => JSON.parse(l) as { level: number });
    expect(connected.length).toBeGreaterThan(0);
    expect(connected.every((l) => l.level === 30)).toBe(true);

    const got = await waitFor(() => {
      const lines = received();
      return lines.length >= expected.length ? lines : undefined;
    }, 15_000, 'rsyslog to write every alert');
    expect(got.length).toBe(expected.length);
    const byId = new Map(got.map((m) => [m['rfc5424-sd']['muvakt@32473'].id as string, m]));
    for (const a of expected) {
      const m = byId.get(a.id);
      expect(m, a.id).toBeDefined();
      const sd = m!['rfc5424-sd']['muvakt@32473'] as Record<string, string>;
      expect(m!.hdr).toMatchObject({ version: '1', msgid: msgidOf(a.rule_id), app: 'muvakt', facility: 'local4' });
      expect(m!.hdr.msgid.length).toBeLessThanOrEqual(32);
      expect(m!.hdr.msg.replace(/^\ufeff/, '')).toBe(a.title);
      expect(sd).toMatchObject({
        rule: a.rule_id,
        severity: a.severity,
        status: a.status,
        change: 'new',
        src: a.subject.src_ip,
        dst: a.subject.dst_ip,
        zone_src: a.subject.zone_src,
        zone_dst: a.subject.zone_dst,
        guide_refs: a.guide_refs.join(', '),
        first_seen: a.first_seen,
        last_seen: a.last_seen,
        count: String(a.count),
      });
      if (typeof a.evidence.dst_port === 'number') expect(sd.dst_port).toBe(String(a.evidence.dst_port));
      if (typeof a.evidence.src_port === 'number') expect(sd.src_port).toBe(String(a.evidence.src_port));
      if (typeof a.evidence.app === 'string') expect(sd.app).toBe(a.evidence.app);
      if (typeof a.evidence.flow_id === 'string') expect(sd.flow_id).toBe(a.evidence.flow_id);
      const text = JSON.stringify(m);
      for (const s of secretsOf(a)) expect(text, `${a.rule_id} evidence value`).not.toContain(s);
    }
    // The flow facts are there for the flow-based alerts.
    expect(got.filter((m) => m['rfc5424-sd']['muvakt@32473'].dst_port !== undefined).length).toBeGreaterThan(0);
    expect(got.filter((m) => m['rfc5424-sd']['muvakt@32473'].flow_id !== undefined).length).toBeGreaterThan(0);
  }, 120_000);

  it('takes the CEF form too, and every CEF line parses and keeps its fields', async () => {
    const before = received().length;
    const r = await muvakt(['analyze', ...CAPTURES, '--policy', POLICY, '--syslog', `127.0.0.1:${rsyslogPort}`, '--syslog-format', 'cef', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const got = await waitFor(() => {
      const lines = received().slice(before);
      return lines.length >= expected.length ? lines : undefined;
    }, 15_000, 'rsyslog to write every CEF alert');
    expect(got.length).toBe(expected.length);
    const byId = new Map(got.map((m) => {
      const e = parseCef(m.hdr.msg as string);
      return [e.extension.externalId, { e, m }] as const;
    }));
    for (const a of expected) {
      const x = byId.get(a.id);
      expect(x, a.id).toBeDefined();
      const { e, m } = x!;
      expect(m.hdr.msgid).toBe(msgidOf(a.rule_id));
      expect(m['rfc5424-sd']).toBeUndefined(); // "-": no structured data
      expect([e.version, e.deviceVendor, e.deviceProduct, e.signatureId, e.name]).toEqual([0, 'muvakt', 'muvakt', a.rule_id, a.title]);
      expect(e.severity).toBe(String({ low: 3, medium: 5, high: 8, critical: 10 }[a.severity]));
      const x4 = (ip: string) => (ip.includes(':') ? undefined : ip);
      expect(e.extension).toMatchObject({
        rt: String(Date.parse(a.last_seen)),
        start: String(Date.parse(a.first_seen)),
        cnt: String(a.count),
        cs1: a.subject.zone_src,
        cs1Label: CEF_LABELS.cs1,
        cs2: a.subject.zone_dst,
        cs2Label: CEF_LABELS.cs2,
        cs3: a.guide_refs.join(', '),
        cs5: 'new',
        cs6: a.status,
      });
      expect(e.extension.src).toBe(x4(a.subject.src_ip));
      expect(e.extension.dst).toBe(x4(a.subject.dst_ip));
      if (typeof a.evidence.dst_port === 'number') expect(e.extension.dpt).toBe(String(a.evidence.dst_port));
      if (typeof a.evidence.app === 'string') expect(e.extension.app).toBe(a.evidence.app);
      if (typeof a.evidence.flow_id === 'string') expect(e.extension).toMatchObject({ cs4: a.evidence.flow_id, cs4Label: 'flowId' });
      for (const s of secretsOf(a)) expect(m.hdr.msg, `${a.rule_id} evidence value`).not.toContain(s);
    }
  }, 120_000);
});

describe('an ECS line receiver', () => {
  it('gets one JSON document a line with the documented ECS fields', async () => {
    const lines: string[] = [];
    let buf = '';
    const server: Server = createServer((s) => {
      s.setEncoding('utf8');
      s.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          lines.push(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await muvakt(['analyze', ...CAPTURES, '--policy', POLICY, '--syslog', `127.0.0.1:${port}`, '--syslog-format', 'ecs', '--quiet']);
      expect(r.code, r.stderr).toBe(0);
      await waitFor(() => (lines.length >= expected.length ? true : undefined), 10_000, 'the ECS lines');
    } finally {
      server.close();
    }
    expect(lines.length).toBe(expected.length);
    const leaves = (o: Record<string, unknown>, p = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? leaves(v as Record<string, unknown>, `${p}${k}.`) : [`${p}${k}`]));
    const required = Object.keys(ECS_FIELDS).filter((k) => ECS_FIELDS[k]);
    const byId = new Map(lines.map((l) => {
      const d = JSON.parse(l) as Record<string, any>;
      return [d.event.id as string, d] as const;
    }));
    for (const a of expected) {
      const d = byId.get(a.id)!;
      expect(d, a.id).toBeDefined();
      const keys = leaves(d);
      expect(keys.filter((k) => !(k in ECS_FIELDS))).toEqual([]);
      expect(required.filter((k) => !keys.includes(k))).toEqual([]);
      expect(d).toMatchObject({
        '@timestamp': a.last_seen,
        event: { kind: 'alert', id: a.id, start: a.first_seen, end: a.last_seen, action: 'new' },
        rule: { id: a.rule_id, name: a.title },
        source: { ip: a.subject.src_ip },
        destination: { ip: a.subject.dst_ip },
        observer: { product: 'muvakt', type: 'ids' },
      });
      if (a.guide_refs.length > 0) expect(d.rule.reference).toBe(a.guide_refs.join(', '));
      if (typeof a.evidence.dst_port === 'number') expect(d.destination.port).toBe(a.evidence.dst_port);
      if (typeof a.evidence.app === 'string') expect(d.network.protocol).toBe(a.evidence.app);
      expect(Number.isNaN(Date.parse(d['@timestamp']))).toBe(false);
      for (const s of secretsOf(a)) expect(JSON.stringify(d)).not.toContain(s);
    }
  }, 120_000);

  it('a SIEM that is not there: exit 1 within the timeout, and the alerts stay in the spool', async () => {
    const port = await freePort();
    const spool = join(tmp, 'spool-down');
    const t0 = Date.now();
    const r = await muvakt(['analyze', CAPTURES[0], '--policy', POLICY, '--syslog', `127.0.0.1:${port}`, '--syslog-spool', spool, '--syslog-timeout', '2', '--quiet']);
    expect(r.code).toBe(1);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.stderr).toMatch(/not confirmed by the SIEM .* they stay in the spool/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const spooled = readFileSync(join(spool, 'spool.0.ndjson'), 'utf8').trim().split('\n');
    expect(spooled.length).toBeGreaterThan(0);
  }, 60_000);
});
