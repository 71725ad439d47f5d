/**
 * Nothing the parser emits may carry a patient value or a credential: the corpus's planted
 * names, fødselsnummer, birth dates, accession numbers and DICOM user-identity password
 * are searched for in every record, for every DICOM capture, however the bytes are split.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DicomStreamParser } from '../../../protocols/dicom/parser.js';
import type { DicomRecord } from '../../../protocols/dicom/records.js';
import { createPseudonymizer } from '../../../protocols/phi/pseudonym.js';
import { Direction } from '../../../protocols/stream.js';
import {
  associateAc,
  associateRq,
  commandSet,
  CT_STORAGE,
  dataset,
  datasetPdus,
  EXPLICIT_LE,
  pdata,
  pdv,
  storeRq,
  userIdentity,
} from './build.js';
import { CORPUS, drive, followTcp, rng, type Segment } from '../../support/streams.js';

interface Manifest {
  identities: {
    patients: { PatientName: string; fodselsnummer: string; birth: string }[];
    credentials: { user?: string; password: string }[];
  };
  captures: { file: string; planted_secrets: string[] }[];
}

const manifest = JSON.parse(readFileSync(join(CORPUS, 'MANIFEST.json'), 'utf8')) as Manifest;

const SECRETS = new Set<string>();
for (const c of manifest.captures) for (const s of c.planted_secrets) SECRETS.add(s);
for (const p of manifest.identities.patients) {
  SECRETS.add(p.PatientName);
  for (const part of p.PatientName.split('^')) if (part.length >= 4) SECRETS.add(part);
  SECRETS.add(p.fodselsnummer);
  SECRETS.add(p.birth);
  SECRETS.add(p.birth.replaceAll('-', ''));
}
for (const c of manifest.identities.credentials) {
  SECRETS.add(c.password);
  if (c.user) SECRETS.add(c.user);
}

const DICOM = [
  ['01_dicom_cecho.pcap', [0]],
  ['02_dicom_cstore_ct_mr.pcap', [0]],
  ['03_dicom_mwl_cfind.pcap', [0]],
  ['04_dicom_qr_cfind_cget.pcap', [0, 1]],
  ['05_dicom_user_identity.pcap', [0]],
  ['06_dicom_reject_abort.pcap', [0, 1]],
  ['21_dicom_cstore_lossy.pcap', [0]],
  ['23_dicom_cstore_vlan110.pcap', [0]],
  ['25_dicom_hl7_mixed.pcapng', [1, 2]],
  ['26_dicom_nsec.pcap', [0, 1]],
  ['28_malformed_dicom_pdulen.pcap', [0]],
  ['29_malformed_garbage_104.pcap', [0]],
] as const;

function leaks(records: DicomRecord[]): string[] {
  const text = JSON.stringify(records);
  const upper = text.toUpperCase();
  return [...SECRETS].filter((s) => text.includes(s) || upper.includes(s.toUpperCase()));
}

describe('privacy: no patient value or credential leaves the parser', () => {
  const pseudonymize = createPseudonymizer(Buffer.from('muvakt-test-site-key-0123456789'));

  it('has something to look for', () => {
    for (const s of ['NORDMANN^KARI', '14078521210', '19850714', 'A24001', 'radtech01', 'Rtg!Lab2024', 'BERG^INGRID']) {
      expect(SECRETS).toContain(s);
    }
  });

  for (const [file, streams] of DICOM) {
    it(`${file}: records name elements and carry pseudonyms only`, () => {
      for (const s of followTcp(file, [...streams])) {
        for (const chunking of ['segments', 'random', 'tiny'] as const) {
          const records: DicomRecord[] = [];
          const seen: string[] = [];
          const parser = new DicomStreamParser({
            emit: (r) => records.push(r),
            pseudonymize: (kind, v) => {
              seen.push(kind);
              return pseudonymize(kind, v);
            },
          });
          drive(parser, s.segments, chunking, 99);
          parser.end('fin');
          expect(leaks(records)).toEqual([]);
          // Only identifier kinds are ever handed to the pseudonymizer.
          for (const k of seen) expect(['patient-id', 'fodselsnummer', 'd-nummer', 'h-nummer', 'dicom-username']).toContain(k);
        }
      }
    });
  }

  it('planted values in every patient element we read, in a crafted association', () => {
    const ctx = [{ id: 1, abstract: CT_STORAGE, ts: [EXPLICIT_LE] }];
    const ds = dataset(
      [
        { tag: 0x00080050, vr: 'SH', value: 'A24001' },
        { tag: 0x00100010, vr: 'PN', value: 'NORDMANN^KARI' },
        { tag: 0x00100020, vr: 'LO', value: '14078521210' },
        { tag: 0x00100030, vr: 'DA', value: '19850714' },
        { tag: 0x00101000, vr: 'LO', value: '03116210443\\29020456165' },
        { tag: 0x00101001, vr: 'PN', value: 'HANSEN^OLA^JOHAN' },
        { tag: 0x00101002, vr: 'SQ', items: [[{ tag: 0x00100020, vr: 'LO', value: '29020456165' }]] },
        { tag: 0x00101040, vr: 'LO', value: 'BERG^INGRID street 1' },
        { tag: 0x00104000, vr: 'LT', value: 'Rtg!Lab2024 radtech01' },
        { tag: 0x7fe00010, vr: 'OB', value: Buffer.from('NORDMANN^KARI 14078521210 in pixel data') },
      ],
      { explicit: true, le: true },
    );
    const segs: Segment[] = [
      { dir: Direction.ToServer, data: associateRq({ contexts: ctx, user: [userIdentity(2, 'radtech01', 'Rtg!Lab2024')] }) },
      { dir: Direction.ToClient, data: associateAc({ contexts: ctx }) },
      { dir: Direction.ToServer, data: pdata(pdv(1, 0x03, storeRq(1))) },
      ...datasetPdus(1, ds, 64).map((data) => ({ dir: Direction.ToServer, data })),
      // A hostile command set with patient text in elements we do not read.
      {
        dir: Direction.ToClient,
        data: pdata(
          pdv(
            1,
            0x03,
            commandSet([
              [0x0100, 0x8001],
              [0x0120, 1],
              [0x0900, 0xc000],
              [0x0902, 'NORDMANN^KARI 14078521210'],
              [0x1000, '14078521210'],
              [0x0800, 0x0101],
            ]),
          ),
        ),
      },
    ];
    for (const chunking of ['segments', 'random', 'tiny'] as const) {
      const records: DicomRecord[] = [];
      const parser = new DicomStreamParser({ emit: (r) => records.push(r), pseudonymize });
      drive(parser, segs, chunking, 7);
      parser.end('fin');
      expect(leaks(records)).toEqual([]);
      const rq = records.find((r) => r.type === 'dicom.dimse' && r.command === 'C-STORE-RQ');
      expect(rq).toMatchObject({
        phi_fields: expect.arrayContaining(['PatientName', 'PatientID', 'OtherPatientIDs', 'OtherPatientIDsSequence', 'PatientAddress']),
      });
      const kinds = rq?.type === 'dicom.dimse' ? rq.patient_ids?.map((p) => p.kind) : [];
      expect(kinds).toEqual(['fodselsnummer', 'fodselsnummer', 'fodselsnummer']);
    }
  });

  it('mutated user-identity association: the password never surfaces', () => {
    const [s] = followTcp('05_dicom_user_identity.pcap', [0]);
    const r = rng(5);
    for (let i = 0; i < 100; i++) {
      const segs = s.segments.slice(0, 12).map((x) => ({ dir: x.dir, data: Buffer.from(x.data) }));
      const target = segs[0].data;
      for (let k = 0; k < 3; k++) target[Math.floor(r() * target.length)] = Math.floor(r() * 256);
      const records: DicomRecord[] = [];
      const parser = new DicomStreamParser({ emit: (x) => records.push(x), pseudonymize });
      drive(parser, segs, 'random', i);
      parser.end('rst');
      expect(leaks(records)).toEqual([]);
    }
  });
});
