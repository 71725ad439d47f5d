import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../support/analyze.js';
import { examplePolicy } from '../../support/rules.js';
import { Inventory, deviceDetail, listSummaries, policyZones, type DeviceDetail } from '../../../agent/inventory/index.js';
import { guideReference, splitGuideRefs } from '../../../rules/guide-references.js';

const CORPUS = join(import.meta.dirname, '../../../fixtures/corpus');
const PERIMETER_MAC = '02:77:fe:00:00:01';

function capture(prefix: string): string {
  const f = readdirSync(CORPUS).find((n) => n.startsWith(prefix) && /\.pcap(ng)?$/.test(n));
  if (!f) throw new Error(`no capture ${prefix}`);
  return join(CORPUS, f);
}

async function inventoryOf(...prefixes: string[]): Promise<Inventory> {
  const inv = new Inventory(policyZones(examplePolicy()));
  for (const p of prefixes) {
    const { events } = await analyzeFiles([capture(p)]);
    inv.observeAll(events);
  }
  return inv;
}

function dev(inv: Inventory, ip: string): DeviceDetail {
  const d = deviceDetail(inv, ip);
  if (!d) throw new Error(`no device at ${ip}`);
  return d;
}

describe('the endpoint shortcut', () => {
  it('leaves the inventory exactly as the full resolution does, over every corpus and baseline capture', async () => {
    // Each capture alone, then all in one inventory (devices, MACs and addresses shared across them).
    const dirs = [CORPUS, join(import.meta.dirname, '../../../fixtures/baseline'), join(import.meta.dirname, '../../../fixtures/rules')];
    const files = dirs.flatMap((d) => readdirSync(d).filter((n) => /\.pcap(ng)?$/.test(n) && !n.startsWith('27_')).map((n) => join(d, n)));
    expect(files.length).toBeGreaterThan(30);
    const all: Parameters<Inventory['observeAll']>[0][] = [];
    let reused = 0;
    for (const f of files) {
      const { events } = await analyzeFiles([f]);
      all.push(events);
      const fast = new Inventory({ ...policyZones(examplePolicy()), reuseEndpoints: true });
      const full = new Inventory({ ...policyZones(examplePolicy()), reuseEndpoints: false });
      fast.observeAll(events);
      full.observeAll(events);
      expect(JSON.parse(JSON.stringify(fast.toJSON())), f).toEqual(JSON.parse(JSON.stringify(full.toJSON())));
      reused += events.filter((e, i) => i > 0 && e.flow !== undefined && events[i - 1].flow?.src_ip === e.flow.src_ip && events[i - 1].flow?.dst_ip === e.flow.dst_ip).length;
    }
    // The comparison means something only if the shortcut was taken often.
    expect(reused).toBeGreaterThan(150);
    const fast = new Inventory({ ...policyZones(examplePolicy()), reuseEndpoints: true });
    const full = new Inventory({ ...policyZones(examplePolicy()), reuseEndpoints: false });
    for (const events of all) {
      fast.observeAll(events);
      full.observeAll(events);
    }
    expect(JSON.parse(JSON.stringify(fast.toJSON()))).toEqual(JSON.parse(JSON.stringify(full.toJSON())));
  });
});

describe('inventory over the corpus', () => {
  it('02: the CT is a modality with its AE title and DICOM identity; the PACS answers PACS_MAIN', async () => {
    const inv = await inventoryOf('02_');
    const ct = dev(inv, '10.77.10.21');
    expect(ct.id).toBe('mac:02:77:0a:00:00:15');
    expect(ct.role).toBe('modality');
    expect(ct.zone).toEqual({ name: 'MU', kind: 'medical' });
    expect(ct.dicom.calling_aes).toEqual(['CT_SCANNER01']);
    expect(ct.dicom_identity).toMatchObject({ modality: 'CT', manufacturer: 'SyntheticMed CT', station_name: 'CT_SCANNER01' });
    expect(ct.dicom.implementations[0]).toEqual({ class_uid: '1.2.276.0.7230010.3.0.3.6.7', version: 'OFFIS_DCMTK_367' });
    expect(ct.roles[0].facts.join(' ')).toContain('Modality CT');
    expect(ct.scenario.number).toBe(3);
    expect(ct.properties.health_data.value).toBe('yes');
    expect(ct.properties.integrations.facts.join(' ')).toContain('10.77.20.10');
    expect(ct.properties.display.value).toBe('not-visible');

    const pacs = dev(inv, '10.77.20.10');
    expect(pacs.id).toBe('mac:02:77:14:00:00:0a');
    expect(pacs.role).toBe('pacs');
    expect(pacs.dicom.called_aes).toEqual(['PACS_MAIN']);
    expect(pacs.dicom_identity).toBeNull();
    expect(pacs.services_offered).toContainEqual(expect.objectContaining({ port: 104, app: 'dicom' }));
    expect(pacs.peers.dicom).toEqual(['10.77.10.21']);
  });

  it('03 + 04: worklist server, modality querying MWL, viewer retrieving from the Q/R archive', async () => {
    const inv = await inventoryOf('03_', '04_');
    expect(dev(inv, '10.77.20.11').role).toBe('worklist');
    expect(dev(inv, '10.77.20.11').dicom.called_aes).toEqual(['RIS_MWL']);
    expect(dev(inv, '10.77.10.21').role).toBe('modality');
    const viewer = dev(inv, '10.77.40.12');
    expect(viewer.role).toBe('viewer');
    expect(viewer.dicom.calling_aes).toEqual(['VIEWER_WS1']);
    // The CT dataset arrived by a C-GET sub-operation: neither end becomes a CT.
    expect(viewer.dicom_identity).toBeNull();
    const archive = dev(inv, '10.77.20.12');
    expect(archive.role).toBe('pacs');
    expect(archive.dicom.called_aes).toEqual(['ORTHANC_PACS']);
    expect(archive.dicom_identity).toBeNull();
  });

  it('08/09: HL7 senders with their sending application, and the engine', async () => {
    const inv = await inventoryOf('08_', '09_');
    const epic = dev(inv, '10.77.20.30');
    expect(epic.role).toBe('hl7-sender');
    expect(epic.hl7.applications).toContain('EPIC^OUS');
    expect(epic.hl7.message_types_sent).toEqual(expect.arrayContaining(['ADT^A01', 'ORU^R01']));
    expect(dev(inv, '10.77.20.31').hl7.applications).toContain('LIS_MIDAS^OUS_LAB');
    const engine = dev(inv, '10.77.20.40');
    expect(engine.role).toBe('hl7-engine');
    expect(engine.hl7.addressed_as).toContain('RIS^RAD');
    expect(engine.hl7.acks_sent).toBeGreaterThan(0);
    expect(engine.properties.health_data.value).toBe('yes');
  });

  it('13: SSH banners and the admin workstation', async () => {
    const inv = await inventoryOf('13_');
    const pump = dev(inv, '10.77.10.40');
    expect(pump.software).toContainEqual({ source: 'ssh', value: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10' });
    expect(pump.remote_access[0]).toMatchObject({ protocol: 'ssh', direction: 'inbound', peer: '10.77.40.5', encrypted: true, peer_external: false });
    expect(dev(inv, '10.77.40.5').role).toBe('workstation');
  });

  it('14: VNC from outside makes the MU workstation outrank the modality of 01', async () => {
    const inv14 = await inventoryOf('14_');
    const ws = dev(inv14, '10.77.10.50');
    expect(ws.role).toBe('workstation');
    expect(ws.remote_access).toEqual([expect.objectContaining({ protocol: 'vnc', direction: 'inbound', peer: '198.51.100.23', peer_external: true, encrypted: false })]);
    expect(ws.properties.remote_access.value).toBe('yes');
    expect(ws.properties.configuration_control.value).toBe('yes');
    expect(ws.credentials_cleartext.as_server).toBe(1);
    const vendor = dev(inv14, '198.51.100.23');
    expect(vendor).toMatchObject({ id: 'ip:198.51.100.23', keyed_by: 'ip', external: true, via_mac: PERIMETER_MAC, role: 'vendor-endpoint' });
    expect(vendor.scenario.number).toBeNull();

    const inv01 = await inventoryOf('01_');
    const modality = dev(inv01, '10.77.10.21');
    expect(ws.exposure.score).toBeGreaterThan(modality.exposure.score);
    for (const r of ws.exposure.reasons) {
      expect(r.points).toBeGreaterThan(0);
      expect(r.fact).not.toBe('');
      for (const ref of splitGuideRefs(r.guide_ref)) expect(guideReference(ref), `${r.fact}: ${ref}`).toBeDefined();
    }
    expect(ws.exposure.reasons.map((r) => r.fact).join('\n')).toContain('remote access from outside');
  });

  it('18/19: PHI observed in syslog and in the vendor call-home', async () => {
    const inv = await inventoryOf('18_', '19_');
    const us = dev(inv, '10.77.10.23');
    expect(us.phi.protocols).toContain('syslog');
    expect(us.phi.sent).toBeGreaterThan(0);
    expect(us.properties.health_data.value).toBe('yes');
    const ct = dev(inv, '10.77.10.21');
    expect(ct.phi).toMatchObject({ protocols: ['http'], kinds: ['fodselsnummer'] });
    expect(ct.phi.sent_external).toBeGreaterThan(0);
    expect(ct.properties.cloud.value).toBe('yes');
    expect(ct.tls.contacted_names).toContain('telemetry.vendor-cloud.example');
    expect(ct.software).toContainEqual({ source: 'http-user-agent', value: 'SMC-Telemetry/2.3' });
    const cloud = dev(inv, '198.51.100.77');
    expect(cloud.role).toBe('vendor-endpoint');
    expect(cloud.software).toContainEqual({ source: 'http-server', value: 'DeviceHTTP/1.2 Python/3.11.2' });
  });

  it('14/17/19: the perimeter MAC never merges the internet hosts into one device', async () => {
    const inv = await inventoryOf('14_', '17_', '19_');
    // The perimeter gateway is a device of its own, role router, holding none of the internet hosts' addresses.
    const gw = deviceDetail(inv, `mac:${PERIMETER_MAC}`)!;
    expect([gw.router, gw.role, gw.addresses, gw.external]).toEqual([true, 'router', [], false]);
    const ext = [...inv.devices()].filter((d) => d.external);
    expect(ext.map((d) => d.id).sort()).toEqual(['ip:198.51.100.23', 'ip:198.51.100.77', 'ip:203.0.113.45']);
    for (const d of ext) {
      expect(d.addresses).toHaveLength(1);
      expect(d.via_mac).toBe(PERIMETER_MAC);
    }
    // The US device's TLS 1.0 call-home: the SNI is what it contacted, not a name of its own.
    const us = dev(inv, '10.77.10.23');
    expect(us.tls.contacted_names).toContain('update.vendor-cloud.example');
    expect(us.names.map((n) => n.name)).not.toContain('update.vendor-cloud.example');
    expect(us.tls.weak_as_client).toBe(1);
  });

  it('20: routed frames on the other zone VLAN do not move an address to the router MAC', async () => {
    const inv = await inventoryOf('18_', '20_');
    expect(dev(inv, '10.77.10.23').id).toBe('mac:02:77:0a:00:00:17');
    expect(dev(inv, '10.77.30.15').id).toBe('mac:02:77:1e:00:00:0f');
    // The router legs are listed as routers without the addresses their frames carried.
    for (const leg of ['mac:02:77:0a:00:00:01', 'mac:02:77:1e:00:00:01']) {
      const r = deviceDetail(inv, leg)!;
      expect([leg, r.role, r.addresses]).toEqual([leg, 'router', []]);
    }
    expect(dev(inv, '10.77.10.23').vlans).toEqual([110]);
  });

  describe('the whole corpus', () => {
    let inv: Inventory;
    beforeAll(async () => {
      inv = new Inventory(policyZones(examplePolicy()));
      for (const f of readdirSync(CORPUS).filter((n) => /\.pcap(ng)?$/.test(n)).sort()) inv.observeAll((await analyzeFiles([join(CORPUS, f)])).events);
    });

    it('finds every manifest host with its role, and router MACs only as routers', () => {
      const manifest = JSON.parse(readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8')) as { hosts: Record<string, { role: string; mac: string }> };
      const expected: Record<string, string> = {
        '10.77.10.21': 'modality',
        '10.77.10.22': 'modality',
        '10.77.10.23': 'modality',
        '10.77.10.50': 'workstation',
        '10.77.20.10': 'pacs',
        '10.77.20.11': 'worklist',
        '10.77.20.12': 'pacs',
        '10.77.20.30': 'hl7-sender',
        '10.77.20.31': 'hl7-sender',
        '10.77.20.40': 'hl7-engine',
        '10.77.20.50': 'infrastructure',
        '10.77.40.5': 'workstation',
        '10.77.40.12': 'viewer',
        '198.51.100.23': 'vendor-endpoint',
        '198.51.100.77': 'vendor-endpoint',
      };
      for (const [ip, role] of Object.entries(expected)) expect([ip, dev(inv, ip).role]).toEqual([ip, role]);
      for (const [ip, h] of Object.entries(manifest.hosts)) {
        if (h.role === 'router') {
          // Listed as a router when traffic through it was seen, never as the holder of what it routed.
          const r = deviceDetail(inv, `mac:${h.mac}`);
          if (r) expect([ip, r.role, r.addresses]).toEqual([ip, 'router', []]);
          continue;
        }
        const d = deviceDetail(inv, ip);
        if (!d) continue; // a host whose traffic is only in the malformed captures
        if (!d.external && d.keyed_by === 'mac') expect([ip, d.mac]).toEqual([ip, h.mac]);
      }
      const summaries = listSummaries(inv);
      expect(summaries.length).toBe(inv.size);
      for (let i = 1; i < summaries.length; i++) expect(summaries[i - 1].exposure.score).toBeGreaterThanOrEqual(summaries[i].exposure.score);
      expect(Object.keys(summaries[0]).sort()).toEqual(['exposure', 'first_seen', 'id', 'ips', 'last_seen', 'mac', 'names', 'role', 'scenario', 'vendor', 'zone']);
    });

    it('keeps no patient value or planted secret (MANIFEST.json)', () => {
      const m = JSON.parse(readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8')) as {
        identities: { patients: { PatientName: string; fodselsnummer: string; birth: string }[]; credentials: { password: string }[] };
      };
      const text = JSON.stringify(inv) + JSON.stringify(listSummaries(inv)) + JSON.stringify([...inv.devices()].map((d) => deviceDetail(inv, d.id)));
      const planted: string[] = [];
      for (const p of m.identities.patients) {
        planted.push(p.PatientName, p.fodselsnummer, p.birth.replace(/-/g, ''), ...p.PatientName.split('^').filter((s) => s.length >= 4));
      }
      for (const c of m.identities.credentials) planted.push(c.password);
      for (const s of planted) expect([s, text.includes(s)]).toEqual([s, false]);
      expect(text).not.toMatch(/fodselsnummer:[0-9a-f]{8}/); // no pseudonyms either
    });

    it('survives toJSON/fromJSON', () => {
      const back = Inventory.fromJSON(JSON.parse(JSON.stringify(inv)), policyZones(examplePolicy()));
      expect(JSON.stringify(back)).toBe(JSON.stringify(inv));
      expect(back.byIp('10.77.10.21')?.id).toBe('mac:02:77:0a:00:00:15');
    });
  });
});
