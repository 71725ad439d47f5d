import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MuvaktEvent } from '../../agent/events/types.js';
import { analyzeFiles } from '../support/analyze.js';

const CORPUS = join(import.meta.dirname, '../../fixtures/corpus');
type Ev = MuvaktEvent & Record<string, any>;

async function dicomEvents(file: string) {
  const { events, flows, error } = await analyzeFiles([join(CORPUS, file)]);
  expect(error).toBeUndefined();
  const of = (t: string) => events.filter((e) => e.type === t) as Ev[];
  const dimse = of('dicom.dimse').map((e) => (e.status_class ? `${e.command}(${e.status_class})` : e.command));
  return { assoc: of('dicom.association'), dimseEv: of('dicom.dimse'), dimse, malformed: of('dicom.malformed'), flows };
}

/** Through the whole pipeline, checked against the facts MANIFEST.json states for each capture. */
describe('DICOM through the pipeline matches the corpus manifest', () => {
  it('01 C-ECHO', async () => {
    const { assoc, dimse } = await dicomEvents('01_dicom_cecho.pcap');
    expect(assoc.map((a) => [a.calling_ae, a.called_ae, a.result, a.abstract_syntaxes])).toEqual([['CT_SCANNER01', 'PACS_MAIN', 'released', ['1.2.840.10008.1.1']]]);
    expect(dimse).toEqual(['C-ECHO-RQ', 'C-ECHO-RSP(success)']);
  });

  it('02 four C-STOREs in one association, explicit VR LE accepted, pixel data skipped', async () => {
    const { assoc, dimse, dimseEv } = await dicomEvents('02_dicom_cstore_ct_mr.pcap');
    expect(assoc).toHaveLength(1);
    expect(assoc[0].transfer_syntaxes).toContain('1.2.840.10008.1.2.1');
    expect(dimse.filter((d) => d === 'C-STORE-RQ')).toHaveLength(4);
    expect(dimse.filter((d) => d === 'C-STORE-RSP(success)')).toHaveLength(4);
    expect(new Set(dimseEv.map((e) => e.sop_class_name))).toEqual(new Set(['CT Image Storage', 'MR Image Storage']));
    expect(dimseEv.find((e) => e.command === 'C-STORE-RQ')!.phi_fields).toEqual(expect.arrayContaining(['PatientName', 'PatientID']));
  });

  it('03 worklist C-FIND: pending, pending, success', async () => {
    const { assoc, dimse } = await dicomEvents('03_dicom_mwl_cfind.pcap');
    expect(assoc[0].called_ae).toBe('RIS_MWL');
    expect(dimse).toEqual(['C-FIND-RQ', 'C-FIND-RSP(pending)', 'C-FIND-RSP(pending)', 'C-FIND-RSP(success)']);
  });

  it('04 Q/R: C-FIND then C-GET with a C-STORE sub-operation', async () => {
    const { assoc, dimse } = await dicomEvents('04_dicom_qr_cfind_cget.pcap');
    expect(assoc.map((a) => [a.calling_ae, a.called_ae])).toEqual([
      ['VIEWER_WS1', 'ORTHANC_PACS'],
      ['VIEWER_WS1', 'ORTHANC_PACS'],
    ]);
    expect(dimse).toEqual(['C-FIND-RQ', 'C-FIND-RSP(pending)', 'C-FIND-RSP(success)', 'C-GET-RQ', 'C-STORE-RQ', 'C-STORE-RSP(success)', 'C-GET-RSP(pending)', 'C-GET-RSP(success)']);
  });

  it('05 user identity type 2: presence only, username as a pseudonym', async () => {
    const { assoc } = await dicomEvents('05_dicom_user_identity.pcap');
    expect(assoc[0].user_identity).toMatchObject({ type: 2, username_present: true, password_present: true });
    expect(assoc[0].user_identity.username_pseudonym).toMatch(/^dicom-username:[0-9a-f]{16}$/);
  });

  it('06 rejected (called AE not recognised) and aborted associations', async () => {
    const { assoc, dimse } = await dicomEvents('06_dicom_reject_abort.pcap');
    expect(assoc.map((a) => a.result)).toEqual(['rejected', 'aborted']);
    expect(assoc[0].reject).toMatchObject({ result_name: 'rejected-permanent', source_name: 'service-user', reason: 7 });
    expect(assoc[1].abort).toMatchObject({ source: 0 });
    expect(dimse).toEqual(['C-STORE-RQ', 'C-STORE-RSP(success)']);
  });

  it('21 lossy link: both C-STOREs are decoded; the capture ends before the second response', async () => {
    const { dimse, flows } = await dicomEvents('21_dicom_cstore_lossy.pcap');
    expect(dimse.filter((d) => d === 'C-STORE-RQ')).toHaveLength(2);
    expect(dimse).toContain('C-STORE-RSP(success)');
    expect(flows[0].gap_bytes_toserver ?? 0).toBe(0);
  });

  it('23 tagged VLAN 110 and 26 nanosecond pcap decode like the rest', async () => {
    const v = await dicomEvents('23_dicom_cstore_vlan110.pcap');
    expect(v.assoc[0].flow!.vlan).toEqual([110]);
    expect(v.dimse).toContain('C-STORE-RSP(success)');
    const n = await dicomEvents('26_dicom_nsec.pcap');
    expect(n.dimse).toEqual(['C-ECHO-RQ', 'C-ECHO-RSP(success)', 'C-STORE-RQ', 'C-STORE-RSP(success)']);
  });

  it('28 hostile PDU length is reported, not allocated; 29 random bytes on port 104 are not DICOM', async () => {
    const h = await dicomEvents('28_malformed_dicom_pdulen.pcap');
    expect(h.malformed.map((m) => [m.reason, m.length])).toEqual([['pdu-too-long', 0xfffffff0]]);
    const g = await dicomEvents('29_malformed_garbage_104.pcap');
    expect(g.assoc).toEqual([]);
    expect(g.flows.map((f) => [f.app, f.flow.dst_port])).toEqual([['unknown', 104]]);
  });
});
