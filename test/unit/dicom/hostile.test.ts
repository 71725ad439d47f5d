/**
 * Crafted and hostile input: absurd lengths, items past their PDU, truncated PDVs, gaps,
 * mid-stream pickup, random and mutated bytes. The parser must answer with records and
 * counters, never an exception, and never allocate what a length field claims.
 */
import { describe, expect, it } from 'vitest';
import { DicomStreamParser, type DicomParserOptions } from '../../../protocols/dicom/parser.js';
import type {
  DicomAssociationRecord,
  DicomDimseRecord,
  DicomMalformedRecord,
  DicomRecord,
} from '../../../protocols/dicom/records.js';
import { createPseudonymizer } from '../../../protocols/phi/pseudonym.js';
import { Direction } from '../../../protocols/stream.js';
import {
  abort,
  associateAc,
  associateRq,
  commandSet,
  CT_STORAGE,
  dataset,
  datasetPdus,
  DEFLATED,
  EXPLICIT_BE,
  EXPLICIT_LE,
  imageDataset,
  IMPLICIT_LE,
  item,
  pdata,
  pdu,
  pdv,
  releaseRp,
  releaseRq,
  storeRq,
  storeRsp,
  userIdentity,
  VERIFICATION,
} from './build.js';
import { deliver, directions, drive, followTcp, gapThrough, rng, type Chunking, type DriveResult, type Segment } from '../../support/streams.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;
const pseudonymize = createPseudonymizer(Buffer.alloc(16, 9));

function parserWith(records: DicomRecord[], opts: Partial<DicomParserOptions> = {}) {
  return new DicomStreamParser({ emit: (r) => records.push(r), pseudonymize, ...opts });
}

function run(segments: Segment[], chunking: Chunking = 'segments', opts: Partial<DicomParserOptions> = {}, seed = 3) {
  const records: DicomRecord[] = [];
  const parser = parserWith(records, opts);
  const driven = drive(parser, segments, chunking, seed);
  parser.end('fin');
  return { records, parser, driven, ...split(records) };
}

function split(records: DicomRecord[]) {
  return {
    assocs: records.filter((r): r is DicomAssociationRecord => r.type === 'dicom.association'),
    dimse: records.filter((r): r is DicomDimseRecord => r.type === 'dicom.dimse'),
    malformed: records.filter((r): r is DicomMalformedRecord => r.type === 'dicom.malformed'),
  };
}

const seg = (dir: Direction, data: Buffer): Segment => ({ dir, data });

const STORE_CONTEXTS = [
  { id: 1, abstract: VERIFICATION, ts: [IMPLICIT_LE] },
  { id: 3, abstract: CT_STORAGE, ts: [EXPLICIT_LE] },
  { id: 5, abstract: CT_STORAGE, ts: [EXPLICIT_BE] },
  { id: 7, abstract: CT_STORAGE, ts: [IMPLICIT_LE] },
  { id: 9, abstract: CT_STORAGE, ts: [DEFLATED] },
];

function opening(): Segment[] {
  return [seg(TS, associateRq({ contexts: STORE_CONTEXTS })), seg(TC, associateAc({ contexts: STORE_CONTEXTS }))];
}

function echo(messageId: number): Segment[] {
  const rq = commandSet([
    [0x0002, VERIFICATION],
    [0x0100, 0x0030],
    [0x0110, messageId],
    [0x0800, 0x0101],
  ]);
  const rsp = commandSet([
    [0x0002, VERIFICATION],
    [0x0100, 0x8030],
    [0x0120, messageId],
    [0x0800, 0x0101],
    [0x0900, 0],
  ]);
  return [seg(TS, pdata(pdv(1, 0x03, rq))), seg(TC, pdata(pdv(1, 0x03, rsp)))];
}

const closing = (): Segment[] => [seg(TS, releaseRq()), seg(TC, releaseRp())];

const PATIENT = { name: 'TESTESEN^PLANTE', id: '01017510084', birth: '19750101' };

describe('crafted lengths', () => {
  it('capture 28: A-ASSOCIATE-RQ with PDU length 0xFFFFFFF0 is flagged and never allocated', () => {
    const [s] = followTcp('28_malformed_dicom_pdulen.pcap', [0]);
    const before = process.memoryUsage().arrayBuffers;
    const { malformed, assocs, dimse, parser } = run(s.segments, 'tiny');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 << 20);
    expect(malformed).toHaveLength(1);
    expect(malformed[0]).toMatchObject({ reason: 'pdu-too-long', pdu_type: 1, length: 0xfffffff0, action: 'resync', direction: 'to_server' });
    expect(assocs).toEqual([]);
    expect(dimse).toEqual([]);
    expect(parser.counters.pdu_too_long).toBe(1);
    expect(parser.counters.internal_errors).toBe(0);
  });

  it('P-DATA with length 0xFFFFFFF0 mid-association: resync finds the next PDU', () => {
    const bogus = pdu(0x04, Buffer.concat([Buffer.from([0, 0, 0, 10, 1, 3]), Buffer.alloc(300, 0x41)]), 0xfffffff0);
    const segs = [...opening(), ...echo(1), seg(TS, bogus), ...echo(2), ...closing()];
    for (const chunking of ['segments', 'tiny', 'random'] as const) {
      const { malformed, assocs, dimse, parser } = run(segs, chunking);
      expect(malformed.map((m) => [m.reason, m.action, m.length])).toEqual([['pdu-too-long', 'resync', 0xfffffff0]]);
      expect(dimse.map((d) => `${d.command}:${d.message_id ?? d.message_id_responded_to}`)).toEqual([
        'C-ECHO-RQ:1',
        'C-ECHO-RSP:1',
        'C-ECHO-RQ:2',
        'C-ECHO-RSP:2',
      ]);
      expect(assocs).toHaveLength(1);
      expect(assocs[0].result).toBe('released');
      expect(assocs[0].malformed).toBe(1);
      expect(parser.counters.resyncs).toBe(1);
    }
  });

  it('an item length past the end of its PDU is an issue, not a read past the PDU', () => {
    const rq = associateRq();
    // Presentation context item (first 0x20 after the app context) claims 0xFFFF bytes.
    const at = rq.indexOf(Buffer.from([0x20, 0x00]), 6 + 68);
    rq.writeUInt16BE(0xffff, at + 2);
    const { malformed, assocs } = run([seg(TS, rq), seg(TS, releaseRq())], 'random');
    expect(malformed[0]).toMatchObject({ reason: 'item-overrun', pdu_type: 1, action: 'continue' });
    expect(malformed[0].issues).toContain('item-overrun');
    expect(assocs[0]).toMatchObject({ calling_ae: 'CT_SCANNER01', called_ae: 'PACS_MAIN', result: 'released' });
  });

  it('user-information sub-items and user identity lengths past their item', () => {
    const ui = Buffer.from(userIdentity(2, 'someone', 'secret'));
    ui.writeUInt16BE(0x4000, 6); // primary-field length way past the item
    const rq = associateRq({ user: [ui] });
    const { malformed, assocs } = run([seg(TS, rq)], 'tiny');
    expect(malformed[0].reason).toBe('item-overrun');
    expect(assocs[0].user_identity?.password_present).toBe(false);
    expect(JSON.stringify(assocs)).not.toContain('secret');
  });

  it('a PDV longer than its PDU skips that PDU and keeps framing', () => {
    const bad = pdata(pdv(1, 0x03, Buffer.alloc(8)));
    bad.writeUInt32BE(5000, 6); // PDV length 5000 inside a 14-byte PDU
    const segs = [...opening(), seg(TS, bad), ...echo(7), ...closing()];
    const { malformed, dimse, assocs } = run(segs, 'tiny');
    expect(malformed.map((m) => m.reason)).toEqual(['pdv-overrun']);
    expect(dimse.map((d) => d.command)).toEqual(['C-ECHO-RQ', 'C-ECHO-RSP']);
    expect(assocs[0].result).toBe('released');
  });

  it('zero-length and undersized PDUs, reserved bits in the message control header', () => {
    const segs = [
      ...opening(),
      seg(TS, pdu(0x04, Buffer.alloc(0))),
      ...echo(1),
      seg(TS, pdata(pdv(1, 0xf3, Buffer.alloc(0)))),
      ...closing(),
    ];
    const { malformed, dimse } = run(segs, 'random');
    // The empty command of the last PDV is also not a command set.
    expect(malformed.map((m) => m.reason)).toEqual(['pdu-too-short', 'bad-pdv', 'command-invalid']);
    expect(dimse.map((d) => d.command)).toContain('C-ECHO-RQ');
  });

  it('a command set over the cap is dropped once; the next one decodes', () => {
    const frag = Buffer.alloc(40_000, 0);
    const segs = [
      ...opening(),
      seg(TS, pdata(pdv(1, 0x01, frag))),
      seg(TS, pdata(pdv(1, 0x01, frag))),
      seg(TS, pdata(pdv(1, 0x03, frag))),
      ...echo(3),
      ...closing(),
    ];
    const { malformed, dimse, driven } = run(segs, 'random');
    expect(malformed.map((m) => m.reason)).toEqual(['command-too-long']);
    expect(dimse.map((d) => d.message_id ?? d.message_id_responded_to)).toEqual([3, 3]);
    expect(driven.delivered + driven.skipped).toBeGreaterThan(120_000);
  });

  it('caps malformed records per connection; counters keep counting', () => {
    const bad = pdata(pdv(1, 0x03, Buffer.alloc(8)));
    bad.writeUInt32BE(5000, 6);
    const segs = [...opening(), ...Array.from({ length: 50 }, () => seg(TS, bad)), ...closing()];
    const { malformed, parser } = run(segs);
    expect(malformed).toHaveLength(16);
    expect(parser.counters.malformed).toBe(50);
    expect(parser.counters.records_suppressed).toBe(34);
  });
});

describe('data sets', () => {
  const encodings = [
    { ctx: 3, name: 'explicit LE', enc: { explicit: true, le: true } },
    { ctx: 5, name: 'explicit BE', enc: { explicit: true, le: false } },
    { ctx: 7, name: 'implicit LE', enc: { explicit: false, le: true } },
  ];
  for (const { ctx, name, enc } of encodings) {
    it(`${name}: patient elements by name, IDs classified and pseudonymized, pixel data skipped`, () => {
      const ds = imageDataset(enc, PATIENT, 300_000);
      const segs = [
        ...opening(),
        seg(TS, pdata(pdv(ctx, 0x03, storeRq(1)))),
        ...datasetPdus(ctx, ds, 16372).map((b) => seg(TS, b)),
        seg(TC, pdata(pdv(ctx, 0x03, storeRsp(1)))),
        ...closing(),
      ];
      for (const chunking of ['mss', 'random', 'tiny'] as const) {
        const { dimse, driven, malformed } = run(segs, chunking);
        expect(malformed).toEqual([]);
        const rq = dimse[0];
        expect(rq.command).toBe('C-STORE-RQ');
        expect(rq.phi_fields.sort()).toEqual(['AccessionNumber', 'OtherPatientIDsSequence', 'PatientBirthDate', 'PatientID', 'PatientName']);
        expect(rq.patient_ids).toEqual([
          { kind: 'fodselsnummer', pseudonym: pseudonymize('fodselsnummer', PATIENT.id) },
          { kind: 'd-nummer', pseudonym: pseudonymize('d-nummer', '41017510078') },
        ]);
        expect(rq.device).toEqual({
          modality: 'CT',
          manufacturer: 'Acme Medical',
          station_name: 'CT_ROOM_2',
          model: 'Scanomat 9000',
          software_versions: 'VA40B',
        });
        expect(rq.dataset).toMatchObject({ truncated: false, encoding_guessed: false, bytes_total: ds.length });
        expect(rq.dataset!.bytes_inspected).toBeLessThanOrEqual(4096);
        if (chunking === 'mss') expect(driven.skipped).toBeGreaterThan(280_000);
      }
    });
  }

  it('deflated transfer syntax is reported, not inflated', () => {
    const segs = [
      ...opening(),
      seg(TS, pdata(pdv(9, 0x03, storeRq(1)))),
      seg(TS, pdata(pdv(9, 0x02, Buffer.alloc(5000, 0x78)))),
      ...closing(),
    ];
    const { dimse } = run(segs);
    expect(dimse[0].dataset).toMatchObject({ deflated: true, bytes_inspected: 0, bytes_total: 5000, transfer_syntax: DEFLATED });
    expect(dimse[0].phi_fields).toEqual([]);
  });

  it('the peek budget bounds how much of a data set is read', () => {
    const big = dataset(
      [
        { tag: 0x00080050, vr: 'SH', value: 'A1' },
        { tag: 0x00091010, vr: 'OB', value: Buffer.alloc(200_000, 1) },
        { tag: 0x00100010, vr: 'PN', value: 'LATE^NAME' },
      ],
      { explicit: true, le: true },
    );
    const segs = [...opening(), seg(TS, pdata(pdv(3, 0x03, storeRq(1)))), ...datasetPdus(3, big, 16372).map((b) => seg(TS, b))];
    const { dimse } = run(segs, 'random', { datasetPeekBytes: 8192 });
    expect(dimse[0].phi_fields).toEqual(['AccessionNumber']);
    expect(dimse[0].dataset).toMatchObject({ bytes_inspected: 8192, truncated: true, bytes_total: big.length });
  });

  it('a stream cut inside a data set ends with a truncated record and an unfinished association', () => {
    const ds = imageDataset({ explicit: true, le: true }, PATIENT, 100_000);
    const pdus = datasetPdus(3, ds, 16372);
    const segs = [...opening(), seg(TS, pdata(pdv(3, 0x03, storeRq(1)))), seg(TS, pdus[0]), seg(TS, pdus[1].subarray(0, 700))];
    const records: DicomRecord[] = [];
    const parser = parserWith(records);
    drive(parser, segs, 'random');
    parser.end('rst');
    const { dimse, assocs } = split(records);
    expect(dimse[0].dataset?.truncated).toBe(true);
    expect(dimse[0].phi_fields).toContain('PatientName');
    expect(assocs[0]).toMatchObject({ result: 'accepted', end_reason: 'rst' });
  });
});

describe('commands', () => {
  it('names N-services, C-CANCEL and C-MOVE fields; counts failures and warnings', () => {
    const cmds: [number, [number, number | string][]][] = [
      [1, [[0x0003, '1.2.840.10008.1.20.1'], [0x0100, 0x0130], [0x0110, 5], [0x1008, 1], [0x0800, 0x0101]]],
      [1, [[0x0100, 0x8130], [0x0120, 5], [0x0900, 0x0110], [0x0800, 0x0101]]],
      [1, [[0x0002, '1.2.840.10008.5.1.4.1.2.2.2'], [0x0100, 0x0021], [0x0110, 6], [0x0600, 'VIEWER_WS1'], [0x0800, 0x0101]]],
      [1, [[0x0100, 0x0fff], [0x0120, 6], [0x0800, 0x0101]]],
      [1, [[0x0100, 0x8021], [0x0120, 6], [0x0900, 0xb000], [0x1020, 0], [0x1021, 3], [0x1022, 1], [0x1023, 0], [0x0800, 0x0101]]],
      [1, [[0x0100, 0x8021], [0x0120, 6], [0x0900, 0xa801], [0x0800, 0x0101]]],
      [1, [[0x0100, 0x0100], [0x0110, 9], [0x1002, 2], [0x0800, 0x0101]]],
      [1, [[0x0100, 0x7777], [0x0110, 10], [0x0800, 0x0101]]],
    ];
    const segs = [...opening(), ...cmds.map(([ctx, f]) => seg(TS, pdata(pdv(ctx, 0x03, commandSet(f))))), ...closing()];
    const { dimse, assocs } = run(segs, 'tiny');
    expect(dimse.map((d) => d.command)).toEqual([
      'N-ACTION-RQ',
      'N-ACTION-RSP',
      'C-MOVE-RQ',
      'C-CANCEL-RQ',
      'C-MOVE-RSP',
      'C-MOVE-RSP',
      'N-EVENT-REPORT-RQ',
      'UNKNOWN',
    ]);
    expect(dimse[0]).toMatchObject({ sop_class_name: 'Storage Commitment Push Model SOP Class', action_type_id: 1 });
    expect(dimse[1]).toMatchObject({ status: 0x0110, status_class: 'failure', status_meaning: 'Failure: processing failure' });
    expect(dimse[2]).toMatchObject({ move_destination: 'VIEWER_WS1', sop_class_name: 'Study Root Query/Retrieve Information Model - MOVE' });
    expect(dimse[4]).toMatchObject({ status_class: 'warning', sub_operations: { remaining: 0, completed: 3, failed: 1, warning: 0 } });
    expect(dimse[5]).toMatchObject({ status_hex: '0xa801', status_meaning: 'Refused: move destination unknown' });
    expect(dimse[6].event_type_id).toBe(2);
    expect(assocs[0]).toMatchObject({ failures: 2, warnings: 1, dimse_count: 8 });
    expect(assocs[0].commands['C-MOVE-RSP']).toBe(2);
  });

  it('a command set fragmented across PDVs and PDUs is reassembled', () => {
    const c = storeRq(42, CT_STORAGE, false);
    const segs = [
      ...opening(),
      seg(TS, pdata(pdv(3, 0x01, c.subarray(0, 5)), pdv(3, 0x01, c.subarray(5, 30)))),
      seg(TS, pdata(pdv(3, 0x03, c.subarray(30)))),
      ...closing(),
    ];
    const { dimse } = run(segs, 'tiny');
    expect(dimse).toHaveLength(1);
    expect(dimse[0]).toMatchObject({ command: 'C-STORE-RQ', message_id: 42, has_dataset: false });
  });

  it('a truncated command set is malformed, and the association goes on', () => {
    const c = storeRq(1).subarray(0, 20);
    const segs = [...opening(), seg(TS, pdata(pdv(3, 0x03, c))), ...echo(2), ...closing()];
    const { malformed, dimse } = run(segs);
    expect(malformed.map((m) => m.reason)).toEqual(['command-invalid']);
    expect(dimse.map((d) => d.message_id ?? d.message_id_responded_to)).toEqual([2, 2]);
  });
});

describe('association outcomes', () => {
  it('rejected, aborted and released; user identity type 1–5 only as flags', () => {
    const rj = run([seg(TS, associateRq({ called: 'WRONG' })), seg(TC, pdu(0x03, Buffer.from([0, 2, 3, 1])))]);
    expect(rj.assocs[0]).toMatchObject({
      result: 'rejected',
      reject: { result_name: 'rejected-transient', source_name: 'service-provider-presentation', reason_name: 'temporary-congestion' },
    });
    const ab = run([...opening(), seg(TC, abort(2, 6))]);
    expect(ab.assocs[0]).toMatchObject({
      result: 'aborted',
      abort: { source_name: 'service-provider', reason_name: 'invalid-pdu-parameter-value', direction: 'to_client' },
    });
    for (const type of [1, 3, 4, 5]) {
      const r = run([seg(TS, associateRq({ user: [userIdentity(type, 'TOKEN-VALUE-' + type)] })), seg(TC, associateAc())]);
      const ui = r.assocs[0].user_identity!;
      expect(ui.type).toBe(type);
      expect(ui.username_present).toBe(type === 1);
      expect(ui.token_present).toBe(type >= 3);
      expect(ui.password_present).toBe(false);
      expect(JSON.stringify(r.records)).not.toContain('TOKEN-VALUE');
    }
  });

  it('a second RQ on the same connection closes out the first association', () => {
    const { assocs } = run([...opening(), ...echo(1), seg(TS, associateRq({ calling: 'SECOND' })), seg(TC, associateAc())]);
    expect(assocs.map((a) => [a.calling_ae, a.result])).toEqual([
      ['CT_SCANNER01', 'accepted'],
      ['SECOND', 'accepted'],
    ]);
  });

  it('rejected presentation contexts keep their result; PDUs above the negotiated maximum are counted', () => {
    const ctxs = [
      { id: 1, abstract: VERIFICATION, ts: [IMPLICIT_LE] },
      { id: 3, abstract: '1.2.840.10008.5.1.4.1.1.481.5', ts: [IMPLICIT_LE] },
    ];
    const big = pdata(pdv(1, 0x03, Buffer.concat([storeRq(1, VERIFICATION, false), Buffer.alloc(0)])));
    const { assocs, parser } = run([
      seg(TS, associateRq({ contexts: ctxs })),
      seg(TC, associateAc({ contexts: ctxs, results: [0, 3], maxPdu: 32 })),
      seg(TS, big),
    ]);
    expect(assocs[0].presentation_contexts[1]).toMatchObject({ id: 3, result: 3, result_name: 'abstract-syntax-not-supported' });
    expect(assocs[0].accepted_contexts.map((c) => c.id)).toEqual([1]);
    expect(parser.counters.pdu_exceeds_negotiated).toBe(1);
  });
});

describe('gaps and resync', () => {
  const [s02] = followTcp('02_dicom_cstore_ct_mr.pcap', [0]);

  /** Feeds 02 as captured, but loses `len` bytes of the client stream at byte `at`. */
  function withGap(at: number, len: number) {
    const records: DicomRecord[] = [];
    const parser = parserWith(records);
    const skip = [0, 0];
    const res: DriveResult = { delivered: 0, skipped: 0, detached: false };
    const holeEnd = at + len;
    let pos = 0;
    let reported = false;
    for (const { dir, data } of s02.segments) {
      if (dir !== TS) {
        deliver(parser, dir, data, 0, data.length, skip, res);
        continue;
      }
      const segStart = pos;
      pos += data.length;
      // Parts of this segment before, inside and after the hole, in stream order.
      const beforeEnd = Math.min(data.length, Math.max(0, at - segStart));
      const afterStart = Math.min(data.length, Math.max(0, holeEnd - segStart));
      if (beforeEnd > 0) deliver(parser, dir, data, 0, beforeEnd, skip, res);
      if (!reported && pos > at) {
        gapThrough(parser, dir, len, skip);
        reported = true;
      }
      if (afterStart < data.length && afterStart >= beforeEnd) {
        deliver(parser, dir, data, afterStart, data.length - afterStart, skip, res);
      }
    }
    parser.end('fin');
    return { records, parser, ...split(records) };
  }

  it('a gap inside pixel data is absorbed by the skip: nothing is lost', () => {
    // 200 kB into the client stream is deep in the first CT's pixel data.
    const { dimse, assocs, parser } = withGap(200_000, 1000);
    expect(dimse.filter((d) => d.command === 'C-STORE-RQ').map((d) => d.dataset?.truncated)).toEqual([false, false, false, false]);
    expect(assocs[0].result).toBe('released');
    expect(parser.counters.gaps).toBe(0); // the reassembler never had to tell us
  });

  /** Client-stream offset of the second C-STORE-RQ's CommandField element. */
  function secondCommand(): number {
    const [client] = directions(s02.segments);
    const field = Buffer.from([0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00]);
    const second = client.indexOf(field, client.indexOf(field) + 1);
    expect(second).toBeGreaterThan(500_000);
    return second;
  }

  it('a gap inside a command PDV loses that message only; framing holds', () => {
    const h = secondCommand();
    const { dimse, assocs, parser } = withGap(h - 40, 60);
    expect(dimse.filter((d) => d.command === 'C-STORE-RQ').map((d) => d.message_id)).toEqual([1, 3, 4]);
    expect(dimse.filter((d) => d.command === 'C-STORE-RSP')).toHaveLength(4);
    expect(parser.counters.gaps).toBe(1);
    expect(parser.counters.resyncs).toBe(0);
    expect(parser.counters.datasets_without_command).toBeGreaterThan(0);
    expect(assocs[0]).toMatchObject({ result: 'released', gaps: 1, bytes_lost: 60 });
  });

  it('a gap across a PDU header: the part inside our skip is absorbed, then resync', () => {
    const h = secondCommand();
    // The command's PDU header sits 58 bytes before its CommandField; the hole starts
    // 12 bytes earlier, inside the previous data set's last PDV, which we were skipping.
    const { dimse, assocs, parser } = withGap(h - 70, 60);
    expect(dimse.filter((d) => d.command === 'C-STORE-RQ').map((d) => d.message_id)).toEqual([1, 3, 4]);
    expect(dimse.filter((d) => d.command === 'C-STORE-RSP')).toHaveLength(4);
    expect(parser.counters.gaps).toBe(1);
    expect(parser.counters.resyncs).toBe(1);
    expect(assocs[0]).toMatchObject({ result: 'released', gaps: 1, bytes_lost: 48 });
  });

  it('picking up mid-stream (sensor started during a C-STORE): resync and guessed encoding', () => {
    const [client] = directions(s02.segments);
    const from = 300_000;
    const { dimse, parser } = run([seg(TS, client.subarray(from))], 'random');
    expect(parser.counters.resyncs).toBe(1);
    const rqs = dimse.filter((d) => d.command === 'C-STORE-RQ');
    expect(rqs.map((d) => d.message_id)).toEqual([2, 3, 4]);
    for (const d of rqs) {
      expect(d.dataset?.encoding_guessed).toBe(true);
      expect(d.phi_fields).toContain('PatientID');
    }
  });

  it('after losing framing for longer than the resync limit, the parser detaches', () => {
    const segs = [...opening(), ...echo(1), seg(TS, Buffer.alloc(200_000, 0)), ...echo(2)];
    const { malformed, driven, assocs } = run(segs, 'random', { resyncLimit: 65536 });
    expect(malformed.map((m) => [m.reason, m.action])).toEqual([
      ['bad-pdu-type', 'resync'],
      ['resync-failed', 'detach'],
    ]);
    expect(driven.detached).toBe(true);
    expect(assocs).toHaveLength(1);
  });
});

describe('random and mutated bytes', () => {
  it('capture 29 (seeded garbage on port 104) is not DICOM', () => {
    const [s] = followTcp('29_malformed_garbage_104.pcap', [0]);
    const { malformed, assocs, parser } = run(s.segments, 'tiny');
    expect(malformed.map((m) => m.reason)).toEqual(['not-dicom']);
    expect(assocs).toEqual([]);
    expect(parser.counters.internal_errors).toBe(0);
  });

  it('long garbage detaches after the unsynced scan limit', () => {
    const r = rng(29);
    const junk = Buffer.from(Array.from({ length: 400_000 }, () => Math.floor(r() * 256)));
    const { malformed, driven } = run([seg(TS, junk)], 'random');
    expect(malformed.map((m) => [m.reason, m.action])).toEqual([['not-dicom', 'detach']]);
    expect(driven.detached).toBe(true);
    expect(driven.delivered).toBeLessThan(300_000);
  });

  it('seeded random streams: no exception, only malformed records', () => {
    const r = rng(104);
    for (let i = 0; i < 300; i++) {
      const n = Math.floor(r() * 4000);
      const bytes = Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
      // Half the runs start like an A-ASSOCIATE-RQ so the garbage reaches deeper code.
      if (i % 2 === 0 && n > 10) {
        bytes[0] = 1 + (i % 7);
        bytes[1] = 0;
        bytes.writeUInt32BE(Math.floor(r() * n), 2);
      }
      const segs = [seg(TS, bytes.subarray(0, n >> 1)), seg(TC, bytes.subarray(n >> 1))];
      const { parser } = run(segs, i % 3 === 0 ? 'tiny' : 'random', {}, i);
      expect(parser.counters.internal_errors).toBe(0);
    }
  });

  it('mutated real associations: no exception, bounded output', () => {
    const sources = [
      followTcp('01_dicom_cecho.pcap', [0])[0],
      followTcp('03_dicom_mwl_cfind.pcap', [0])[0],
      followTcp('05_dicom_user_identity.pcap', [0])[0],
    ];
    const r = rng(2024);
    for (let i = 0; i < 240; i++) {
      const src = sources[i % sources.length];
      const segs = src.segments.slice(0, 40).map((s) => ({ dir: s.dir, data: Buffer.from(s.data) }));
      const flips = 1 + Math.floor(r() * 8);
      for (let f = 0; f < flips; f++) {
        const s = segs[Math.floor(r() * segs.length)];
        const at = Math.floor(r() * s.data.length);
        const mode = r();
        if (mode < 0.6) s.data[at] = Math.floor(r() * 256);
        else if (mode < 0.8) s.data = s.data.subarray(0, at);
        else s.data.writeUInt8(0xff, at);
      }
      const records: DicomRecord[] = [];
      const parser = parserWith(records);
      drive(parser, segs, i % 4 === 0 ? 'tiny' : 'random', i);
      parser.end('timeout');
      expect(parser.counters.internal_errors).toBe(0);
      expect(records.length).toBeLessThan(100);
    }
  });
});
