import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { chunked, CORPUS, followRaw, tcpChunks, tcpStreams } from './tcp-streams.js';
import { harness, leaks, type Harness } from './support.js';

const manifest = JSON.parse(readFileSync(CORPUS + 'MANIFEST.json', 'utf8'));
const FILES = ['08_hl7_adt_oru_batch.pcap', '09_hl7_nack_ae_ar.pcap', '22_hl7_ipv6.pcap', '24_hl7_qinq_300_120.pcap', '25_dicom_hl7_mixed.pcapng'];

interface GtMessage {
  sending_app: string;
  sending_facility: string;
  receiving_app: string;
  receiving_facility: string;
  type: string;
  control_id: string;
  version: string;
  ack_code?: string;
  acked_control_id?: string;
}

function groundTruth(file: string): GtMessage[] {
  const gt = JSON.parse(readFileSync(CORPUS + file.replace(/\.pcap(ng)?$/, '.json'), 'utf8'));
  return gt.flows.filter((f: { hl7?: unknown }) => f.hl7).flatMap((f: { hl7: { messages: GtMessage[] } }) => f.hl7.messages);
}

function runChunks(file: string): Harness {
  const h = harness({ ackTimeoutMs: 30_000 });
  for (const stream of tcpStreams(CORPUS + file, 2575)) {
    const hs = harness({ ackTimeoutMs: 30_000 });
    for (const c of tcpChunks(CORPUS + file, stream)) hs.parser.data(c.dir, c.data, 0, c.data.length, c.tsSec, c.tsNsec);
    hs.parser.end('fin');
    h.records.push(...hs.records);
  }
  return h;
}

describe.each(FILES)('corpus %s', (file) => {
  const meta = manifest.captures.find((c: { file: string }) => c.file === file);
  const gt = groundTruth(file);
  const h = runChunks(file);

  it('matches tshark message by message', () => {
    const got = h.messages().sort((a, b) => a.ts_sec - b.ts_sec || a.ts_nsec - b.ts_nsec || a.direction.localeCompare(b.direction));
    const byId = new Map(got.map((m) => [m.control_id, m]));
    expect(got.length).toBe(gt.length);
    for (const g of gt) {
      const m = byId.get(g.control_id)!;
      expect(m, g.control_id).toBeDefined();
      expect(`${m.message_type}^${m.message_structure}`).toBe(g.type);
      expect(m.version).toBe(g.version);
      expect([m.sending_application, m.sending_facility, m.receiving_application, m.receiving_facility]).toEqual([
        g.sending_app, g.sending_facility, g.receiving_app, g.receiving_facility,
      ]);
      if (g.ack_code !== undefined) {
        expect(m.acknowledgment).toMatchObject({ code: g.ack_code, control_id: g.acked_control_id });
        // The original carries the ACK code that answered it.
        expect(byId.get(g.acked_control_id!)!.ack_code).toBe(g.ack_code);
      }
    }
  });

  it('matches the manifest facts', () => {
    const f = meta.expected_facts ?? {};
    const originals = h.originals();
    if (f.control_ids) expect(originals.map((m) => m.control_id)).toEqual(f.control_ids);
    if (f.types) expect(originals.map((m) => m.message_type)).toEqual(f.types);
    if (f.acks) expect(originals.map((m) => m.ack_code)).toEqual(f.acks);
    if (f.sending) expect(originals.every((m) => `${m.sending_application}^${m.sending_facility}` === f.sending)).toBe(true);
    if (f.receiving) expect(originals.every((m) => `${m.receiving_application}^${m.receiving_facility}` === f.receiving)).toBe(true);
    for (const m of originals) {
      expect(m.ack_latency_ms).toBeGreaterThanOrEqual(0);
      expect(m.ack_latency_ms).toBeLessThan(1000);
    }
  });

  it('reports exactly the negative ACKs as undelivered', () => {
    const neg = h.originals().filter((m) => m.ack_code !== 'AA');
    expect(h.undelivered().map((u) => [u.control_id, u.reason, u.ack_code])).toEqual(
      neg.map((m) => [m.control_id, 'negative-ack', m.ack_code]),
    );
    if (file.startsWith('09')) {
      expect(h.undelivered().map((u) => u.ack_code)).toEqual(['AE', 'AR', 'AE']);
      expect(h.undelivered().map((u) => u.error_codes)).toEqual([['204'], ['200'], ['204']]);
    }
  });

  it('sees the patient data but never emits it', () => {
    for (const m of h.originals()) expect(m.phi_fields).toEqual(expect.arrayContaining(['PID-3', 'PID-5', 'PID-7']));
    const phi = h.phi();
    expect(phi.length).toBe(h.originals().length);
    expect(phi.every((p) => p.kinds.includes('fodselsnummer') && p.pseudonyms.length === p.count)).toBe(true);
    expect(leaks(h.records, meta.planted_secrets)).toEqual([]);
  });

  it('gives the same answer for any chunking of the follow-raw streams', () => {
    for (const stream of tcpStreams(CORPUS + file, 2575)) {
      const [c2s, s2c] = followRaw(CORPUS + file, stream);
      const reference = harness();
      reference.send(0, c2s);
      reference.send(1, s2c);
      reference.parser.end('fin');
      const summary = (hh: Harness) => hh.messages().map((m) => [m.control_id, m.message_type, m.ack_code, m.acknowledgment?.code]);
      for (const sizes of [[1], [2, 3, 5], [7, 1, 1400], [65536]]) {
        const hh = harness();
        // Interleave: all of a direction's chunks, alternating per message is not needed for correlation.
        for (const b of chunked(c2s, sizes)) hh.send(0, b);
        for (const b of chunked(s2c, sizes)) hh.send(1, b);
        hh.parser.end('fin');
        expect(summary(hh)).toEqual(summary(reference));
        expect(hh.parser.counters.unterminatedFrames).toBe(0);
      }
    }
  });
});
