import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { evidenceCommand } from '../../agent/cli/evidence.js';
import { inventoryCommand } from '../../agent/cli/inventory.js';
import { UsageError } from '../../agent/cli/args.js';
import { CSV_COLUMNS, csvHeader, toCsv, type ExportedDevice } from '../../agent/inventory/export.js';
import { SqliteStore } from '../../agent/store/index.js';
import { csvCell } from '../../agent/export/csv.js';
import { sanitizeId } from '../../agent/inventory/evidence.js';
import { factInBokmal, reasonInBokmal } from '../../agent/inventory/reason-text.js';

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/agent/cli/main.js');
const CORPUS = join(ROOT, 'fixtures/corpus');
const CAPTURES = [
  '02_dicom_cstore_ct_mr.pcap',
  '05_dicom_user_identity.pcap',
  '08_hl7_adt_oru_batch.pcap',
  '10_telnet_login.pcap',
  '12_http_basic_auth.pcap',
  '14_vnc_from_external.pcap',
  '18_syslog_phi.pcap',
  '19_callhome_http_phi.pcap',
];
const tmp = mkdtempSync(join(tmpdir(), 'muvakt-invexp-'));
const db = join(tmp, 'inv.db');

interface Manifest {
  identities: { patients: Record<string, string>[]; credentials: { user?: string; password: string }[] };
  captures: { file: string; planted_secrets?: string[] }[];
}

/** Every planted patient value and password of the analysed captures, plus the manifest's identities. */
function plantedValues(): string[] {
  const m = JSON.parse(readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8')) as Manifest;
  const out = new Set<string>();
  for (const c of m.captures) if (CAPTURES.includes(c.file)) for (const s of c.planted_secrets ?? []) out.add(s);
  for (const p of m.identities.patients) {
    out.add(p.PatientName);
    out.add(p.fodselsnummer);
    out.add(p.birth.replace(/-/g, ''));
    for (const part of p.PatientName.split('^')) if (part.length >= 4) out.add(part);
  }
  for (const c of m.identities.credentials) {
    out.add(c.password);
    if (c.user) out.add(c.user);
  }
  return [...out];
}

/** Short generic values ("admin", "A24001") as whole words, case-sensitive; the rest as substrings. */
function leaks(text: string, values: readonly string[]): string[] {
  return values.filter((v) => (/^\w+$/.test(v) ? new RegExp(`\\b${v}\\b`).test(text) : text.includes(v)));
}

async function quietly<T>(f: () => Promise<T>): Promise<{ result: T; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const result = await f();
    return { result, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error('dist/ is missing: run "npm run build" (npm test does)');
  const r = spawnSync(process.execPath, [CLI, 'analyze', ...CAPTURES.map((c) => join(CORPUS, c)), '--policy', join(ROOT, 'deploy/policy.example.yaml'), '--db', db, '--quiet'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`analyze failed (${r.status}): ${r.stderr}`);
}, 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('muvakt inventory export', () => {
  it('CSV: stable header, one row per device, most exposed first, open alerts counted', async () => {
    const out = join(tmp, 'inv.csv');
    expect((await quietly(() => inventoryCommand(['export', '--db', db, '--format', 'csv', '--out', out]))).result).toBe(0);
    const text = readFileSync(out, 'utf8');
    const lines = text.split('\r\n');
    expect(lines[0]).toBe(CSV_COLUMNS.join(','));
    expect(lines.at(-1)).toBe('');
    const json = JSON.parse((await quietly(() => inventoryCommand(['export', '--db', db, '--format', 'json']))).out) as ExportedDevice[];
    expect(json.length).toBeGreaterThan(3);
    expect(lines.length - 2).toBe(json.length);
    for (let i = 1; i < json.length; i++) expect(json[i - 1].exposure.score).toBeGreaterThanOrEqual(json[i].exposure.score);
    const vnc = json.find((d) => d.ips.includes('10.77.10.50'));
    expect(vnc?.open_alerts).toBeGreaterThan(0);
    expect(vnc?.highest_open_severity).toBe('critical');
    expect(lines.some((l) => l.startsWith(`${vnc?.id},`))).toBe(true);
  });

  it('make, model and software from what the device sent, the guide sections of its exposure; a bokmål header with --lang nb', async () => {
    const json = JSON.parse((await quietly(() => inventoryCommand(['export', '--db', db, '--format', 'json']))).out) as ExportedDevice[];
    const ct = json.find((d) => d.ips.includes('10.77.10.21'))!;
    expect(ct.manufacturer).toBe('SyntheticMed CT');
    expect(ct.software_versions).toContain('OFFIS_DCMTK_367');
    expect(ct.role).toBe('modality');
    expect(ct.scenario).toBe(3);
    // Every section a reason cites, and none it does not.
    const cited = new Set(ct.exposure.reasons.flatMap((r) => r.guide_ref.split(/,\s*/)).filter(Boolean));
    expect(ct.guide_refs.length).toBeGreaterThan(0);
    expect(new Set(ct.guide_refs)).toEqual(cited);
    // Every reason the rank wrote over the corpus has a lead-in the bundle says in bokmål.
    for (const d of json) for (const r of d.exposure.reasons) expect(reasonInBokmal(r.fact), r.fact).not.toBe(r.fact);
    // A device that sent no DICOM data set has no make from it.
    expect(json.find((d) => d.ips.includes('10.77.20.10'))!.manufacturer).toBeNull();

    const nb = (await quietly(() => inventoryCommand(['export', '--db', db, '--format', 'csv', '--lang', 'nb']))).out.split('\r\n');
    expect(nb[0]).toBe(csvHeader('nb').join(','));
    expect(nb[0]).toContain('produsent,modell,programvareversjoner');
    expect(nb[0]).toContain('veilederhenvisninger');
    for (const english of ['manufacturer', 'software_versions', 'guide_refs', 'first_seen', 'open_alerts']) expect(nb[0]).not.toContain(english);
    const en = (await quietly(() => inventoryCommand(['export', '--db', db, '--format', 'csv']))).out.split('\r\n');
    // The rows are the same in both languages: only the header changes.
    expect(nb.slice(1)).toEqual(en.slice(1));
    const row = en.find((l) => l.startsWith(`${ct.id},`))!;
    expect(row).toContain(',SyntheticMed CT,');
    expect(row).toContain(ct.guide_refs.join('; '));
  });

  it('RFC 4180 quoting and formula neutralisation', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    for (const s of ['=cmd|x', '+1', '-2+3', '@SUM(A1)']) expect(csvCell(s)).toBe(`'${s}`);
    expect(csvCell('=a,b')).toBe(`"'=a,b"`);
    const row: ExportedDevice = {
      id: 'ip:10.0.0.1', mac: null, ips: ['10.0.0.1', 'fd00::1'], vendor: '=HYPERLINK("x")', names: ['a', 'b'], zone: 'MU', role: 'modality', scenario: 3,
      exposure: { score: 5, level: 'low', reasons: [{ fact: 'x', points: 5, guide_ref: 'G12' }] }, first_seen: 't0', last_seen: 't1', open_alerts: 0, highest_open_severity: null,
      manufacturer: '@Acme', model: 'M1', software_versions: ['v1', 'v2'], guide_refs: ['G12'],
    };
    expect(toCsv([row]).split('\r\n')[1]).toBe(`ip:10.0.0.1,,10.0.0.1 fd00::1,"'=HYPERLINK(""x"")",'@Acme,M1,v1; v2,a b,MU,modality,3,5,low,x (+5),G12,t0,t1,0,`);
  });

  it('bad arguments are usage errors', async () => {
    await expect(inventoryCommand(['export', '--db', db, '--format', 'xml'])).rejects.toThrow(UsageError);
    await expect(inventoryCommand(['export', '--format', 'csv'])).rejects.toThrow(UsageError);
    await expect(inventoryCommand(['export', '--db', join(tmp, 'missing.db'), '--format', 'csv'])).rejects.toThrow(UsageError);
    await expect(inventoryCommand(['list'])).rejects.toThrow(UsageError);
    await expect(inventoryCommand(['export', '--db', db, '--format', 'csv', '--lang', 'de'])).rejects.toThrow('--lang expects en or nb, got "de"');
    await expect(inventoryCommand(['export', '--db', db, '--format', 'json', '--lang', 'nb'])).rejects.toThrow(UsageError);
    expect(existsSync(join(tmp, 'missing.db'))).toBe(false);
  });
});

describe('muvakt evidence', () => {
  it('by IP and by id: device.json with alerts, rule texts in nb and en; device.md and device.html', async () => {
    const dir = join(tmp, 'ev-vnc');
    const r = (await quietly(() => evidenceCommand(['10.77.10.50', '--db', db, '--out', dir])));
    expect(r.result).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['device.html', 'device.json', 'device.md']);
    const b = JSON.parse(readFileSync(join(dir, 'device.json'), 'utf8'));
    expect(b.device.addresses.map((a: { ip: string }) => a.ip)).toContain('10.77.10.50');
    expect(b.device.scenario.number).toBe(3);
    expect(b.device.exposure.reasons.length).toBeGreaterThan(0);
    expect(b.alerts.length).toBeGreaterThan(0);
    for (const a of b.alerts) {
      expect(a.guide_refs.length).toBeGreaterThan(0);
      expect(a.rule.title.nb).toBeTruthy();
      expect(a.rule.recommendation.en).toBeTruthy();
    }
    const md = readFileSync(join(dir, 'device.md'), 'utf8');
    for (const h of ['## Bruksscenario', '## Eksponering', '## Motparter (peers)', '## Varsler (alerts)', 'Fjerntilgang (remote access)']) expect(md).toContain(h);
    expect(readFileSync(join(dir, 'device.html'), 'utf8')).toMatch(/^<!doctype html>/);

    const byId = join(tmp, 'ev-vnc-id');
    expect((await quietly(() => evidenceCommand([b.device.id, '--db', db, '--out', byId]))).result).toBe(0);
    expect(JSON.parse(readFileSync(join(byId, 'device.json'), 'utf8')).device.id).toBe(b.device.id);
  });

  it('provenance: the sensor, its muvakt version, the policy file\'s hash and the time observed; acknowledgement comments in every form', async () => {
    // An officer's acknowledgement with a comment, as the API records it.
    const comment = 'Leverandør kontaktet, økten stengt';
    const store = SqliteStore.open(db, { sensor: 'inventory-test' });
    let ackedId: string;
    try {
      const vncAlerts = (await store.listAlerts({ limit: 1000, ip: '10.77.10.50' })).items;
      expect(vncAlerts.length).toBeGreaterThan(0);
      ackedId = vncAlerts[0].id;
      expect(await store.acknowledge(ackedId, 'sikkerhetsleder', comment)).not.toBeNull();
    } finally {
      await store.close();
    }
    const dir = join(tmp, 'ev-provenance');
    expect((await quietly(() => evidenceCommand(['10.77.10.50', '--db', db, '--out', dir]))).result).toBe(0);
    const b = JSON.parse(readFileSync(join(dir, 'device.json'), 'utf8'));
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const policySha = createHash('sha256').update(readFileSync(join(ROOT, 'deploy/policy.example.yaml'))).digest('hex');
    expect(b.provenance.muvakt_version).toBe(pkg.version);
    // analyze ran as one sensor (the host's name): it saw the device and recorded itself.
    expect(b.provenance.sensors).toHaveLength(1);
    expect(b.provenance.runs).toEqual([
      expect.objectContaining({ sensor: b.provenance.sensors[0], muvakt_version: pkg.version, policy: { site: expect.any(String), sha256: policySha } }),
    ]);
    expect(b.provenance.runs[0].policy_since <= b.provenance.runs[0].recorded_at).toBe(true);
    const window = b.provenance.observation_window as { from: string; to: string };
    const [from, to] = [Date.parse(window.from), Date.parse(window.to)];
    expect(from).toBeLessThan(to);
    expect(from <= Date.parse(b.device.first_seen) && to >= Date.parse(b.device.last_seen)).toBe(true);
    for (const a of b.alerts as { first_seen: string; last_seen: string }[]) expect(from <= Date.parse(a.first_seen) && to >= Date.parse(a.last_seen)).toBe(true);
    // The window is the span of what was seen, not of the bundle's making.
    expect([b.device.first_seen, ...b.alerts.map((a: { first_seen: string }) => a.first_seen)]).toContain(window.from);
    const acked = (b.alerts as { id: string; status: string; history: { actor: string; action: string; comment: string }[] }[]).find((a) => a.id === ackedId)!;
    expect(acked.status).toBe('acknowledged');
    expect(acked.history.at(-1)).toMatchObject({ actor: 'sikkerhetsleder', action: 'ack', comment });
    const md = readFileSync(join(dir, 'device.md'), 'utf8');
    expect(md).toContain('## Opphav (provenance)');
    expect(md).toContain(policySha);
    expect(md).toContain(comment);
    expect(md).toContain('kvittert (ack)');
    // The exposure table's facts in bokmål.
    expect(md).toContain('| Fakta (fact) | Poeng (points) |');
    expect(md).toContain('fjerntilgang utenfra');
    expect(readFileSync(join(dir, 'device.html'), 'utf8')).toContain(`<td>${comment}</td>`);
  });

  it('every device, in bokmål and in English: each role, property and scenario fact and each exposure reason in the language asked for, none in the other', async () => {
    const json = join(tmp, 'ev-lang.json');
    expect((await quietly(() => inventoryCommand(['export', '--db', db, '--format', 'json', '--out', json]))).result).toBe(0);
    const devices = JSON.parse(readFileSync(json, 'utf8')) as ExportedDevice[];
    expect(devices.length).toBeGreaterThan(5);
    const html = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
    let checked = 0;
    for (const d of devices) {
      const texts: Record<string, { md: string; html: string; json: string }> = {};
      for (const lang of ['nb', 'en']) {
        const dir = join(tmp, 'ev-lang', lang, sanitizeId(d.id));
        expect((await quietly(() => evidenceCommand([d.id, '--db', db, '--out', dir, '--lang', lang]))).result).toBe(0);
        texts[lang] = { md: readFileSync(join(dir, 'device.md'), 'utf8'), html: readFileSync(join(dir, 'device.html'), 'utf8'), json: readFileSync(join(dir, 'device.json'), 'utf8') };
      }
      // The record is the same whatever the language.
      expect(texts.nb.json.replace(/"generated_at": "[^"]+"/, '')).toBe(texts.en.json.replace(/"generated_at": "[^"]+"/, ''));
      expect(texts.nb.html).toContain('<html lang="nb">');
      expect(texts.en.html).toContain('<html lang="en">');
      const b = JSON.parse(texts.nb.json) as { device: { roles: { facts: string[] }[]; properties: Record<string, { facts: string[] }>; scenario: { number: number | null; name: string; facts: string[] }; exposure: { reasons: { fact: string }[] } } };
      const facts = [
        ...b.device.roles.flatMap((r) => r.facts),
        ...Object.values(b.device.properties).flatMap((p) => p.facts),
        ...b.device.scenario.facts,
        ...(b.device.scenario.number === null ? [b.device.scenario.name] : []),
      ];
      expect(facts.length).toBeGreaterThan(0);
      for (const en of facts) {
        const nb = factInBokmal(en);
        expect([d.id, en, nb]).not.toEqual([d.id, en, null]);
        expect({ id: d.id, nb, in_nb: texts.nb.html.includes(html(nb!)), en_in_nb: texts.nb.html.includes(html(en)) }).toEqual({ id: d.id, nb, in_nb: true, en_in_nb: false });
        expect({ id: d.id, en, in_en: texts.en.html.includes(html(en)), nb_in_en: texts.en.html.includes(html(nb!)) }).toEqual({ id: d.id, en, in_en: true, nb_in_en: false });
        checked++;
      }
      for (const { fact } of b.device.exposure.reasons) {
        expect({ id: fact, in_nb: texts.nb.html.includes(html(reasonInBokmal(fact))), en_in_nb: texts.nb.html.includes(html(fact)), in_en: texts.en.html.includes(html(fact)) }).toEqual({ id: fact, in_nb: true, en_in_nb: false, in_en: true });
      }
      // The labels follow the language too.
      expect(texts.nb.md).toContain('## Egenskaper av sikkerhetsmessig betydning');
      expect(texts.en.md).toContain('## Properties of security significance (MU 5.1)');
      expect(texts.en.md).not.toContain('Bruksscenario (usage scenario');
    }
    expect(checked).toBeGreaterThan(devices.length);
    await expect(evidenceCommand([devices[0].id, '--db', db, '--lang', 'de'])).rejects.toThrow('--lang expects en or nb, got "de"');
  });

  it('unknown device: exit 1 with a clear message, nothing written', async () => {
    const dir = join(tmp, 'ev-none');
    const r = (await quietly(() => evidenceCommand(['10.99.99.99', '--db', db, '--out', dir])));
    expect(r.result).toBe(1);
    expect(r.err).toContain('no device "10.99.99.99"');
    expect(existsSync(dir)).toBe(false);
    await expect(evidenceCommand(['--db', db])).rejects.toThrow(UsageError);
  });

  it('default directory is ./evidence-<sanitized id>', async () => {
    expect(sanitizeId('mac:02:77:0a:00:00:32')).toBe('mac_02_77_0a_00_00_32');
    expect(sanitizeId('ip:fd00::1')).toBe('ip_fd00__1');
    expect(sanitizeId('../x')).toBe('__x');
  });
});

describe('PHI: no planted patient value or password in the CSV, JSON or any evidence bundle', () => {
  it('greps every export for every planted value', async () => {
    const values = plantedValues();
    expect(values).toEqual(expect.arrayContaining(['NORDMANN^KARI', '14078521210', 'Biomed#2024', 'admin', 'Infus10n!', 'Vnc!2024', 'Rtg!Lab2024']));
    expect(leaks('x NORDMANN^KARI y admin', values)).toEqual(expect.arrayContaining(['NORDMANN^KARI', 'admin']));
    expect(leaks('administration Admin', values)).toEqual([]);
    const texts: [string, string][] = [];
    for (const format of ['csv', 'json']) {
      const out = join(tmp, `phi.${format}`);
      (await quietly(() => inventoryCommand(['export', '--db', db, '--format', format, '--out', out])));
      texts.push([out, readFileSync(out, 'utf8')]);
    }
    const devices = JSON.parse(texts[1][1]) as ExportedDevice[];
    for (const d of devices) {
      const dir = join(tmp, 'phi-ev', sanitizeId(d.id));
      expect((await quietly(() => evidenceCommand([d.id, '--db', db, '--out', dir]))).result).toBe(0);
      for (const f of readdirSync(dir)) texts.push([join(dir, f), readFileSync(join(dir, f), 'utf8')]);
    }
    expect(texts.length).toBe(2 + 3 * devices.length);
    // the bundles do carry what a ROS needs: the PHI alerts exist, by field name only
    expect(texts.some(([, t]) => t.includes('phi-in-syslog'))).toBe(true);
    for (const [file, text] of texts) expect({ file, leaks: leaks(text, values) }).toEqual({ file, leaks: [] });
  });
});
