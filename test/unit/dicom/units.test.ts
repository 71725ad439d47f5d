/** The small modules on their own: probe, command set, data-set peek, tables. */
import dicomParser from 'dicom-parser';
import { describe, expect, it } from 'vitest';
import { parseAssociate } from '../../../protocols/dicom/associate.js';
import { commandName, parseCommandSet } from '../../../protocols/dicom/command-set.js';
import { guessEncoding, peekDataset, PeekStatus, type DeviceKey } from '../../../protocols/dicom/dataset-peek.js';
import { probeDicom } from '../../../protocols/dicom/probe.js';
import { printable, uidText } from '../../../protocols/dicom/reader.js';
import { sopClassName } from '../../../protocols/dicom/sop-classes.js';
import { statusClass, statusMeaning } from '../../../protocols/dicom/status.js';
import { datasetEncoding, transferSyntaxName } from '../../../protocols/dicom/transfer-syntax.js';
import { Direction } from '../../../protocols/stream.js';
import { associateRq, commandSet, dataset, imageDataset, storeRq, type Enc } from './build.js';
import { directions, followTcp } from '../../support/streams.js';

function collect() {
  const phi = new Set<string>();
  const ids: string[] = [];
  const device: Partial<Record<DeviceKey, string>> = {};
  return {
    phi,
    ids,
    device,
    sink: { phi: (n: string) => phi.add(n), patientId: (v: string) => ids.push(v), device: (k: DeviceKey, v: string) => (device[k] = v) },
  };
}

describe('probeDicom', () => {
  const rq = associateRq();
  it('recognises an A-ASSOCIATE-RQ and asks for more while unsure', () => {
    expect(probeDicom(rq, 0, rq.length)).toBe(2);
    for (const n of [1, 2, 5, 7, 20, 30, 41]) expect(probeDicom(rq, 0, n)).toBe(1);
    const shifted = Buffer.concat([Buffer.alloc(9), rq]);
    expect(probeDicom(shifted, 9, rq.length)).toBe(2);
  });
  it('refuses other protocols and bad fields early', () => {
    expect(probeDicom(Buffer.from('GET / HTTP/1.1\r\n'), 0, 16)).toBe(0);
    expect(probeDicom(Buffer.from([0x16, 0x03, 0x01]), 0, 3)).toBe(0);
    expect(probeDicom(Buffer.from('\x0bMSH|^~\\&|'), 0, 10)).toBe(0);
    const cases: [number, number][] = [
      [1, 0x01], // reserved byte
      [7, 0x02], // protocol version
      [10, 0x07], // control character in the called AE
      [30, 0x80], // non-ASCII in the calling AE
    ];
    for (const [at, v] of cases) {
      const b = Buffer.from(rq);
      b[at] = v;
      expect(probeDicom(b, 0, b.length)).toBe(0);
    }
    const tiny = Buffer.from(rq);
    tiny.writeUInt32BE(20, 2); // shorter than any A-ASSOCIATE-RQ
    expect(probeDicom(tiny, 0, tiny.length)).toBe(0);
    const blank = Buffer.from(rq);
    blank.fill(0x20, 10, 26);
    expect(probeDicom(blank, 0, blank.length)).toBe(0);
  });
  it('recognises capture 28 (hostile length: the parser then reports it) and 01 (real echoscu)', () => {
    const [s28] = followTcp('28_malformed_dicom_pdulen.pcap', [0]);
    const [c28] = directions(s28.segments);
    expect(probeDicom(c28, 0, c28.length)).toBe(2);
    const [s01] = followTcp('01_dicom_cecho.pcap', [0]);
    const [c01, s01b] = directions(s01.segments);
    expect(probeDicom(c01, 0, c01.length)).toBe(2);
    expect(probeDicom(s01b, 0, s01b.length)).toBe(0); // the AC is not a client opening
  });
});

describe('A-ASSOCIATE items', () => {
  it('decodes an echoscu RQ from the corpus', () => {
    const [s] = followTcp('01_dicom_cecho.pcap', [0]);
    const rq = s.segments.find((x) => x.dir === Direction.ToServer)!.data;
    const info = parseAssociate(rq, 6, rq.length, false);
    expect(info).toMatchObject({
      protocol_version: 1,
      calling_ae: 'CT_SCANNER01',
      called_ae: 'PACS_MAIN',
      application_context: '1.2.840.10008.3.1.1.1',
      presentation_contexts: [{ id: 1, abstract_syntax: '1.2.840.10008.1.1', transfer_syntaxes: ['1.2.840.10008.1.2'] }],
      max_pdu_length: 16384,
      implementation_class_uid: '1.2.276.0.7230010.3.0.3.6.7',
      implementation_version: 'OFFIS_DCMTK_367',
      issues: [],
    });
  });
  it('never reads past the window it is given, whatever the lengths say', () => {
    const rq = associateRq();
    for (let cut = 0; cut < rq.length; cut += 3) {
      const body = Buffer.from(rq.subarray(6, 6 + cut));
      const shell = Buffer.concat([body, Buffer.from('NORDMANN^KARI')]);
      const info = parseAssociate(shell, 0, body.length, false);
      expect(JSON.stringify(info)).not.toContain('NORDMANN');
    }
  });
});

describe('command sets', () => {
  it('parses a C-STORE-RQ and leaves the instance UID out', () => {
    const c = parseCommandSet(storeRq(7), 0, storeRq(7).length);
    expect(c).toMatchObject({ commandField: 1, messageId: 7, affectedSopClassUid: '1.2.840.10008.5.1.4.1.1.2', commandDataSetType: 0 });
    expect(JSON.stringify(c)).not.toContain('1.2.3.4.5.6.7.8.9.999');
  });
  it('reports truncation at every cut that is not an element boundary', () => {
    const b = storeRq(7);
    const boundaries = new Set<number>();
    for (let p = 0; p < b.length; p += 8 + b.readUInt32LE(p + 4)) boundaries.add(p);
    for (let cut = 1; cut < b.length; cut++) {
      const r = parseCommandSet(b, 0, cut);
      if (!boundaries.has(cut)) expect(r).toBe('truncated');
      else expect(r === 'no-command-field' || typeof r === 'object').toBe(true);
    }
    expect(parseCommandSet(commandSet([[0x0110, 1]]), 0, 10)).toBe('no-command-field');
    const foreign = Buffer.from(commandSet([[0x0100, 1]]));
    foreign.writeUInt16LE(0x0008, 0);
    expect(parseCommandSet(foreign, 0, foreign.length)).toBe('not-group-0000');
    const undef = Buffer.from(commandSet([[0x0100, 1]]));
    undef.writeUInt32LE(0xffffffff, 4);
    expect(parseCommandSet(undef, 0, undef.length)).toBe('truncated');
  });
  it('names every DIMSE command field', () => {
    expect([0x0001, 0x8001, 0x0010, 0x0020, 0x0021, 0x0030, 0x0fff, 0x0140, 0x8150].map(commandName)).toEqual([
      'C-STORE-RQ',
      'C-STORE-RSP',
      'C-GET-RQ',
      'C-FIND-RQ',
      'C-MOVE-RQ',
      'C-ECHO-RQ',
      'C-CANCEL-RQ',
      'N-CREATE-RQ',
      'N-DELETE-RSP',
    ]);
  });
});

describe('status', () => {
  it('classes and meanings', () => {
    expect([0x0000, 0xff00, 0xff01, 0xfe00, 0x0001, 0xb000, 0x0107, 0xa700, 0xc123, 0x0122].map(statusClass)).toEqual([
      'success',
      'pending',
      'pending',
      'cancel',
      'warning',
      'warning',
      'warning',
      'failure',
      'failure',
      'failure',
    ]);
    expect(statusMeaning(0xa7ff)).toBe('Refused: out of resources');
    expect(statusMeaning(0xc0ff)).toBe('Error: cannot understand');
    expect(statusMeaning(0x0124)).toBe('Refused: not authorized');
  });
});

describe('data-set peek', () => {
  const patient = { name: 'DOE^JANE', id: '01017510084', birth: '19750101' };
  const encs: [string, Enc][] = [
    ['explicit LE', { explicit: true, le: true }],
    ['explicit BE', { explicit: true, le: false }],
    ['implicit LE', { explicit: false, le: true }],
  ];
  for (const [name, enc] of encs) {
    it(`${name}: stops at Pixel Data, nested IDs found, resumable at every split`, () => {
      const ds = imageDataset(enc, patient, 1000);
      const e = { explicitVr: enc.explicit, littleEndian: enc.le, deflated: false };
      const whole = collect();
      const r = peekDataset(ds, 0, ds.length, e, whole.sink);
      expect(r.status).toBe(PeekStatus.Done);
      expect(ds.readUInt16LE(r.next) === 0x7fe0 || ds.readUInt16BE(r.next) === 0x7fe0).toBe(true);
      expect([...whole.phi].sort()).toEqual(['AccessionNumber', 'OtherPatientIDsSequence', 'PatientBirthDate', 'PatientID', 'PatientName']);
      expect(whole.ids).toEqual([patient.id, '41017510078']);
      expect(whole.device).toMatchObject({ modality: 'CT', software_versions: 'VA40B' });
      // Feed growing prefixes, resuming where the walk asked: same result, each ID once.
      for (const step of [1, 7, 64]) {
        const c = collect();
        let next = 0;
        let status = PeekStatus.NeedMore;
        for (let end = step; status === PeekStatus.NeedMore && end <= ds.length + step; end += step) {
          const p = peekDataset(ds, next, Math.min(end, ds.length), e, c.sink);
          next = p.next;
          status = p.status;
        }
        expect(status).toBe(PeekStatus.Done);
        expect(c.phi).toEqual(whole.phi);
        expect(new Set(c.ids)).toEqual(new Set(whole.ids));
      }
    });
  }

  it('empty values are not PHI; multi-valued IDs are split', () => {
    const ds = dataset(
      [
        { tag: 0x00100010, vr: 'PN', value: '' },
        { tag: 0x00100020, vr: 'LO', value: '  ' },
        { tag: 0x00101000, vr: 'LO', value: 'X1\\01017510084' },
      ],
      { explicit: true, le: true },
    );
    const c = collect();
    peekDataset(ds, 0, ds.length, { explicitVr: true, littleEndian: true, deflated: false }, c.sink);
    expect([...c.phi]).toEqual(['OtherPatientIDs']);
    expect(c.ids).toEqual(['X1', '01017510084']);
  });

  it('garbage is Invalid or NeedMore, never an exception', () => {
    const junk = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) & 0xff));
    for (const explicitVr of [true, false]) {
      for (let off = 0; off < 200; off++) {
        const r = peekDataset(junk, off, junk.length, { explicitVr, littleEndian: true, deflated: false }, collect().sink);
        expect([PeekStatus.Invalid, PeekStatus.NeedMore, PeekStatus.Done]).toContain(r.status);
      }
    }
  });

  it('guesses the encoding from the first element', () => {
    const ex = dataset([{ tag: 0x00080016, vr: 'UI', value: '1.2' }], { explicit: true, le: true });
    const im = dataset([{ tag: 0x00080016, vr: 'UI', value: '1.2' }], { explicit: false, le: true });
    const be = dataset([{ tag: 0x00080016, vr: 'UI', value: '1.2' }], { explicit: true, le: false });
    expect(guessEncoding(ex, 0, ex.length)).toEqual({ explicitVr: true, littleEndian: true, deflated: false });
    expect(guessEncoding(im, 0, im.length)).toEqual({ explicitVr: false, littleEndian: true, deflated: false });
    expect(guessEncoding(be, 0, be.length)).toEqual({ explicitVr: true, littleEndian: false, deflated: false });
  });

  it('agrees with dicom-parser on the real data sets of the corpus (test oracle)', () => {
    // dicom-parser is a full reader: good as an independent check of which patient elements
    // a real data set holds, not on the hot path (it trusts lengths; see docs/dependencies.md).
    for (const [file, want] of [
      ['02_dicom_cstore_ct_mr.pcap', 4],
      ['03_dicom_mwl_cfind.pcap', 3],
      ['05_dicom_user_identity.pcap', 1],
    ] as const) {
      const [s] = followTcp(file, [0]);
      const sets = [...extractDatasets(directions(s.segments)[0]), ...extractDatasets(directions(s.segments)[1])];
      expect(sets).toHaveLength(want);
      for (const ds of sets) {
        const c = collect();
        peekDataset(ds, 0, ds.length, { explicitVr: true, littleEndian: true, deflated: false }, c.sink);
        // A raw data set (no Part 10 preamble): the transfer syntax option makes it skip the
        // DICM check, which would otherwise misfire on bytes 128–131.
        expect(ds.toString('latin1', 128, 132)).not.toBe('DICM');
        const ref = dicomParser.parseDicom(new Uint8Array(ds), { TransferSyntaxUID: '1.2.840.10008.1.2.1' });
        const named: [string, string][] = [
          ['x00100010', 'PatientName'],
          ['x00100020', 'PatientID'],
          ['x00100030', 'PatientBirthDate'],
          ['x00080050', 'AccessionNumber'],
          ['x00100040', 'PatientSex'],
        ];
        for (const [tag, kw] of named) {
          const v = ref.string(tag);
          expect(c.phi.has(kw), `${file} ${kw}`).toBe(v !== undefined && v !== '');
        }
        const id = ref.string('x00100020');
        if (id) expect(c.ids).toEqual([id]);
        const modality = ref.string('x00080060');
        if (modality && ref.elements.x7fe00010) expect(c.device.modality).toBe(modality);
      }
    }
  });
});

/** Data sets (the dataset PDV fragments of each message, joined) from one direction. */
function extractDatasets(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let cur: Buffer[] = [];
  let p = 0;
  while (p + 6 <= stream.length) {
    const type = stream[p];
    const len = stream.readUInt32BE(p + 2);
    const end = p + 6 + len;
    if (type === 0x04) {
      let q = p + 6;
      while (q + 6 <= end) {
        const pdvLen = stream.readUInt32BE(q);
        const mch = stream[q + 5];
        if ((mch & 1) === 0) {
          cur.push(stream.subarray(q + 6, q + 4 + pdvLen));
          if (mch & 2) {
            out.push(Buffer.concat(cur));
            cur = [];
          }
        }
        q += 4 + pdvLen;
      }
    }
    p = end;
  }
  return out;
}

describe('tables and text', () => {
  it('SOP class and transfer syntax names', () => {
    expect(sopClassName('1.2.840.10008.5.1.4.1.1.2')).toBe('CT Image Storage');
    expect(sopClassName('1.2.840.10008.5.1.4.31')).toBe('Modality Worklist Information Model - FIND');
    expect(sopClassName('1.2.840.10008.3.1.2.3.3')).toBe('Modality Performed Procedure Step SOP Class');
    expect(sopClassName('1.2.840.10008.1.20.1')).toBe('Storage Commitment Push Model SOP Class');
    expect(sopClassName('constructor')).toBeUndefined();
    expect(transferSyntaxName('1.2.840.10008.1.2.4.50')).toBe('JPEG Baseline (Process 1)');
    expect(datasetEncoding('1.2.840.10008.1.2.4.90')).toEqual({ explicitVr: true, littleEndian: true, deflated: false });
    expect(datasetEncoding('1.2.840.10008.1.2.1.99').deflated).toBe(true);
  });
  it('printable and UID text refuse control bytes and junk', () => {
    expect(printable(Buffer.from('AB\x1b[31mC  \0'), 0, 11)).toBe('AB?[31mC');
    expect(uidText(Buffer.from('1.2.3\0'), 0, 6)).toBe('1.2.3');
    expect(uidText(Buffer.from('1.2.X'), 0, 5)).toBe('<invalid-uid>');
  });
});
