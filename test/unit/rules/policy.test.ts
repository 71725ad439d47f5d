import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CompiledPolicy, parsePolicy } from '../../../rules/policy/index.js';

const EXAMPLE = readFileSync(join(import.meta.dirname, '../../../deploy/policy.example.yaml'), 'utf8');

function errorsOf(yaml: string): string[] {
  const r = parsePolicy(yaml, 'site.yaml');
  return r.ok ? [] : r.errors.map(String);
}

const BASE = `site: Test
zones:
  - {name: mu, kind: medical, vlans: [110], cidrs: [10.77.10.0/24]}
  - {name: pacs, kind: server, cidrs: [10.77.20.0/24]}
`;

describe('policy file validation', () => {
  it('accepts the example policy for the corpus', () => {
    const r = parsePolicy(EXAMPLE, 'deploy/policy.example.yaml');
    expect(r.ok ? [] : r.errors.map(String)).toEqual([]);
  });

  it('wrong type: names line, column, field and what was expected', () => {
    expect(errorsOf(BASE + 'hl7: {ack_timeout_s: soon}\n')).toEqual(['site.yaml:5:22: hl7.ack_timeout_s: expected a number greater than 0 and at most 86400, got "soon"']);
    expect(errorsOf(BASE.replace('vlans: [110]', 'vlans: [5000]'))).toEqual(['site.yaml:3:39: zones[0].vlans[0]: expected an integer from 1 to 4094, got 5000']);
    expect(errorsOf(BASE.replace('kind: server', 'kind: servers'))).toEqual([
      'site.yaml:4:24: zones[1].kind: expected one of "medical", "clinical", "server", "office", "remote-access", "dmz", "guest", got "servers"',
    ]);
  });

  it('unknown zone in an allowed flow', () => {
    expect(errorsOf(BASE + 'allowed_flows:\n  - {from: mu, to: pacss, apps: [dicom]}\n')).toEqual([
      'site.yaml:6:20: allowed_flows[0].to: unknown zone "pacss" (expected a zone name — mu, pacs — or external, any, an address or a CIDR)',
    ]);
  });

  it('overlapping CIDRs in two zones', () => {
    expect(errorsOf(BASE.replace('10.77.20.0/24', '10.77.0.0/16'))).toEqual([
      'site.yaml:4:40: zones[1].cidrs[0]: 10.77.0.0/16 overlaps 10.77.10.0/24 of zone "mu" (zones[0].cidrs[0]): an address must belong to one zone',
    ]);
  });

  it('bad CIDR', () => {
    expect(errorsOf(BASE.replace('10.77.20.0/24', '10.77.300.0/24'))).toEqual([
      'site.yaml:4:40: zones[1].cidrs[0]: "10.77.300.0/24" is not a CIDR (expected address/length, e.g. 10.77.10.0/24 or fd77::/64)',
    ]);
  });

  it('unknown keys, at the key', () => {
    expect(errorsOf(BASE + 'encryption: {min_tls: "1.2", requre_for: [external]}\n')).toEqual([
      'site.yaml:5:30: encryption.requre_for: unknown key "requre_for" (expected one of: min_tls, require_for)',
    ]);
  });

  it('missing keys, duplicate zones, YAML syntax', () => {
    expect(errorsOf('zones: []\n')).toEqual(expect.arrayContaining([expect.stringMatching(/^site\.yaml:1:1: site: missing required key "site"/)]));
    expect(errorsOf(BASE + '  - {name: mu, kind: office, cidrs: [10.9.0.0/16]}\n')).toEqual(['site.yaml:5:12: zones[2].name: zone name "mu" is already used by zones[0]']);
    expect(errorsOf('site: [unclosed\n')[0]).toMatch(/^site\.yaml:\d+:\d+: YAML syntax: /);
  });

  it('a YAML syntax error is reported where it is, not at 1:1', () => {
    const errors = errorsOf(`${BASE}  - name: ct\n    kind: medical\n    cidrs: [10.77.30.0/24\n  - name: x\n`);
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) expect(e).not.toMatch(/^site\.yaml:1:1:/);
    expect(errors[0]).toMatch(/^site\.yaml:(6|7|8):\d+: YAML syntax: /);
    expect(errorsOf(`${BASE}encryption:\n  min_tls: "1.2\n`)[0]).toMatch(/^site\.yaml:[67]:\d+: YAML syntax: Missing closing "quote/);
  });

  it('reports schema and semantic problems in one round, in file order, an enum error hiding nothing', () => {
    const yaml = `site: Test
zones:
  - {name: mu, kind: medicl, vlans: [0], cidrs: [10.77.10.0/24]}
  - {name: pacs, kind: server, cidrs: [10.77.10.0/23]}
allowed_flows:
  - {from: mu, to: nowhere}
encryption:
  min_tls: 1.2
hl7:
  ack_timeout_s: 0
retention_days: 0
`;
    expect(errorsOf(yaml)).toEqual([
      'site.yaml:3:22: zones[0].kind: expected one of "medical", "clinical", "server", "office", "remote-access", "dmz", "guest", got "medicl"',
      'site.yaml:3:38: zones[0].vlans[0]: expected an integer from 1 to 4094, got 0',
      'site.yaml:4:40: zones[1].cidrs[0]: 10.77.10.0/23 overlaps 10.77.10.0/24 of zone "mu" (zones[0].cidrs[0]): an address must belong to one zone',
      'site.yaml:6:20: allowed_flows[0].to: unknown zone "nowhere" (expected a zone name — mu, pacs — or external, any, an address or a CIDR)',
      'site.yaml:8:12: encryption.min_tls: expected one of "1.0", "1.1", "1.2", "1.3", got 1.2 — YAML reads 1.2 as a number; quote it: "1.2"',
      'site.yaml:10:18: hl7.ack_timeout_s: expected a number greater than 0 and at most 86400, got 0',
      'site.yaml:11:17: retention_days: expected an integer from 1 to 3650, got 0',
    ]);
    // min_tls: 1.0 is the number 1 in YAML: the hint still names the version meant.
    expect(errorsOf(`${BASE}encryption: {min_tls: 1.0}\n`)).toEqual([
      'site.yaml:5:23: encryption.min_tls: expected one of "1.0", "1.1", "1.2", "1.3", got 1 — YAML reads 1 as a number; quote it: "1.0"',
    ]);
  });
});

describe('compiled policy', () => {
  const r = parsePolicy(EXAMPLE);
  if (!r.ok) throw new Error('example policy invalid');
  const p = new CompiledPolicy(r.policy);

  it('looks zones up by longest prefix, then by innermost VLAN, then internal/external', () => {
    expect(p.zoneOf('10.77.10.21').name).toBe('MU');
    expect(p.zoneOf('fd77::20:40').name).toBe('clinical-servers');
    expect(p.zoneOf('192.168.1.5', [300, 130]).name).toBe('office');
    expect(p.zoneOf('192.168.1.5').name).toBe('unknown');
    expect(p.zoneOf('198.51.100.23').name).toBe('external');
  });

  it('matches the allow-list by zones and apps', () => {
    const q = (src: string, dst: string, app: string) => p.allowedFlow({ srcIp: src, dstIp: dst, srcZone: p.zoneOf(src), dstZone: p.zoneOf(dst), app, dstPort: 0, encrypted: false });
    expect(q('10.77.10.21', '10.77.20.10', 'dicom')?.index).toBe(0);
    expect(q('10.77.10.23', '10.77.30.15', 'http')).toBeNull();
    expect(q('10.77.40.5', '10.77.10.40', 'ssh')?.encryptedRequired).toBe(true);
    expect(q('10.77.40.5', '10.77.10.40', 'telnet')).toBeNull();
  });

  it('knows jump hosts, vendors and their windows', () => {
    expect(p.isJumpHost('10.77.40.5')).toBe(true);
    expect(p.vendorOf('192.0.2.7', new Date(2026, 10, 23, 10, 0))).toEqual({ name: 'Acme Medical service', inWindow: true });
    expect(p.vendorOf('192.0.2.7', new Date(2026, 10, 22, 10, 0))?.inWindow).toBe(false); // a Sunday
    expect(p.vendorOf('198.51.100.23', new Date())).toBeNull();
  });
});
