import { describe, expect, it } from 'vitest';
import { draftPolicy, subnetOf, type DraftDevice } from '../../../rules/policy/draft.js';
import { CompiledPolicy, parsePolicy } from '../../../rules/policy/index.js';

function dev(id: string, ip: string, role: string, o: Partial<DraftDevice> = {}): DraftDevice {
  return { id, role, external: false, addresses: [{ ip }], vlans: [], services_offered: [], peers: {}, remote_access: [], external_peers: [], ...o };
}
const OPTS = { site: 'Test', source: 'a test', now: '2026-12-05T00:00:00Z' };

function compiled(yaml: string): CompiledPolicy {
  const r = parsePolicy(yaml, 'draft.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.toString()).join('\n'));
  return new CompiledPolicy(r.policy);
}

describe('a policy drafted from devices', () => {
  it('makes zones of subnets with kinds from roles, and flows from the services used across them', () => {
    const d = draftPolicy(
      [
        dev('m1', '10.1.1.5', 'modality', { peers: { dicom: ['10.1.2.9'], unknown: ['10.1.2.9'] } }),
        dev('m2', '10.1.1.6', 'unknown'),
        dev('p', '10.1.2.9', 'pacs', { services_offered: [{ proto: 'tcp', port: 104, app: 'dicom' }, { proto: 'tcp', port: 8042, app: 'unknown' }], peers: { dicom: ['10.1.1.5'], unknown: ['10.1.1.5'] } }),
        dev('w', 'fd00:1:2:3::7', 'workstation'),
        dev('x', '198.51.100.1', 'vendor-endpoint', { external: true }),
      ],
      OPTS,
    );
    expect(d.zones.map((z) => [z.name, z.kind, z.cidrs])).toEqual([
      ['medical-10.1.1.0_24', 'medical', ['10.1.1.0/24']],
      ['server-10.1.2.0_24', 'server', ['10.1.2.0/24']],
      ['clinical-fd00-1-2-3-_64', 'clinical', ['fd00:1:2:3::/64']],
    ]);
    // one flow, client → server only; the unnamed app becomes the port the server answered on
    expect(d.flows).toEqual([{ from: 'medical-10.1.1.0_24', to: 'server-10.1.2.0_24', apps: ['dicom'], ports: [8042], seen: ['10.1.1.5 → 10.1.2.9', '10.1.1.5 → 10.1.2.9:8042'], pairs: 2, answered: true }]);
    const p = compiled(d.yaml);
    const z = (ip: string) => p.zoneOf(ip, []);
    expect(p.allowedFlow({ srcIp: '10.1.1.5', dstIp: '10.1.2.9', srcZone: z('10.1.1.5'), dstZone: z('10.1.2.9'), app: 'dicom', dstPort: 104, encrypted: false })).toBeTruthy();
    expect(p.allowedFlow({ srcIp: '10.1.1.5', dstIp: '10.1.2.9', srcZone: z('10.1.1.5'), dstZone: z('10.1.2.9'), app: 'unknown', dstPort: 8042, encrypted: false })).toBeTruthy();
    expect(p.allowedFlow({ srcIp: '10.1.2.9', dstIp: '10.1.1.5', srcZone: z('10.1.2.9'), dstZone: z('10.1.1.5'), app: 'dicom', dstPort: 104, encrypted: false })).toBeFalsy();
  });

  it('keeps the store’s zone names, and splits a shared subnet into host addresses', () => {
    const d = draftPolicy(
      [
        dev('a', '10.2.0.10', 'modality', { zone: { name: 'MU-a', kind: 'medical' }, vlans: [110] }),
        dev('b', '10.2.0.20', 'pacs', { zone: { name: 'servers', kind: 'server' }, vlans: [110] }),
        dev('c', '10.2.5.1', 'viewer', { zone: { name: 'unknown', kind: 'unknown' }, vlans: [140] }),
      ],
      OPTS,
    );
    expect(d.zones.map((z) => [z.name, z.kind, z.cidrs, z.vlans])).toEqual([
      ['clinical-vlan140', 'clinical', ['10.2.5.0/24'], [140]],
      ['MU-a', 'medical', ['10.2.0.10/32'], []],
      ['servers', 'server', ['10.2.0.20/32'], []],
    ]);
    expect(compiled(d.yaml).zoneOf('10.2.0.20', []).name).toBe('servers');
  });

  it('finds the jump host and the outside sources of remote access, and lists internet destinations commented out', () => {
    const d = draftPolicy(
      [
        dev('j', '10.3.4.5', 'workstation', { remote_access: [{ protocol: 'ssh', direction: 'outbound', peer: '10.3.1.7', peer_external: false }, { protocol: 'rdp', direction: 'inbound', peer: '192.0.2.44', peer_external: true }] }),
        dev('m', '10.3.1.7', 'modality', { external_peers: [{ ip: '203.0.113.9', direction: 'outbound', apps: ['tls'] }] }),
      ],
      OPTS,
    );
    expect(d.jumpHosts).toEqual([{ ip: '10.3.4.5', basis: 'opens ssh sessions into medical-10.3.1.0_24 and is reached over remote access itself' }]);
    expect(d.vendors.map((v) => v.cidr)).toEqual(['192.0.2.44/32']);
    expect(d.yaml).toMatch(/allowed_destinations: \[\]\n {2}# {2}- "203\.0\.113\.9"/);
    const p = compiled(d.yaml);
    expect(p.policy.remote_access?.jump_hosts).toEqual(['10.3.4.5']);
    expect(p.policy.external?.allowed_destinations).toEqual([]);
  });

  it('quotes what it took from the store: a zone name or role cannot add YAML of its own', () => {
    const d = draftPolicy([dev('a', '10.4.0.1', 'modality\nsite: evil', { zone: { name: 'x"\nsite: evil', kind: 'medical' } })], OPTS);
    expect(d.yaml.match(/^site:/gm)).toHaveLength(1);
    expect(d.yaml).not.toMatch(/^site: evil/m);
    expect(compiled(d.yaml).policy.zones.map((z) => z.name)).toEqual(['x-site-evil']);
  });

  it('writes an empty draft that says why when nothing internal was seen', () => {
    const d = draftPolicy([], OPTS);
    expect(d.zones).toEqual([]);
    expect(d.yaml).toMatch(/no internal device was seen/);
    expect(subnetOf('fd77::10:5')).toBe('fd77::/64');
    expect(subnetOf('10.9.8.7')).toBe('10.9.8.0/24');
  });
});
