/**
 * DICOMweb over HTTP/1.x: the recogniser on paths, query keys and media types; QIDO-RS,
 * WADO-RS and STOW-RS exchanges through the HTTP parser in every chunking, with DICOM objects
 * made by dcmtk holding a planted patient name and fødselsnummer: the field names come out,
 * the values (and the UIDs of the path) never do. A web shop's /studies pages are not DICOMweb.
 * Bounds: Pixel Data skipped and counted, the part cap, gaps, hostile bodies.
 */
import { describe, expect, it } from 'vitest';
import { HttpStreamParser, type HttpParserOptions } from '../../../protocols/cleartext/http.js';
import type { CleartextRecord, DicomwebRequestRecord, HttpRecord, CleartextPhiRecord } from '../../../protocols/cleartext/records.js';
import { DicomwebBody } from '../../../protocols/dicomweb/body.js';
import { DicomwebObservations } from '../../../protocols/dicomweb/observations.js';
import { DicomMedia, dicomMedia, dicomwebService, dicomwebTarget, queryAttribute } from '../../../protocols/dicomweb/recognise.js';
import { Direction } from '../../../protocols/stream.js';
import { drive, rng, type Chunking, type Segment } from '../../support/streams.js';
import { pseudonymize } from '../cleartext/support.js';
import { dicomFile, FNR, FNR_2, INSTANCE_UID, multipart, PATIENT_NAME, PATIENT_NAME_2, PLANTED, qidoJson, SERIES_UID, STUDY_UID } from './build.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;
const CHUNKINGS: Chunking[] = ['segments', 'tiny', 'random', 'mss', 'whole'];
const seg = (dir: Direction, s: string | Buffer): Segment => ({ dir, data: typeof s === 'string' ? Buffer.from(s, 'latin1') : s });

function run(segments: Segment[], chunking: Chunking = 'segments', opts: Partial<HttpParserOptions> = {}) {
  const records: CleartextRecord[] = [];
  let relabels = 0;
  const parser = new HttpStreamParser({ emit: (r) => records.push(r), pseudonymize, onDicomweb: () => relabels++, ...opts });
  drive(parser, segments, chunking, 11);
  parser.end('fin');
  return {
    records,
    parser,
    relabels,
    dw: records.filter((r): r is DicomwebRequestRecord => r.type === 'dicomweb.request'),
    http: records.filter((r): r is HttpRecord => r.type === 'http'),
    phi: records.filter((r): r is CleartextPhiRecord => r.type === 'phi.observed'),
  };
}

/** No planted value, in any spelling the output could have. */
function expectClean(records: unknown): void {
  const text = JSON.stringify(records);
  for (const v of PLANTED) expect(text, v).not.toContain(v);
  expect(text).not.toContain('NORDMANN');
}

const fid = (kind: string, v: string) => pseudonymize(kind, v);

describe('recognising DICOMweb paths, query keys and media types', () => {
  it('reads the PS3.18 resource grammar under any prefix', () => {
    expect(dicomwebTarget('/dicom-web/studies')).toEqual({ level: 'study', search: true, uid: false });
    expect(dicomwebTarget('/studies/')).toEqual({ level: 'study', search: true, uid: false });
    expect(dicomwebTarget(`/pacs/rs/studies/${STUDY_UID}/series`)).toEqual({ level: 'series', search: true, uid: true });
    expect(dicomwebTarget(`/wado-rs/studies/${STUDY_UID}/series/${SERIES_UID}/instances/${INSTANCE_UID}`)).toEqual({ level: 'instance', search: false, uid: true });
    expect(dicomwebTarget(`/studies/${STUDY_UID}/metadata`)).toEqual({ level: 'study', search: false, uid: true, resource: 'metadata' });
    expect(dicomwebTarget(`/studies/${STUDY_UID}/series/${SERIES_UID}/rendered`)).toMatchObject({ level: 'series', resource: 'rendered' });
    expect(dicomwebTarget(`/studies/${STUDY_UID}/series/${SERIES_UID}/instances/${INSTANCE_UID}/frames/1,2,3`)).toMatchObject({ level: 'instance', resource: 'frames' });
    expect(dicomwebTarget(`/studies/${STUDY_UID}/series/${SERIES_UID}/instances/${INSTANCE_UID}/frames/1/rendered`)).toMatchObject({ resource: 'rendered' });
    expect(dicomwebTarget('/instances')).toEqual({ level: 'instance', search: true, uid: false });
    expect(dicomwebTarget(`/studies/${STUDY_UID}/instances`)).toEqual({ level: 'instance', search: true, uid: true });
  });

  it('refuses what only looks like it', () => {
    for (const p of ['/studies.html', '/shop/studies.html', '/studies/biology', '/studies/2024/summer', '/series/netflix', '/our-studies', `/studies/${STUDY_UID}/series/${SERIES_UID}/studies`, `/studies/${STUDY_UID}/frames/1`, '/', '/index.html']) {
      expect(dicomwebTarget(p), p).toBeNull();
    }
  });

  it('the method gives the service', () => {
    const search = dicomwebTarget('/studies')!;
    const retrieve = dicomwebTarget(`/studies/${STUDY_UID}`)!;
    expect(dicomwebService('GET', search)).toBe('qido');
    expect(dicomwebService('GET', retrieve)).toBe('wado');
    expect(dicomwebService('POST', search)).toBe('stow');
    expect(dicomwebService('POST', retrieve)).toBe('stow');
    expect(dicomwebService('DELETE', retrieve)).toBeNull();
  });

  it('query keys by keyword or tag, unknown names left out', () => {
    expect(queryAttribute('PatientID')).toBe('PatientID');
    expect(queryAttribute('patientname')).toBe('PatientName');
    expect(queryAttribute('00100020')).toBe('PatientID');
    expect(queryAttribute('0020000D')).toBe('StudyInstanceUID');
    expect(queryAttribute('00080050')).toBe('AccessionNumber');
    expect(queryAttribute('limit')).toBeNull();
    expect(queryAttribute('12345678')).toBeNull();
  });

  it('media types of Accept and Content-Type', () => {
    expect(dicomMedia('application/dicom+json, text/plain;q=0.1')).toBe(DicomMedia.Json);
    expect(dicomMedia('multipart/related; type="application/dicom"; transfer-syntax=*')).toBe(DicomMedia.Multipart);
    expect(dicomMedia('multipart/related; type=image/jpeg')).toBe(0);
    expect(dicomMedia('text/html,application/xhtml+xml,*/*;q=0.8')).toBe(0);
  });
});

describe('QIDO-RS', () => {
  const request = `GET /dicom-web/studies?PatientID=${FNR}&00100010=NORDMANN*&StudyDate=20240101-&limit=10&includefield=all HTTP/1.1\r\nHost: pacs.example\r\nAccept: application/dicom+json\r\nUser-Agent: curl/8.5.0\r\n\r\n`;
  const body = qidoJson();
  const response = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1'), body]);

  for (const chunking of CHUNKINGS) {
    it(`a search by patient: keys and elements by name, IDs pseudonymised (${chunking})`, () => {
      const r = run([seg(TS, request), seg(TC, response)], chunking);
      expect(r.dw).toHaveLength(1);
      const e = r.dw[0];
      expect(e).toMatchObject({ service: 'qido', level: 'study', http_method: 'GET', url: '/dicom-web/studies', status: 200, media_types: ['application/dicom+json'] });
      expect(e.query_keys).toEqual(['PatientID', 'PatientName', 'StudyDate']);
      expect(new Set(e.phi_fields)).toEqual(new Set(['PatientID', 'PatientName', 'PatientBirthDate', 'OtherPatientIDsSequence']));
      expect(new Set(e.phi_sources)).toEqual(new Set(['query', 'response']));
      expect(e.patient_ids).toEqual(
        expect.arrayContaining([
          { kind: 'fodselsnummer', pseudonym: fid('fodselsnummer', FNR) },
          { kind: 'fodselsnummer', pseudonym: fid('fodselsnummer', FNR_2) },
        ]),
      );
      expect(e.response_body).toMatchObject({ media_type: 'application/dicom+json', inspected_objects: 1, bytes_inspected: body.length, truncated: false });
      // AccessionNumber has no Value: not reported.
      expect(e.phi_fields).not.toContain('AccessionNumber');
      expect(r.relabels).toBe(1);
      // The identifier in the URL is still counted as PHI, now under the DICOMweb label.
      expect(r.phi.map((p) => p.protocol)).toContain('dicomweb');
      expectClean(r.records);
    });
  }

  it('a key without a value is a key, not patient data', () => {
    const r = run([seg(TS, 'GET /studies?PatientID=&limit=5 HTTP/1.1\r\nHost: p\r\n\r\n'), seg(TC, 'HTTP/1.1 204 No Content\r\n\r\n')]);
    expect(r.dw[0]).toMatchObject({ service: 'qido', query_keys: ['PatientID'], phi_fields: [] });
  });
});

describe('WADO-RS', () => {
  const PIXELS = 64 * 200;
  const one = dicomFile({ pixelBytes: PIXELS });
  const two = dicomFile({ patientName: PATIENT_NAME_2, patientId: FNR_2, instanceUid: `${INSTANCE_UID}.2`, syntax: '+ti', pixelBytes: PIXELS });
  const path = `/dicom-web/studies/${STUDY_UID}/series/${SERIES_UID}/instances/${INSTANCE_UID}`;
  const request = `GET ${path} HTTP/1.1\r\nHost: pacs.example\r\nAccept: multipart/related; type="application/dicom"; transfer-syntax=*\r\n\r\n`;

  function response(parts: Buffer[], framing: 'length' | 'chunked'): Buffer {
    const body = multipart(parts.map((b) => ({ type: 'application/dicom', body: b, location: `${path}` })));
    const head = `HTTP/1.1 200 OK\r\nContent-Type: multipart/related; type="application/dicom"; boundary=DICOMwebBoundary-7f3a\r\n`;
    if (framing === 'length') return Buffer.concat([Buffer.from(`${head}Content-Length: ${body.length}\r\n\r\n`, 'latin1'), body]);
    const chunks: Buffer[] = [Buffer.from(`${head}Transfer-Encoding: chunked\r\n\r\n`, 'latin1')];
    for (let i = 0; i < body.length; i += 1000) {
      const c = body.subarray(i, Math.min(body.length, i + 1000));
      chunks.push(Buffer.from(`${c.length.toString(16)}\r\n`, 'latin1'), c, Buffer.from('\r\n', 'latin1'));
    }
    chunks.push(Buffer.from('0\r\n\r\n', 'latin1'));
    return Buffer.concat(chunks);
  }

  for (const framing of ['length', 'chunked'] as const) {
    for (const chunking of CHUNKINGS) {
      it(`a multipart response of two objects (explicit and implicit VR), ${framing}, ${chunking}`, () => {
        const r = run([seg(TS, request), seg(TC, response([one, two], framing))], chunking);
        expect(r.dw).toHaveLength(1);
        const e = r.dw[0];
        expect(e).toMatchObject({ service: 'wado', level: 'instance', url: '/dicom-web/studies/{id}/series/{id}/instances/{id}', status: 200, phi_sources: ['response'] });
        expect(e.media_types).toEqual(['multipart/related']);
        expect(new Set(e.phi_fields)).toEqual(new Set(['PatientName', 'PatientID', 'PatientBirthDate']));
        expect(e.patient_ids?.map((p) => p.pseudonym).sort()).toEqual([fid('fodselsnummer', FNR), fid('fodselsnummer', FNR_2)].sort());
        const b = e.response_body!;
        expect(b).toMatchObject({ media_type: 'multipart/related', parts: 2, inspected_objects: 2, truncated: false });
        expect(b.transfer_syntaxes).toEqual(['1.2.840.10008.1.2.1', '1.2.840.10008.1.2']);
        // Each object is read only up to Pixel Data: the pixels are counted, not inspected.
        // At most one copy step (1 KiB) of each object's pixels is copied before the walk stops.
        expect(b.bytes_skipped).toBeGreaterThanOrEqual(2 * (PIXELS - 1024));
        expect(b.bytes_inspected + b.bytes_skipped).toBeGreaterThanOrEqual(one.length + two.length);
        expect(r.relabels).toBe(1);
        expectClean(r.records);
      });
    }
  }

  it('large Pixel Data is passed over: inspected bytes stay at the peek cap, the rest is counted as skipped', () => {
    const big = dicomFile({ pixelBytes: 64 * 1500 * 20 });
    const r = run([seg(TS, request), seg(TC, response([big], 'length'))], 'mss');
    const b = r.dw[0].response_body!;
    expect(b.inspected_objects).toBe(1);
    expect(b.bytes_inspected).toBeLessThanOrEqual(64 * 1024);
    expect(b.bytes_inspected + b.bytes_skipped).toBeGreaterThanOrEqual(big.length);
    expect(r.dw[0].phi_fields).toContain('PatientID');
  });

  it('the part cap: objects past it are counted, not inspected', () => {
    const r = run([seg(TS, request), seg(TC, response([one, one, one], 'length'))], 'segments', { dicomwebLimits: { maxParts: 2 } });
    expect(r.dw[0].response_body).toMatchObject({ inspected_objects: 2, truncated: true });
  });

  it('the body budget: once spent, the rest of the body is skipped by the parser', () => {
    const r = run([seg(TS, request), seg(TC, response([one, two], 'length'))], 'mss', { dicomwebLimits: { maxBodyBytes: 1000 }, phiScanDepth: 0 });
    const b = r.dw[0].response_body!;
    expect(b.truncated).toBe(true);
    expect(b.inspected_objects).toBe(1);
    expect(r.parser.counters.bodyBytesSkipped).toBeGreaterThan(0);
  });

  it('a gap inside an object cuts that object, and the next part is still found', () => {
    const res = response([one, two], 'length');
    const records: CleartextRecord[] = [];
    const parser = new HttpStreamParser({ emit: (x) => records.push(x), pseudonymize });
    const req = Buffer.from(request, 'latin1');
    parser.data(TS, req, 0, req.length, 1, 0);
    const head = res.indexOf('\r\n\r\n') + 4;
    const cut = head + 200 + 132 + 300; // inside the first object's data set
    parser.data(TC, res, 0, cut, 1, 0);
    parser.gap(TC, 100);
    parser.data(TC, res, cut + 100, res.length - cut - 100, 1, 0);
    parser.end('fin');
    const e = records.find((x): x is DicomwebRequestRecord => x.type === 'dicomweb.request')!;
    expect(e.response_body).toMatchObject({ parts: 2, truncated: true });
    expect(e.patient_ids?.map((p) => p.pseudonym)).toContain(fid('fodselsnummer', FNR_2));
    expectClean(records);
  });

  it('metadata in DICOM JSON', () => {
    const body = qidoJson();
    const r = run([
      seg(TS, `GET /studies/${STUDY_UID}/metadata HTTP/1.1\r\nAccept: application/dicom+json\r\n\r\n`),
      seg(TC, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n`), body])),
    ]);
    expect(r.dw[0]).toMatchObject({ service: 'wado', level: 'study', resource: 'metadata', url: '/studies/{id}/metadata' });
    expect(r.dw[0].phi_fields).toContain('PatientName');
    expectClean(r.records);
  });
});

describe('STOW-RS', () => {
  const obj = dicomFile();
  const body = multipart([{ type: 'application/dicom', body: obj }], 'stow-boundary');
  const request = Buffer.concat([
    Buffer.from(`POST /dicom-web/studies HTTP/1.1\r\nHost: pacs.example\r\nAccept: application/dicom+json\r\nContent-Type: multipart/related; type="application/dicom"; boundary=stow-boundary\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1'),
    body,
  ]);
  const answer = Buffer.from(JSON.stringify({ '00081199': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: [INSTANCE_UID] } }] } }));
  const response = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/dicom+json\r\nContent-Length: ${answer.length}\r\n\r\n`), answer]);

  for (const chunking of CHUNKINGS) {
    it(`a store: the object in the request is read, the answer has no patient data (${chunking})`, () => {
      const r = run([seg(TS, request), seg(TC, response)], chunking);
      expect(r.dw).toHaveLength(1);
      const e = r.dw[0];
      expect(e).toMatchObject({ service: 'stow', level: 'study', http_method: 'POST', url: '/dicom-web/studies', phi_sources: ['request'] });
      expect(new Set(e.phi_fields)).toEqual(new Set(['PatientName', 'PatientID', 'PatientBirthDate']));
      expect(e.patient_ids).toEqual([{ kind: 'fodselsnummer', pseudonym: fid('fodselsnummer', FNR) }]);
      expect(e.request_body).toMatchObject({ media_type: 'multipart/related', parts: 1, inspected_objects: 1 });
      expect(e.response_body).toMatchObject({ media_type: 'application/dicom+json', inspected_objects: 1 });
      // The fødselsnummer in the uploaded object is also found by the body scanner, labelled DICOMweb.
      expect(r.phi.every((p) => p.protocol === 'dicomweb')).toBe(true);
      expectClean(r.records);
    });
  }
});

describe('not DICOMweb', () => {
  it('a web shop: /studies.html and a /studies page are plain HTTP', () => {
    const page = '<html><body>Studies in art</body></html>';
    const r = run([
      seg(TS, 'GET /studies.html HTTP/1.1\r\nHost: shop.example\r\nAccept: text/html,application/xhtml+xml,*/*;q=0.8\r\n\r\n'),
      seg(TC, `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${page.length}\r\n\r\n${page}`),
      seg(TS, 'GET /studies?page=2&sort=price HTTP/1.1\r\nHost: shop.example\r\nAccept: text/html\r\n\r\n'),
      seg(TC, `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${page.length}\r\n\r\n${page}`),
      seg(TS, 'DELETE /studies/123 HTTP/1.1\r\nHost: shop.example\r\n\r\n'),
      seg(TC, 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'),
    ]);
    expect(r.http).toHaveLength(3);
    expect(r.dw).toEqual([]);
    expect(r.relabels).toBe(0);
    expect(r.parser.counters.dicomwebRequests).toBe(0);
  });

  it('a DICOM content type on a path that is not DICOMweb is not inspected', () => {
    const obj = dicomFile();
    const r = run([
      seg(TS, 'GET /instances/abc-123/file HTTP/1.1\r\nHost: orthanc\r\n\r\n'),
      seg(TC, Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/dicom\r\nContent-Length: ${obj.length}\r\n\r\n`), obj])),
    ]);
    expect(r.dw).toEqual([]);
    expect(r.parser.counters.dicomwebBodies).toBe(0);
  });
});

describe('hostile DICOMweb bodies', () => {
  it('random bytes as multipart, Part 10 and DICOM JSON never throw and never leak', () => {
    const rand = rng(99);
    for (let round = 0; round < 200; round++) {
      const n = 1 + Math.floor(rand() * 3000);
      const junk = Buffer.alloc(n);
      for (let i = 0; i < n; i++) junk[i] = Math.floor(rand() * 256);
      // Plant the boundary and DICM at random places, so the states are reached.
      if (n > 200) {
        Buffer.from('\r\n--b\r\nContent-Type: application/dicom\r\n\r\n').copy(junk, Math.floor(rand() * (n - 60)));
        Buffer.from(`DICM${FNR}"00100020":{"vr":"LO","Value":["`).copy(junk, Math.floor(rand() * (n - 60)));
      }
      for (const type of ['multipart/related; type="application/dicom"; boundary=b', 'application/dicom', 'application/dicom+json']) {
        const obs = new DicomwebObservations(pseudonymize);
        const body = DicomwebBody.forContentType(type, obs.from('response'))!;
        let p = 0;
        while (p < n) {
          const k = 1 + Math.floor(rand() * 500);
          if (body.wanting) body.push(junk, p, Math.min(k, n - p));
          else body.skipped(Math.min(k, n - p));
          p += k;
        }
        body.end(rand() < 0.5);
        expect(body.summary.bytes_inspected).toBeLessThanOrEqual(n);
        expect(JSON.stringify([...obs.fields, ...obs.ids.keys()])).not.toContain(FNR);
      }
    }
  });

  it('a body of nothing but patient keys costs a bounded scan', () => {
    const item = '"00100010":{"vr":"PN","Value":[{"Alphabetic":"X"}]},';
    const body = Buffer.from(`[{${item.repeat(5000)}"00080020":{"vr":"DA"}}]`);
    const obs = new DicomwebObservations(pseudonymize);
    const b = DicomwebBody.forContentType('application/dicom+json', obs.from('response'))!;
    b.push(body, 0, body.length);
    b.end(false);
    expect(b.summary.bytes_inspected).toBe(body.length);
    expect([...obs.fields]).toEqual(['PatientName']);
  });
});
