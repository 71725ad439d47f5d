/**
 * The parser against tshark 4.0's decode of the shared corpus (fixtures/corpus/NN_*.json),
 * for every DICOM flow, fed whole segments, random chunks and single bytes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DicomStreamParser } from '../../../protocols/dicom/parser.js';
import type {
  DicomAssociationRecord,
  DicomDimseRecord,
  DicomRecord,
} from '../../../protocols/dicom/records.js';
import { createPseudonymizer } from '../../../protocols/phi/pseudonym.js';
import { CORPUS, drive, followTcp, type Chunking } from '../../support/streams.js';

const CAPTURES = [
  '01_dicom_cecho',
  '02_dicom_cstore_ct_mr',
  '03_dicom_mwl_cfind',
  '04_dicom_qr_cfind_cget',
  '05_dicom_user_identity',
  '06_dicom_reject_abort',
  '21_dicom_cstore_lossy',
  '23_dicom_cstore_vlan110',
  '25_dicom_hl7_mixed',
  '26_dicom_nsec',
];

interface GtContext {
  id: number;
  abstract_syntax?: string;
  transfer_syntaxes: string[];
  result?: string;
}
interface GtAssoc {
  calling_ae: string;
  called_ae: string;
  presentation_contexts: GtContext[];
  max_pdu_length?: number;
  implementation_version?: string;
  user_identity?: { type: number; secondary_field_present: boolean };
}
interface GtDimse {
  command: string;
  message_id?: string;
  message_id_responded_to?: string;
  status?: string;
  affected_sop_class?: string;
  remaining?: string;
  completed?: string;
  failed?: string;
  warning?: string;
}
interface GtDicom {
  pdu_types: [string, number][];
  association_request?: GtAssoc;
  association_accept?: GtAssoc;
  association_reject?: { result: string; source: string; reason: string };
  abort?: { source: string; reason: string };
  dimse?: GtDimse[];
  dataset_attributes?: [string, string][];
}
interface GtFlow {
  stream: number;
  client: [string, number];
  dicom?: GtDicom;
}

const pseudonymize = createPseudonymizer(Buffer.alloc(32, 7));

function groundTruth(name: string): GtFlow[] {
  const gt = JSON.parse(readFileSync(join(CORPUS, name + '.json'), 'utf8')) as { flows: GtFlow[] };
  return gt.flows.filter((f) => f.dicom !== undefined);
}

function captureFile(name: string): string {
  return name.startsWith('25_') ? name + '.pcapng' : name + '.pcap';
}

function run(name: string, stream: number, chunking: Chunking, seed = 1) {
  const [s] = followTcp(captureFile(name), [stream]);
  const records: DicomRecord[] = [];
  const parser = new DicomStreamParser({ emit: (r) => records.push(r), pseudonymize });
  const driven = drive(parser, s.segments, chunking, seed);
  parser.end('fin');
  return { records, parser, driven, stream: s };
}

/** Status "Success (0x00)" / "... (0xff00)" → number. */
function gtStatus(s: string): number {
  const m = /\((0x[0-9a-f]+)\)\s*$/i.exec(s);
  if (!m) throw new Error('unparsed status ' + s);
  return Number.parseInt(m[1], 16);
}

/**
 * groundtruth.py takes a leading number in tshark's "name (uid)" text for the UID, which turns
 * "12-lead ECG Waveform Storage (1.2.840.10008.5.1.4.1.1.9.1.1)" into "12".
 */
function fixGtUid(uid: string | undefined): string | undefined {
  return uid === '12' ? '1.2.840.10008.5.1.4.1.1.9.1.1' : uid;
}

function compare(gt: GtDicom, records: DicomRecord[]): void {
  const assocs = records.filter((r): r is DicomAssociationRecord => r.type === 'dicom.association');
  const dimse = records.filter((r): r is DicomDimseRecord => r.type === 'dicom.dimse');
  expect(records.filter((r) => r.type === 'dicom.malformed')).toEqual([]);
  expect(assocs).toHaveLength(1);
  const a = assocs[0];

  const totalPdus = gt.pdu_types.reduce((n, [, c]) => n + c, 0);
  expect(a.pdus).toBe(totalPdus);

  const rq = gt.association_request!;
  for (const c of rq.presentation_contexts) c.abstract_syntax = fixGtUid(c.abstract_syntax);
  expect(a.calling_ae).toBe(rq.calling_ae);
  expect(a.called_ae).toBe(rq.called_ae);
  expect(a.max_pdu_length).toBe(rq.max_pdu_length);
  expect(a.implementation_version).toBe(rq.implementation_version);
  expect(
    a.presentation_contexts.map((c) => ({ id: c.id, abstract_syntax: c.abstract_syntax, transfer_syntaxes: c.proposed_transfer_syntaxes })),
  ).toEqual(rq.presentation_contexts);
  expect(a.abstract_syntaxes).toEqual([...new Set(rq.presentation_contexts.map((c) => c.abstract_syntax))]);
  if (rq.user_identity) {
    expect(a.user_identity?.type).toBe(rq.user_identity.type);
    expect(a.user_identity?.username_present).toBe(true);
    expect(a.user_identity?.password_present).toBe(rq.user_identity.secondary_field_present);
  } else {
    expect(a.user_identity).toBeUndefined();
  }

  const ac = gt.association_accept;
  if (ac) {
    expect(a.acceptor_max_pdu_length).toBe(ac.max_pdu_length);
    expect(a.acceptor_implementation_version).toBe(ac.implementation_version);
    const got = a.presentation_contexts
      .filter((c) => c.result !== undefined)
      .map((c) => ({ id: c.id, transfer_syntaxes: c.transfer_syntax ? [c.transfer_syntax] : [], result: c.result_name }));
    expect(got).toEqual(ac.presentation_contexts);
    const accepted = ac.presentation_contexts.filter((c) => c.result === 'acceptance');
    expect(a.accepted_contexts.map((c) => c.id)).toEqual(accepted.map((c) => c.id));
    expect(a.transfer_syntaxes).toEqual([...new Set(accepted.flatMap((c) => c.transfer_syntaxes))]);
  }

  if (gt.association_reject) {
    expect(a.result).toBe('rejected');
    expect(a.reject).toMatchObject({
      result: Number(gt.association_reject.result),
      source: Number(gt.association_reject.source),
      reason: Number(gt.association_reject.reason),
    });
    expect(a.reject_reason).toBe('called-ae-title-not-recognized');
  } else if (gt.abort) {
    expect(a.result).toBe('aborted');
    expect(a.abort).toMatchObject({ source: Number(gt.abort.source), reason: Number(gt.abort.reason) });
  } else if (gt.pdu_types.some(([t]) => t === 'A-RELEASE-RP')) {
    expect(a.result).toBe('released');
  } else {
    expect(a.result).toBe('accepted');
  }

  const want = gt.dimse ?? [];
  expect(dimse.map((d) => d.command)).toEqual(want.map((d) => d.command));
  want.forEach((w, i) => {
    const d = dimse[i];
    if (w.message_id !== undefined) expect(d.message_id).toBe(Number(w.message_id));
    if (w.message_id_responded_to !== undefined) expect(d.message_id_responded_to).toBe(Number(w.message_id_responded_to));
    if (w.status !== undefined) expect(d.status).toBe(gtStatus(w.status));
    else expect(d.status).toBeUndefined();
    // groundtruth.py opens a new entry at (0000,0100), so (0000,0002), which precedes it,
    // lands on the previous entry: entry i holds the SOP class of command i + 1.
    if (w.affected_sop_class !== undefined) expect(dimse[i + 1]?.sop_class_uid).toBe(fixGtUid(w.affected_sop_class));
    for (const k of ['remaining', 'completed', 'failed', 'warning'] as const) {
      if (w[k] !== undefined) expect(d.sub_operations?.[k]).toBe(Number(w[k]));
    }
  });
  expect(a.dimse_count).toBe(dimse.length);
  expect(Object.values(a.commands).reduce((x, y) => x + y, 0)).toBe(dimse.length);

  // Data set peeks: every patient element tshark saw with a value, we name (never its value).
  const attrs = gt.dataset_attributes ?? [];
  const phiNames = ['PatientName', 'PatientID', 'PatientBirthDate', 'AccessionNumber'];
  const seen = new Set(dimse.flatMap((d) => d.phi_fields));
  for (const [name, value] of attrs) {
    if (phiNames.includes(name) && value !== '<Empty>' && value !== '') expect(seen).toContain(name);
  }
  expect(new Set(a.phi_fields)).toEqual(seen);
  const ids = new Set(attrs.filter(([n, v]) => n === 'PatientID' && /^\d{11}$/.test(v)).map(([, v]) => v));
  const pseudonyms = new Set(dimse.flatMap((d) => (d.patient_ids ?? []).map((p) => p.pseudonym)));
  // A valid fødselsnummer is pseudonymized under its kind, as HL7 does, so the two link up.
  expect(pseudonyms).toEqual(new Set([...ids].map((v) => pseudonymize('fodselsnummer', v))));
  for (const d of dimse) for (const p of d.patient_ids ?? []) expect(p.kind).toBe('fodselsnummer');

  // Device facts come from C-STORE data sets (worklist items carry the scheduled modality).
  const stores = dimse.filter((d) => d.command === 'C-STORE-RQ');
  if (stores.length > 0) {
    const modalities = new Set(stores.map((d) => d.device?.modality));
    const stations = new Set(stores.map((d) => d.device?.station_name));
    expect(modalities).toEqual(new Set(attrs.filter(([n]) => n === 'Modality').map(([, v]) => v)));
    expect(stations).toEqual(new Set(attrs.filter(([n]) => n === 'StationName').map(([, v]) => v)));
    for (const d of stores) {
      expect(d.dataset?.truncated).toBe(false);
      expect(d.dataset?.bytes_inspected).toBeLessThan(4096);
    }
  }
}

describe('DICOM corpus vs tshark ground truth', () => {
  for (const name of CAPTURES) {
    for (const flow of groundTruth(name)) {
      for (const chunking of ['segments', 'random', 'tiny'] as const) {
        it(`${name} stream ${flow.stream} (${chunking})`, () => {
          const { records, parser, stream } = run(name, flow.stream, chunking, flow.stream + 11);
          expect(stream.client).toBe(flow.client.join(':'));
          compare(flow.dicom!, records);
          expect(parser.counters.internal_errors).toBe(0);
          expect(parser.counters.malformed).toBe(0);
        });
      }
    }
  }

  it('skips bulk payload instead of receiving it (02: 4 images, ~1.3 MB)', () => {
    const { driven, parser } = run('02_dicom_cstore_ct_mr', 0, 'segments');
    const total = driven.delivered + driven.skipped;
    expect(total).toBeGreaterThan(1_300_000);
    // What is still delivered is PDU/PDV headers and the rest of the segment each header sits in.
    expect(driven.skipped / total).toBeGreaterThan(0.9);
    expect(parser.counters.bytes_skipped).toBe(driven.skipped);
  });

  it('user identity (05): type 2, flags and a keyed pseudonym, never the values', () => {
    const { records } = run('05_dicom_user_identity', 0, 'random', 5);
    const a = records.find((r): r is DicomAssociationRecord => r.type === 'dicom.association')!;
    expect(a.user_identity).toEqual({
      type: 2,
      type_name: 'username-passcode',
      username_present: true,
      password_present: true,
      token_present: false,
      positive_response_requested: false,
      username_pseudonym: pseudonymize('dicom-username', 'radtech01'),
    });
  });

  it('C-GET (04 stream 1): SCP/SCU role selection and the sub-operation counters', () => {
    const { records } = run('04_dicom_qr_cfind_cget', 1, 'segments');
    const a = records.find((r): r is DicomAssociationRecord => r.type === 'dicom.association')!;
    expect(a.role_selection?.length).toBeGreaterThan(100);
    expect(a.role_selection?.find((r) => r.sop_class_uid === '1.2.840.10008.5.1.4.1.1.2')).toEqual({
      sop_class_uid: '1.2.840.10008.5.1.4.1.1.2',
      scu: false,
      scp: true,
    });
    const store = records.find((r): r is DicomDimseRecord => r.type === 'dicom.dimse' && r.command === 'C-STORE-RQ')!;
    expect(store.direction).toBe('to_client');
    expect(store.sop_class_name).toBe('CT Image Storage');
  });
});
