/**
 * HTTP/1.x at the protocol level: corpus streams in every chunking, pipelining and keep-alive,
 * body framing (content-length, chunked, close-delimited, HEAD/204/304, 1xx, 101), skips,
 * Basic and Digest credentials, fødselsnumre in bodies split anywhere, the scan depth, query
 * values never reported, endless heads, gaps and garbage.
 */
import { describe, expect, it } from 'vitest';
import { HttpStreamParser, type HttpParserOptions } from '../../../protocols/cleartext/http.js';
import type { CleartextPhiRecord, CleartextRecord, CredentialRecord, HttpRecord } from '../../../protocols/cleartext/records.js';
import { DETACH, Direction } from '../../../protocols/stream.js';
import { deliver, drive, followTcp, gapThrough, rng, type Chunking, type DriveResult, type Segment } from '../../support/streams.js';
import { pseudonymize } from './support.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;

function run(segments: Segment[], chunking: Chunking = 'segments', opts: Partial<HttpParserOptions> = {}, seed = 7) {
  const records: CleartextRecord[] = [];
  const parser = new HttpStreamParser({ emit: (r) => records.push(r), pseudonymize, ...opts });
  const driven = drive(parser, segments, chunking, seed);
  parser.end('fin');
  return { records, parser, driven, ...split(records) };
}

function split(records: CleartextRecord[]) {
  return {
    http: records.filter((r): r is HttpRecord => r.type === 'http'),
    creds: records.filter((r): r is CredentialRecord => r.type === 'credential.cleartext'),
    phi: records.filter((r): r is CleartextPhiRecord => r.type === 'phi.observed'),
  };
}

/** Records without capture time, for comparing chunkings. */
const shape = (rs: CleartextRecord[]) => rs.map(({ ts_sec: _s, ts_nsec: _n, ...rest }) => rest);

const seg = (dir: Direction, s: string | Buffer): Segment => ({ dir, data: typeof s === 'string' ? Buffer.from(s, 'latin1') : s });

const FNR_A = '14078521210';
const FNR_B = '03116210443';
const CHUNKINGS: Chunking[] = ['segments', 'tiny', 'random', 'mss', 'whole'];

/** TCP streams of a capture by tshark stream index. */
const streams = (file: string, idx: number[]) => idx.map((i) => followTcp(file, idx).find((s) => s.index === i)!);

describe('HTTP on corpus streams', () => {
  const basic = streams('12_http_basic_auth.pcap', [0, 1]);
  const callhome = streams('19_callhome_http_phi.pcap', [0]);

  it('12: 401 then 200 with a Basic credential: pseudonym and fingerprint, never the values', () => {
    const first = run(basic[0].segments);
    expect(first.http).toHaveLength(1);
    expect(first.http[0]).toMatchObject({ http_method: 'GET', url: '/admin/', hostname: '10.77.10.40', status: 401, http_server: 'nginx/1.22.1', http_user_agent: 'curl/7.88.1' });
    expect(first.creds).toEqual([]);
    const second = run(basic[1].segments);
    expect(second.creds).toEqual([
      expect.objectContaining({
        protocol: 'http',
        kind: 'basic-auth',
        username_pseudonym: pseudonymize('username', 'admin'),
        secret_fingerprint: pseudonymize('secret', 'Infus10n!'),
      }),
    ]);
    expect(second.http[0]).toMatchObject({ status: 200, auth_scheme: 'basic' });
  });

  it('19: call-home POST: the manifest facts, and the fødselsnummer in the body as PHI (twice, one person)', () => {
    const r = run(callhome[0].segments);
    expect(r.http).toHaveLength(1);
    expect(r.http[0]).toMatchObject({
      http_method: 'POST',
      hostname: 'telemetry.vendor-cloud.example',
      url: '/api/v2/events',
      http_user_agent: 'SMC-Telemetry/2.3',
      http_request_content_type: 'application/json',
      request_length: 291,
      status: 200,
      length: 21,
      phi_kinds: ['fodselsnummer'],
    });
    expect(r.phi).toHaveLength(1);
    expect(r.phi[0]).toMatchObject({ protocol: 'http', direction: 'to_server', kinds: ['fodselsnummer'], count: 2, distinct: 1, pseudonyms: [pseudonymize('fodselsnummer', FNR_A)], locations: ['body'] });
  });

  it.each(CHUNKINGS)('gives the same records in %s chunks', (chunking) => {
    for (const s of [...basic, ...callhome]) {
      expect(shape(run(s.segments, chunking).records)).toEqual(shape(run(s.segments).records));
    }
  });

  it('20: GET of a report and a 231 kB multipart upload: bodies past the scan depth are skipped, not delivered', () => {
    const [get, post] = streams('20_segmentation_mu_to_office_http.pcap', [0, 1]);
    const g = run(get.segments, 'mss');
    expect(g.http).toEqual([expect.objectContaining({ http_method: 'GET', url: '/qa-report.txt', status: 200, http_content_type: 'text/plain', length: 19199 })]);
    const p = run(post.segments, 'mss');
    expect(p.http).toEqual([expect.objectContaining({ http_method: 'POST', url: '/upload', http_request_content_type: 'multipart/form-data', request_length: 231541, status: 200 })]);
    // The DICOM object in the upload names a patient by fødselsnummer.
    expect(p.phi[0]).toMatchObject({ pseudonyms: [pseudonymize('fodselsnummer', FNR_B)] });
    // 19 kB of the GET body was scanned; of the upload, what the 64 KiB budget allowed.
    expect(p.parser.counters.bodyBytesScanned).toBe(64 * 1024);
    expect(p.driven.skipped).toBeGreaterThan(231541 - 64 * 1024 - 1448 * 2);
    const noScan = run(post.segments, 'mss', { phiScanDepth: 0 });
    expect(noScan.driven.skipped).toBeGreaterThan(231541 - 1448 * 2);
    expect(noScan.phi).toEqual([]);
  });
});

describe('HTTP framing', () => {
  it('pairs pipelined requests with their responses across content-length, chunked, HEAD, 204, 304 and 1xx', () => {
    const r = run([
      seg(TS, 'GET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\nHost: h\r\n\r\nPOST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /d HTTP/1.1\r\n\r\nGET /e HTTP/1.1\r\n\r\n'),
      seg(
        TC,
        'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: 1\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n',
      ),
    ]);
    expect(r.http.map((h) => [h.http_method, h.url, h.status, h.length])).toEqual([
      ['GET', '/a', 200, 3],
      ['HEAD', '/b', 200, 999],
      ['POST', '/c', 201, 19],
      ['GET', '/d', 204, 0],
      ['GET', '/e', 304, 50],
    ]);
    expect(r.parser.counters).toMatchObject({ requests: 5, responses: 5, interimResponses: 1, unpairedResponses: 0, badChunks: 0 });
    expect(r.http[2].request_length).toBe(5);
  });

  it('reads a close-delimited response to the end of the connection', () => {
    const r = run([seg(TS, 'GET / HTTP/1.0\r\n\r\n'), seg(TC, `HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\npatient ${FNR_A} seen`)], 'tiny');
    expect(r.http).toEqual([expect.objectContaining({ status: 200, length: 24, phi_kinds: ['fodselsnummer'] })]);
    expect(r.phi[0]).toMatchObject({ direction: 'to_client', count: 1 });
  });

  it('reports an unanswered request at the end as incomplete, and a lone response as unpaired', () => {
    const a = run([seg(TS, 'GET /x HTTP/1.1\r\nHost: h\r\n\r\n')]);
    expect(a.http).toEqual([expect.objectContaining({ http_method: 'GET', url: '/x', incomplete: true })]);
    const b = run([seg(TC, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')]);
    expect(b.http).toEqual([expect.objectContaining({ status: 200 })]);
    expect(b.http[0].http_method).toBeUndefined();
    expect(b.parser.counters.unpairedResponses).toBe(1);
  });

  it('detaches on 101 Switching Protocols and on a CONNECT tunnel', () => {
    const records: CleartextRecord[] = [];
    const p = new HttpStreamParser({ emit: (r) => records.push(r), pseudonymize });
    const skip = [0, 0];
    const res: DriveResult = { delivered: 0, skipped: 0, detached: false };
    const up = Buffer.from('GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n');
    deliver(p, TS, up, 0, up.length, skip, res);
    const sw = Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello');
    expect(deliver(p, TC, sw, 0, sw.length, skip, res)).toBe(false);
    expect(split(records).http).toEqual([expect.objectContaining({ status: 101, tunnel: true })]);
    const t = run([seg(TS, 'CONNECT db.example:443 HTTP/1.1\r\n\r\n'), seg(TC, 'HTTP/1.1 200 Connection established\r\n\r\n'), seg(TS, '\x16\x03\x01\x00\x10random tls bytes')]);
    expect(t.driven.detached).toBe(true);
    expect(t.http).toEqual([expect.objectContaining({ http_method: 'CONNECT', hostname: 'db.example:443', tunnel: true })]);
  });

  it('keeps only parameter names of the query, and replaces a fødselsnummer in the path', () => {
    const r = run([seg(TS, `GET http://pacs.example:8080/patients/${FNR_A}/studies?pid=${FNR_B}&name=NORDMANN%5EKARI&flag&x[]=1#frag HTTP/1.1\r\n\r\n`)]);
    expect(r.http[0]).toMatchObject({ hostname: 'pacs.example:8080', url: '/patients/{fnr}/studies', query_params: ['pid', 'name', 'x[]'] });
    const text = JSON.stringify(r.records);
    for (const s of [FNR_A, FNR_B, 'NORDMANN', 'KARI', 'frag']) expect(text).not.toContain(s);
    expect(r.phi[0]).toMatchObject({ count: 2, distinct: 2, locations: ['url'] });
  });

  it('flags HL7 and FHIR content types', () => {
    const r = run([
      seg(TS, 'POST /fhir/Patient HTTP/1.1\r\nContent-Type: application/fhir+json; fhirVersion=4.0\r\nContent-Length: 2\r\n\r\n{}GET /x HTTP/1.1\r\n\r\n'),
      seg(TC, 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: x-application/hl7-v2+er7\r\nContent-Length: 0\r\n\r\n'),
    ]);
    expect(r.http.map((h) => h.health_content)).toEqual(['fhir+json', 'hl7v2']);
  });
});

describe('HTTP credentials', () => {
  const basic = (user: string, pass: string) => Buffer.from(`${user}:${pass}`).toString('base64');

  it('reports a Basic credential once per connection however often it is sent', () => {
    const req = `GET / HTTP/1.1\r\nAuthorization: Basic ${basic('biomed', 'Biomed#2024')}\r\n\r\n`;
    const resp = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
    const r = run([seg(TS, req + req + req), seg(TC, resp + resp + resp)]);
    expect(r.http).toHaveLength(3);
    expect(r.creds).toHaveLength(1);
    expect(r.creds[0]).toEqual({
      type: 'credential.cleartext',
      ts_sec: expect.any(Number),
      ts_nsec: 0,
      protocol: 'http',
      kind: 'basic-auth',
      username_pseudonym: pseudonymize('username', 'biomed'),
      secret_fingerprint: pseudonymize('secret', 'Biomed#2024'),
    });
  });

  it('reports a Digest username without any secret, and other schemes by name only', () => {
    const r = run([
      seg(
        TS,
        'GET /a HTTP/1.1\r\nAuthorization: Digest username="bio\\"med", realm="x", nonce="1", uri="/a", response="abc"\r\n\r\n' +
          'GET /b HTTP/1.1\r\nProxy-Authorization: Digest realm="x", username*=UTF-8\'\'J%C3%B8rn\r\n\r\n' +
          'GET /c HTTP/1.1\r\nAuthorization: Bearer eyJhbGciOi.secret.token\r\n\r\n',
      ),
    ]);
    expect(r.creds.map((c) => [c.kind, c.username_pseudonym, c.secret_fingerprint])).toEqual([
      ['digest-auth', pseudonymize('username', 'bio"med'), undefined],
      ['digest-auth', pseudonymize('username', 'Jørn'), undefined],
    ]);
    expect(r.http.map((h) => h.auth_scheme)).toEqual(['digest', 'digest', 'bearer']);
    expect(JSON.stringify(r.records)).not.toMatch(/eyJ|secret\.token|Jørn|bio/);
  });

  it('counts a Basic header that is not base64', () => {
    const r = run([seg(TS, 'GET / HTTP/1.1\r\nAuthorization: Basic !!!notbase64\r\n\r\n')]);
    expect(r.creds).toEqual([]);
    expect(r.parser.counters.badAuthorization).toBe(1);
  });
});

describe('fødselsnumre in bodies', () => {
  const post = (body: string, extra = '') => `POST /log HTTP/1.1\r\nContent-Length: ${Buffer.byteLength(body, 'latin1')}\r\n${extra}\r\n${body}`;

  it('finds a number split over every possible chunk boundary, and in chunked encoding split over chunks', () => {
    const body = `x ${FNR_A} y`;
    for (let cut = 1; cut < body.length; cut++) {
      const full = Buffer.from(post(body), 'latin1');
      const at = full.length - body.length + cut;
      const r = run([seg(TS, full.subarray(0, at)), seg(TS, full.subarray(at))]);
      expect(r.phi, `cut ${cut}`).toHaveLength(1);
    }
    const chunked = `POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nid=1\r\n5\r\n40785\r\n6\r\n21210&\r\n0\r\n\r\n`;
    for (const c of ['segments', 'tiny'] as Chunking[]) expect(run([seg(TS, chunked)], c).phi[0]).toMatchObject({ count: 1, pseudonyms: [pseudonymize('fodselsnummer', FNR_A)] });
  });

  it('does not take a 12-digit run split over chunks, or over chunked-encoding chunks, for a number', () => {
    const r = run([seg(TS, post(`acc 9${FNR_A} and ${FNR_A}7`))], 'tiny');
    expect(r.phi).toEqual([]);
    const chunked = `POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n914078\r\n6\r\n521210\r\n0\r\n\r\n`;
    expect(run([seg(TS, chunked)], 'tiny').phi).toEqual([]);
  });

  it('stops at the scan depth and skips the rest; a number beyond the depth is not looked for', () => {
    const pad = 'a'.repeat(70_000);
    const r = run([seg(TS, post(`${FNR_A} ${pad} ${FNR_B}`))], 'mss');
    expect(r.phi[0].pseudonyms).toEqual([pseudonymize('fodselsnummer', FNR_A)]);
    expect(r.parser.counters).toMatchObject({ depthReached: 1, bodyBytesScanned: 64 * 1024 });
    expect(r.driven.skipped).toBeGreaterThan(70_000 - 64 * 1024 - 1448);
    expect(run([seg(TS, post(`${FNR_A} ${pad} ${FNR_B}`))], 'mss', { phiScanDepth: 200_000 }).phi[0].distinct).toBe(2);
  });

  it('does not scan compressed bodies', () => {
    const r = run([seg(TS, post(`${FNR_A}`, 'Content-Encoding: gzip\r\n'))]);
    expect(r.phi).toEqual([]);
    expect(r.parser.counters.encodedBodies).toBe(1);
  });

  it('finds numbers in header values', () => {
    const r = run([seg(TS, `GET / HTTP/1.1\r\nX-Patient: ${FNR_B}\r\n\r\n`)]);
    expect(r.phi[0]).toMatchObject({ locations: ['headers'], count: 1 });
  });

  it('caps the pseudonyms kept per message', () => {
    // 40 distinct valid numbers: D-numbers of the same person differ... use real ones generated here.
    const nums: string[] = [];
    for (let ind = 100; nums.length < 40 && ind < 999; ind++) {
      const base = `140785${ind}`;
      for (let k = 0; k < 100; k++) {
        const cand = base + String(k).padStart(2, '0');
        if (/^\d{11}$/.test(cand) && run([seg(TS, post(cand))]).phi.length === 1) {
          nums.push(cand);
          break;
        }
      }
    }
    const r = run([seg(TS, post(nums.join(' ')))]);
    expect(r.phi[0].count).toBe(40);
    expect(r.phi[0].pseudonyms).toHaveLength(32);
  });
});

describe('HTTP hostile input', () => {
  it('endless headers cost a counter and a detach, with bounded memory', () => {
    const records: CleartextRecord[] = [];
    const p = new HttpStreamParser({ emit: (r) => records.push(r), pseudonymize });
    const skip = [0, 0];
    const res: DriveResult = { delivered: 0, skipped: 0, detached: false };
    const start = Buffer.from('GET / HTTP/1.1\r\n');
    deliver(p, TS, start, 0, start.length, skip, res);
    const h = Buffer.from('X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n');
    let sent = 0;
    while (deliver(p, TS, h, 0, h.length, skip, res)) {
      sent += h.length;
      expect(sent).toBeLessThan(200_000);
    }
    expect(p.counters.headerOverflows).toBe(1);
    expect(p.bufferedBytes).toBeLessThanOrEqual(2 * 16 * 1024);
  });

  it('an endless line without LF detaches at the line cap', () => {
    const p = new HttpStreamParser({ emit: () => {}, pseudonymize, maxLineLength: 1024 });
    const skip = [0, 0];
    const res: DriveResult = { delivered: 0, skipped: 0, detached: false };
    const chunk = Buffer.alloc(100, 0x41);
    const first = Buffer.from('GET /');
    deliver(p, TS, first, 0, first.length, skip, res);
    let n = 0;
    while (deliver(p, TS, chunk, 0, chunk.length, skip, res)) expect(++n).toBeLessThan(100);
    expect(p.counters.headerOverflows).toBe(1);
    expect(p.bufferedBytes).toBe(1024);
  });

  it('many header lines detach', () => {
    const r = run([seg(TS, 'GET / HTTP/1.1\r\n' + 'A: b\r\n'.repeat(300) + '\r\n')]);
    expect(r.driven.detached).toBe(true);
    expect(r.parser.counters.headerOverflows).toBe(1);
  });

  it('a bad chunk size, a bad content length and a bad start line are counted, then the next message is found', () => {
    const r = run([
      seg(TS, 'POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\nGET /b HTTP/1.1\r\n\r\n'),
      seg(TC, 'garbage line\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n'),
    ]);
    expect(r.parser.counters).toMatchObject({ badChunks: 1, badStartLines: 1, badContentLength: 1 });
    expect(r.http.map((h) => [h.url, h.status])).toEqual([
      ['/a', 200],
      ['/b', 200],
    ]);
  });

  it('a gap inside a content-length body keeps framing; a gap in a head resynchronises on the next request', () => {
    const body = 'x'.repeat(100);
    const req = Buffer.from(`POST /a HTTP/1.1\r\nContent-Length: 100\r\n\r\n${body}GET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n`);
    const records: CleartextRecord[] = [];
    const p = new HttpStreamParser({ emit: (r) => records.push(r), pseudonymize });
    const skip = [0, 0];
    const res: DriveResult = { delivered: 0, skipped: 0, detached: false };
    const bodyAt = req.indexOf('xxx');
    deliver(p, TS, req, 0, bodyAt + 10, skip, res);
    gapThrough(p, TS, 50, skip);
    const getB = req.indexOf('GET /b');
    deliver(p, TS, req, bodyAt + 60, getB + 5 - (bodyAt + 60), skip, res);
    gapThrough(p, TS, 3, skip); // inside "GET /b" request line
    deliver(p, TS, req, getB + 8, req.length - getB - 8, skip, res);
    p.end('fin');
    const urls = split(records).http.map((h) => h.url);
    expect(urls).toEqual(['/a', '/c']);
    expect(p.counters).toMatchObject({ gaps: 2, resyncs: 1 });
  });

  it('random bytes and mutated corpus streams never throw and stay bounded', () => {
    const rand = rng(99);
    const streams = [...followTcp('12_http_basic_auth.pcap', [0, 1]), ...followTcp('19_callhome_http_phi.pcap', [0])];
    for (let i = 0; i < 300; i++) {
      const base = streams[i % streams.length].segments;
      const segs = base.map((s) => {
        const d = Buffer.from(s.data);
        const flips = Math.floor(rand() * 6);
        for (let k = 0; k < flips; k++) d[Math.floor(rand() * d.length)] = Math.floor(rand() * 256);
        return { dir: s.dir, data: d };
      });
      if (i % 3 === 0) segs.push({ dir: rand() < 0.5 ? TS : TC, data: Buffer.from(Array.from({ length: 2000 }, () => Math.floor(rand() * 256))) });
      const r = run(segs, (['tiny', 'random', 'segments'] as Chunking[])[i % 3], { maxLineLength: 512 }, i);
      expect(r.parser.bufferedBytes).toBeLessThanOrEqual(1024);
      for (const h of r.http) expect(JSON.stringify(h)).not.toContain('Infus10n');
    }
  });

  it('a detached parser answers DETACH', () => {
    const r = run([seg(TS, 'GET / HTTP/1.1\r\n' + 'A: b\r\n'.repeat(300))]);
    expect(r.parser.data(TS, Buffer.from('x'), 0, 1, 0, 0)).toBe(DETACH);
  });
});
