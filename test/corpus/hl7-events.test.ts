import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../support/analyze.js';

const CORPUS = join(import.meta.dirname, '../../fixtures/corpus');

interface GroundTruthMessage {
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

/** Through the whole pipeline (capture → flows → reassembly → dispatch → HL7 analyzer), per flow. */
describe('hl7.message events equal tshark’s HL7 decoding of the corpus', () => {
  it.each(['08_hl7_adt_oru_batch.pcap', '09_hl7_nack_ae_ar.pcap', '22_hl7_ipv6.pcap', '24_hl7_qinq_300_120.pcap', '25_dicom_hl7_mixed.pcapng'])('%s', async (file) => {
    const gt = JSON.parse(readFileSync(join(CORPUS, file.replace(/\.pcap(ng)?$/, '.json')), 'utf8'));
    const { events, flows } = await analyzeFiles([join(CORPUS, file)]);
    for (const gflow of gt.flows.filter((f: { hl7?: unknown }) => f.hl7)) {
      const flow = flows.find((f) => f.flow.src_port === gflow.client[1] && f.flow.dst_port === gflow.server[1]);
      expect(flow?.app).toBe('hl7');
      const msgs = events.filter((e) => e.type === 'hl7.message' && e.flow!.id === flow!.flow.id) as unknown as Record<string, string>[];
      const truth: GroundTruthMessage[] = gflow.hl7.messages;
      const key = (m: { control_id: string }) => m.control_id;
      expect(msgs.map(key).sort()).toEqual(truth.map(key).sort());
      for (const t of truth) {
        const m = msgs.find((x) => x.control_id === t.control_id)!;
        expect([m.sending_application, m.sending_facility, m.receiving_application, m.receiving_facility, m.version]).toEqual([t.sending_app, t.sending_facility, t.receiving_app, t.receiving_facility, t.version]);
        // tshark prints MSH-9 whole; the event splits type^trigger from the structure.
        expect([m.message_type, m.message_structure].join('^')).toBe(t.type.split('^').length === 3 ? t.type : `${t.type}^`);
        if (t.acked_control_id) {
          const acked = msgs.find((x) => x.control_id === t.acked_control_id)!;
          expect(acked.ack_code).toBe(t.ack_code);
          expect(Number(acked.ack_latency_ms)).toBeGreaterThanOrEqual(0);
        }
      }
    }
  });

  it('09: the AE and AR answers are reported as undelivered, the AA one is not', async () => {
    const { events } = await analyzeFiles([join(CORPUS, '09_hl7_nack_ae_ar.pcap')]);
    const und = events.filter((e) => e.type === 'hl7.undelivered') as unknown as Record<string, string>[];
    expect(und.map((u) => [u.control_id, u.reason, u.ack_code])).toEqual([
      ['LAB077001', 'negative-ack', 'AE'],
      ['LAB077002', 'negative-ack', 'AR'],
      ['LAB077004', 'negative-ack', 'AE'],
    ]);
  });
});
