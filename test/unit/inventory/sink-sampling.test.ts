import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCaptureFile } from '../../../agent/capture/capture-file.js';
import { defaultRegistry } from '../../../agent/analyzers/default-registry.js';
import { defaultEnvironment } from '../../../agent/analyzers/environment.js';
import type { MuvaktEvent } from '../../../agent/events/types.js';
import { InventorySink } from '../../../agent/inventory/sink.js';
import { Pipeline } from '../../../agent/pipeline.js';
import { TEST_PSEUDONYM_KEY } from '../../support/keys.js';

const CORPUS = join(import.meta.dirname, '../../../fixtures/corpus');
const NULL_SINK = { write() {}, flush() {}, close() {} };

describe('per-connection event numbers (flowSeq)', () => {
  it('number each connection’s analyzer events 1, 2, 3 … and leave flow events unnumbered', async () => {
    const seen: { e: MuvaktEvent; seq: number | undefined }[] = [];
    const p = new Pipeline({ events: { write: (e, seq) => void seen.push({ e, seq }), flush() {}, close() {} }, registry: defaultRegistry(defaultEnvironment(TEST_PSEUDONYM_KEY)) });
    // HL7 batches, NACKs and a mixed DICOM/HL7 capture through one pipeline: flow objects are
    // recycled between connections, and each new connection starts again at 1.
    for (const f of ['08_hl7_adt_oru_batch.pcap', '09_hl7_nack_ae_ar.pcap', '25_dicom_hl7_mixed.pcapng', '01_dicom_cecho.pcap']) {
      await readCaptureFile(join(CORPUS, f), p.handle);
    }
    p.finish('shutdown');
    const next = new Map<string, number>();
    let analyzerEvents = 0;
    for (const { e, seq } of seen) {
      if (e.type === 'flow') {
        expect(seq).toBeUndefined();
        continue;
      }
      const id = e.flow!.id;
      const want = (next.get(id) ?? 0) + 1;
      expect(seq).toBe(want);
      next.set(id, want);
      analyzerEvents++;
    }
    expect(analyzerEvents).toBeGreaterThan(40);
    expect(next.size).toBeGreaterThan(5);
    expect(Math.max(...next.values())).toBeGreaterThanOrEqual(15);
  });
});

describe('InventorySink sampling', () => {
  const ev = (type: string, id = 'c1'): MuvaktEvent => ({
    ts: '2026-11-23T10:00:00.000000Z',
    type,
    flow: { id, vlan: [], src_ip: '10.1.1.5', src_port: 40000, dst_ip: '10.1.2.40', dst_port: 2575, proto: 'tcp', app: 'hl7' },
  });

  it('gives the inventory a connection’s first 32 events, then only the kinds that do not repeat', () => {
    const sink = new InventorySink(NULL_SINK, null);
    const got: string[] = [];
    sink.inventory.observe = (e: MuvaktEvent) => void got.push(e.type);
    for (let seq = 1; seq <= 100; seq++) sink.write(ev(seq === 60 ? 'credential.cleartext' : 'hl7.message'), seq);
    expect(got.filter((t) => t === 'hl7.message')).toHaveLength(32);
    expect(got).toContain('credential.cleartext');
    // Without numbers (events replayed from elsewhere) nothing is left out.
    for (let i = 0; i < 50; i++) sink.write(ev('hl7.message', 'c2'));
    expect(got.filter((t) => t === 'hl7.message')).toHaveLength(82);
  });

  it('passes every event and its number on to the next sink', () => {
    const passed: [string, number | undefined][] = [];
    const sink = new InventorySink({ write: (e, seq) => void passed.push([e.type, seq]), flush() {}, close() {} }, null);
    for (let seq = 1; seq <= 40; seq++) sink.write(ev('hl7.message'), seq);
    expect(passed).toHaveLength(40);
    expect(passed[39]).toEqual(['hl7.message', 40]);
  });
});
