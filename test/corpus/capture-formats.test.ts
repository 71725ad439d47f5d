import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeFiles } from '../support/analyze.js';
import { readPcapFrames, relink, writePcap, writePcapng } from '../support/pcap-writer.js';

const CORPUS = join(import.meta.dirname, '../../fixtures/corpus');
const tmp = mkdtempSync(join(tmpdir(), 'muvakt-formats-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Mixed content: DICOM with VLAN tags, QinQ HL7, IPv6 HL7, TLS, UDP syslog, a lossy capture.
const SOURCES = ['21_dicom_cstore_lossy.pcap', '23_dicom_cstore_vlan110.pcap', '24_hl7_qinq_300_120.pcap', '22_hl7_ipv6.pcap', '16_tls12_sni.pcap', '18_syslog_phi.pcap', '06_dicom_reject_abort.pcap'];

async function flowsOf(path: string) {
  const r = await analyzeFiles([path]);
  expect(r.error).toBeUndefined();
  return r.flows;
}

describe('every capture format yields exactly the same flow events', () => {
  it.each(SOURCES)('%s as editcap pcapng and nanosecond pcap', async (name) => {
    const src = join(CORPUS, name);
    const ng = join(tmp, `${name}.pcapng`);
    const ns = join(tmp, `${name}.ns.pcap`);
    execFileSync('editcap', ['-F', 'pcapng', src, ng]);
    execFileSync('editcap', ['-F', 'nsecpcap', src, ns]);
    const base = await flowsOf(src);
    expect(base.length).toBeGreaterThan(0);
    expect(await flowsOf(ng)).toEqual(base);
    expect(await flowsOf(ns)).toEqual(base);
  });

  it.each(SOURCES)('%s as big-endian pcap (µs and ns) and multi-section, multi-interface pcapng', async (name) => {
    const src = join(CORPUS, name);
    const { linkType, frames } = readPcapFrames(src);
    const base = await flowsOf(src);
    const variants: [string, Buffer][] = [
      ['be-us.pcap', writePcap(frames, linkType, { bigEndian: true })],
      ['be-ns.pcap', writePcap(frames, linkType, { bigEndian: true, nano: true })],
      ['le-ns.pcap', writePcap(frames, linkType, { nano: true })],
      [
        'sections.pcapng',
        writePcapng(frames, [
          { linkType, tsresol: 6 },
          { linkType, tsresol: 9 },
        ], { sectionEvery: 7, alternateByteOrder: true }),
      ],
    ];
    for (const [suffix, data] of variants) {
      const p = join(tmp, `${name}.${suffix}`);
      writeFileSync(p, data);
      expect(await flowsOf(p), suffix).toEqual(base);
    }
  });
});

describe('link types', () => {
  // Untagged captures only: these link types have no VLAN tags to carry.
  const untagged = ['21_dicom_cstore_lossy.pcap', '22_hl7_ipv6.pcap', '16_tls12_sni.pcap'];
  const linkTypes: [string, number][] = [
    ['Linux SLL', 113],
    ['Linux SLL2', 276],
    ['raw IP', 101],
    ['BSD loopback (DLT_NULL)', 0],
    ['OpenBSD loopback (DLT_LOOP)', 108],
  ];
  it.each(untagged)('%s decodes the same flows from every link type', async (name) => {
    const { linkType, frames } = readPcapFrames(join(CORPUS, name));
    expect(linkType).toBe(1);
    const base = await flowsOf(join(CORPUS, name));
    // Non-IP frames (ARP) have no place on an IP-only link.
    const ipFrames = frames.filter((f) => [0x0800, 0x86dd].includes(f.data.readUInt16BE(12)));
    for (const [label, lt] of linkTypes) {
      const converted = ipFrames.map((f) => {
        const data = relink(f.data, lt);
        return { ...f, data, origLen: f.origLen - f.data.length + data.length };
      });
      const p = join(tmp, `${name}.${lt}.pcap`);
      writeFileSync(p, writePcap(converted, lt));
      const got = await flowsOf(p);
      const delta = (lt === 113 ? 16 : lt === 276 ? 20 : lt === 101 ? 0 : 4) - 14;
      const strip = (fl: typeof base) =>
        fl.map((e) => ({
          flow: e.flow,
          pkts: [e.pkts_toserver, e.pkts_toclient],
          start: e.start,
          end: e.end,
          state: e.state,
          app: e.app,
        }));
      expect(strip(got), label).toEqual(strip(base));
      for (let i = 0; i < base.length; i++) {
        expect(got[i].bytes_toserver, label).toBe(base[i].bytes_toserver + delta * base[i].pkts_toserver);
        expect(got[i].bytes_toclient, label).toBe(base[i].bytes_toclient + delta * base[i].pkts_toclient);
      }
      // SLL keeps the sender's MAC; raw IP and loopback have none.
      if (lt === 113 || lt === 276) expect(got.map((e) => e.client_mac), label).toEqual(base.map((e) => e.client_mac));
      else expect(got.every((e) => e.client_mac === undefined), label).toBe(true);
    }
  });
});
