import { createHash, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TlsStreamParser, type TlsParserOptions } from '../../../protocols/tls/parser.js';
import type { TlsHandshakeRecord } from '../../../protocols/tls/records.js';
import { cipherSuiteName, cipherSuiteWeaknesses, isGrease, knownCipherSuites } from '../../../protocols/tls/cipher-suites.js';
import { probeTls } from '../../../protocols/tls/probe.js';
import { ProbeVerdict } from '../../../protocols/probe.js';
import { DETACH } from '../../../protocols/stream.js';
import {
  alert,
  appData,
  ccs,
  CERTS,
  certificate,
  clientHello,
  drive,
  HRR_RANDOM,
  record,
  seg,
  serverHello,
  serverHelloDone,
  splitAt,
  T_VALID,
  TC,
  tls12Session,
  tls13Session,
  TS,
  type Chunking,
  type Segment,
} from './build.js';

function run(segments: Segment[], chunking: Chunking = 'segments', opts: Partial<TlsParserOptions> = {}, ts = T_VALID) {
  const records: TlsHandshakeRecord[] = [];
  const parser = new TlsStreamParser({ emit: (r) => records.push(r), ...opts });
  const driven = drive(parser, segments, chunking, ts);
  parser.end('fin');
  return { records, parser, driven, rec: records[0] };
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const LEAF_SUBJECT = 'O=Test Hospital, CN=pacs.test.example';
const CA_NAME = 'O=Test Hospital, CN=Test Hospital Root CA';

/** The record without its timestamp, for comparing runs chunked differently. */
const facts = (r: TlsHandshakeRecord | undefined) => (r === undefined ? undefined : { ...r, ts_sec: 0, ts_nsec: 0 });

describe('TLS 1.3', () => {
  it('reads the hellos and detaches at the ServerHello, before any ciphertext', () => {
    const { records, rec, driven, parser } = run(tls13Session());
    expect(records).toHaveLength(1);
    expect(rec).toMatchObject({
      type: 'tls.handshake',
      version: 'TLS 1.3',
      client_versions: ['TLS 1.3', 'TLS 1.2'], // GREASE dropped
      sni: 'pacs.test.example',
      alpn: ['h2', 'http/1.1'],
      cipher_suite: 'TLS_AES_256_GCM_SHA384',
      cipher_suite_id: '0x1302',
      offered_suites: 4, // GREASE counted, as tshark does
      weak: false,
      weak_reasons: [],
      negotiated: true,
      encrypted: true,
    });
    expect(rec.certificate).toBeUndefined();
    expect(rec.issues).toBeUndefined();
    expect(driven.detached).toBe(true);
    // The server's CCS and 2000 bytes of application data in the same segment were never read.
    const sh = record(22, serverHello({ selected: 0x0304, suite: 0x1302 }));
    expect(driven.delivered[TC]).toBe(tls13Session()[1].data.length);
    expect(parser.counters.bytes).toBeLessThan(tls13Session()[0].data.length + sh.length + 2100);
    expect(driven.delivered[TS]).toBe(tls13Session()[0].data.length);
  });

  it('a HelloRetryRequest gives version and suite and ends the parse', () => {
    const { rec } = run([
      seg(TS, record(22, clientHello({ versions: [0x0304] }))),
      seg(TC, record(22, serverHello({ selected: 0x0304, suite: 0x1301, random: HRR_RANDOM }))),
    ]);
    expect(rec).toMatchObject({ version: 'TLS 1.3', cipher_suite: 'TLS_AES_128_GCM_SHA256', hello_retry: true, weak: false });
  });

  it('waits for the ServerHello past client 0-RTT ciphertext, which it skips', () => {
    const early = appData(5000);
    const { rec, driven } = run([
      seg(TS, record(22, clientHello({ versions: [0x0304], sni: 'x.example' })), ccs(), early.subarray(0, 5)),
      seg(TS, early.subarray(5)),
      seg(TC, record(22, serverHello({ selected: 0x0304, suite: 0x1303 })), appData(100)),
    ]);
    expect(rec).toMatchObject({ version: 'TLS 1.3', cipher_suite: 'TLS_CHACHA20_POLY1305_SHA256', sni: 'x.example' });
    // The record header ended the chunk: its 5000-byte body went back as a skip, never delivered.
    expect(driven.skipped[TS]).toBe(5000);
  });
});

describe('TLS 1.2', () => {
  it('reads the server certificate from a flight split over records', () => {
    const { rec, driven } = run(tls12Session({ recMax: 100 }));
    expect(rec).toMatchObject({
      version: 'TLS 1.2',
      client_versions: ['TLS 1.2'],
      sni: 'pacs.test.example',
      alpn: ['h2', 'http/1.1'],
      alpn_selected: 'h2',
      cipher_suite: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
      cipher_suite_id: '0xc030',
      offered_suites: 5,
      weak: false,
      weak_reasons: [],
    });
    expect(rec.certificate).toEqual({
      subject: LEAF_SUBJECT,
      issuer: CA_NAME,
      not_before: '2026-11-23T14:44:02Z',
      not_after: '2027-11-23T14:44:02Z',
      self_signed: false,
      sha256: sha256(CERTS.leaf),
      chain_length: 2,
    });
    expect(driven.detached).toBe(true);
    // Nothing the client sent after its hello was read.
    expect(driven.delivered[TS]).toBe(tls12Session()[0].data.length);
  });

  it('agrees with node:crypto on the certificate facts', () => {
    const x = new X509Certificate(CERTS.selfSigned);
    const { rec } = run(tls12Session({ chain: [CERTS.selfSigned] }));
    expect(rec.certificate!.subject).toBe(x.subject.replace('\n', ', '));
    expect(new Date(rec.certificate!.not_after).getTime()).toBe(new Date(x.validTo).getTime());
    expect(rec.certificate!.sha256).toBe(x.fingerprint256.replace(/:/g, '').toLowerCase());
    expect(rec.certificate!.self_signed).toBe(true);
    expect(rec.weak_reasons).toEqual(['self-signed-certificate']);
  });

  it('resumption: ServerHello then ChangeCipherSpec, no certificate', () => {
    const { rec, driven } = run([
      seg(TS, record(22, clientHello({ sni: 'r.example' }))),
      seg(TC, record(22, serverHello({ suite: 0xc02f })), ccs(), record(22, Buffer.alloc(40, 1))),
    ]);
    expect(rec).toMatchObject({ version: 'TLS 1.2', cipher_suite: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', weak: false });
    expect(rec.certificate).toBeUndefined();
    expect(driven.detached).toBe(true);
  });

  it('anonymous suite: ServerHelloDone ends it without a certificate', () => {
    const { rec } = run([seg(TS, record(22, clientHello())), seg(TC, record(22, Buffer.concat([serverHello({ suite: 0x0034 }), serverHelloDone()])))]);
    expect(rec).toMatchObject({ cipher_suite: 'TLS_DH_anon_WITH_AES_128_CBC_SHA', weak: true, weak_reasons: ['anonymous-key-exchange'] });
  });
});

describe('one record whatever the chunking', () => {
  const reference = facts(run(tls12Session({ recMax: 120 })).rec);
  const ref13 = facts(run(tls13Session()).rec);

  it('1-byte chunks', () => {
    expect(facts(run(tls12Session({ recMax: 120 }), 'bytes').rec)).toEqual(reference);
    expect(facts(run(tls13Session(), 'bytes').rec)).toEqual(ref13);
  });

  it('split at every byte boundary of either direction', () => {
    const segments = tls12Session({ recMax: 120 });
    for (const dir of [TS, TC]) {
      const total = segments.filter((s) => s.dir === dir).reduce((n, s) => n + s.data.length, 0);
      for (let at = 1; at < total; at++) {
        const r = run(splitAt(segments, dir, at));
        expect(r.records, `${dir}@${at}`).toHaveLength(1);
        expect(facts(r.rec), `${dir}@${at}`).toEqual(reference);
      }
    }
  });

  it('every handshake message in its own record, and all in one', () => {
    const ch = clientHello({ sni: 'pacs.test.example', alpn: ['h2', 'http/1.1'], suites: [0xc030, 0xc02f, 0xc014, 0x009c, 0x00ff] });
    const msgs = [serverHello({ suite: 0xc030, alpn: 'h2' }), certificate([CERTS.leaf, CERTS.ca]), serverHelloDone()];
    const own = run([seg(TS, record(22, ch, 0x0301)), seg(TC, ...msgs.map((m) => record(22, m)))]).rec;
    const one = run([seg(TS, record(22, ch, 0x0301)), seg(TC, record(22, Buffer.concat(msgs)))]).rec;
    expect(facts(own)!.certificate).toEqual(reference!.certificate);
    expect(facts(one)).toEqual(facts(own));
  });
});

describe('weak verdicts', () => {
  const weak = (version: number, suite: number) => run(tls12Session({ version, suite })).rec;

  it('old versions', () => {
    expect(weak(0x0301, 0xc014)).toMatchObject({ version: 'TLS 1.0', cipher_suite: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', weak: true, weak_reasons: ['deprecated-version'] });
    expect(weak(0x0302, 0xc013).weak_reasons).toEqual(['deprecated-version']);
    expect(weak(0x0300, 0x002f)).toMatchObject({ version: 'SSL 3.0', weak_reasons: ['deprecated-version'] });
    expect(weak(0x0303, 0xc02f).weak).toBe(false);
  });

  it('NULL, EXPORT, RC4, DES, 3DES and anonymous suites', () => {
    expect(weak(0x0303, 0x0002).weak_reasons).toEqual(['null-cipher']);
    expect(weak(0x0303, 0x0003).weak_reasons).toEqual(['export-cipher', 'rc4-cipher']);
    expect(weak(0x0303, 0x0005).weak_reasons).toEqual(['rc4-cipher']);
    expect(weak(0x0303, 0x0009).weak_reasons).toEqual(['des-cipher']);
    expect(weak(0x0303, 0x000a).weak_reasons).toEqual(['3des-cipher']);
    expect(weak(0x0303, 0xc017).weak_reasons).toEqual(['3des-cipher', 'anonymous-key-exchange']);
    expect(weak(0x0303, 0x0000).weak_reasons).toEqual(['null-cipher', 'anonymous-key-exchange']);
    expect(weak(0x0301, 0x0019).weak_reasons).toEqual(['deprecated-version', 'export-cipher', 'des-cipher', 'anonymous-key-exchange']);
  });

  it('an unknown suite is named by number and judged on nothing', () => {
    expect(weak(0x0303, 0xabcd)).toMatchObject({ cipher_suite: '0xabcd', cipher_suite_id: '0xabcd', weak: false });
  });

  it('certificate validity is judged at the capture time, not the wall clock', () => {
    const after = Date.UTC(2028, 0, 1) / 1000;
    const before = Date.UTC(2020, 0, 1) / 1000;
    expect(run(tls12Session(), 'segments', {}, after).rec.weak_reasons).toEqual(['expired-certificate']);
    expect(run(tls12Session(), 'segments', {}, before).rec.weak_reasons).toEqual(['not-yet-valid-certificate']);
    expect(run(tls12Session(), 'segments', {}, T_VALID).rec.weak).toBe(false);
    // Self-signed and expired (the test certificate lives 30 days).
    expect(run(tls12Session({ chain: [CERTS.selfSigned] }), 'segments', {}, after).rec.weak_reasons).toEqual(['expired-certificate', 'self-signed-certificate']);
  });

  it('TLS compression', () => {
    const { rec } = run([seg(TS, record(22, clientHello())), seg(TC, record(22, serverHello({ suite: 0xc02f, compression: 1 })), ccs())]);
    expect(rec.weak_reasons).toEqual(['compression']);
  });

  it('every weak suite in the table is flagged, no strong one is', () => {
    for (const [id, name] of knownCipherSuites()) {
      const w = cipherSuiteWeaknesses(id);
      const expectWeak = /NULL|EXPORT|RC4|_DES|3DES|_anon_/.test(name);
      expect(w.length > 0, name).toBe(expectWeak);
      if (name.includes('_anon_')) expect(w, name).toContain('anonymous-key-exchange');
      if (name.includes('EXPORT')) expect(w, name).toContain('export-cipher');
      if (/_RC4_/.test(name)) expect(w, name).toContain('rc4-cipher');
      if (/_3DES_/.test(name)) expect(w, name).toContain('3des-cipher');
    }
    for (const id of [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc030, 0xcca8, 0x009e]) expect(cipherSuiteWeaknesses(id)).toEqual([]);
    expect(cipherSuiteName(0xc030)).toBe('TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384');
    expect(new Set(knownCipherSuites().map(([id]) => id)).size).toBe(knownCipherSuites().length);
    expect([0x0a0a, 0xfafa, 0x3a3a].every(isGrease)).toBe(true);
    expect([0x0303, 0x0a0b, 0x1a0a].some(isGrease)).toBe(false);
  });
});

describe('refusals and partial handshakes', () => {
  it('a server alert after the ClientHello is reported with the client facts', () => {
    const { rec, driven } = run([seg(TS, record(22, clientHello({ legacy: 0x0301, sni: 'old.example', noExtensions: false }), 0x0301)), seg(TC, alert(2, 70, 0x0301))]);
    expect(rec).toMatchObject({ negotiated: false, alert: 'protocol_version', client_versions: ['TLS 1.0'], sni: 'old.example', weak: false });
    expect(rec.version).toBeUndefined();
    expect(driven.detached).toBe(true);
  });

  it('a connection that ends after the ClientHello still yields its record, once', () => {
    const { records } = run([seg(TS, record(22, clientHello({ sni: 'a.example' })))]);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ sni: 'a.example', negotiated: false });
  });

  it('SSL 3.0-style hellos without extensions', () => {
    const { rec } = run([
      seg(TS, record(22, clientHello({ legacy: 0x0300, noExtensions: true, suites: [0x0005, 0x000a] }), 0x0300)),
      seg(TC, record(22, serverHello({ legacy: 0x0300, suite: 0x0005, noExtensions: true }), 0x0300), ccs(0x0300)),
    ]);
    expect(rec).toMatchObject({ version: 'SSL 3.0', cipher_suite: 'TLS_RSA_WITH_RC4_128_SHA', weak_reasons: ['deprecated-version', 'rc4-cipher'] });
    expect(rec.sni).toBeUndefined();
  });

  it('a gap in the server direction after the ServerHello ends with what is known', () => {
    const records: TlsHandshakeRecord[] = [];
    const p = new TlsStreamParser({ emit: (r) => records.push(r) });
    const [cs, sf] = tls12Session();
    p.data(TS, cs.data, 0, cs.data.length, T_VALID, 0);
    p.data(TC, sf.data, 0, 100, T_VALID, 0); // ServerHello complete, certificate begun
    p.gap(TC, 500);
    expect(p.data(TC, sf.data, 600, 10, T_VALID, 0)).toBe(DETACH);
    p.end('fin');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ version: 'TLS 1.2', negotiated: true });
    expect(records[0].certificate).toBeUndefined();
  });

  it('a gap in the client direction does not stop the server side', () => {
    const records: TlsHandshakeRecord[] = [];
    const p = new TlsStreamParser({ emit: (r) => records.push(r) });
    const [cs, sf] = tls12Session();
    p.data(TS, cs.data, 0, 20, T_VALID, 0);
    p.gap(TS, 30);
    p.data(TS, cs.data, 50, cs.data.length - 50, T_VALID, 0);
    expect(p.data(TC, sf.data, 0, sf.data.length, T_VALID, 0)).toBe(DETACH);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ version: 'TLS 1.2', client_versions: [] });
    expect(records[0].certificate?.subject).toBe(LEAF_SUBJECT);
  });

  it('reports metrics with a bounded version label', () => {
    const seen: string[] = [];
    run(tls13Session(), 'segments', { metrics: { handshake: (v) => seen.push(v) } });
    run([seg(TS, record(22, clientHello()))], 'segments', { metrics: { handshake: (v) => seen.push(v) } });
    run([seg(TS, record(22, clientHello())), seg(TC, record(22, serverHello({ legacy: 0x7f1c })))], 'segments', { metrics: { handshake: (v) => seen.push(v) } });
    expect(seen).toEqual(['TLS 1.3', 'none', 'other']);
  });
});

describe('probe', () => {
  it('recognises hellos; other records only as a run of well-formed records of one version', () => {
    const ch = record(22, clientHello(), 0x0301);
    expect(probeTls(ch, 0, ch.length)).toBe(ProbeVerdict.Yes);
    for (let n = 1; n < 10; n++) expect(probeTls(ch, 0, n)).toBe(ProbeVerdict.NeedMore);
    const sh = record(22, serverHello());
    expect(probeTls(sh, 0, sh.length)).toBe(ProbeVerdict.Yes);
    // Application data first: a connection picked up mid-stream.
    expect(probeTls(appData(10), 0, 15)).toBe(ProbeVerdict.Yes);
    const run = Buffer.concat([appData(10), appData(20)]);
    expect(probeTls(run, 0, run.length)).toBe(ProbeVerdict.Yes);
    const mixed = Buffer.concat([appData(10), record(23, Buffer.alloc(5), 0x0301)]);
    expect(probeTls(mixed, 0, mixed.length)).toBe(ProbeVerdict.No); // versions must agree
    expect(probeTls(Buffer.concat([appData(10), Buffer.from('HTTP/1.1')]), 0, 23)).toBe(ProbeVerdict.No);
    expect(probeTls(record(20, Buffer.from([1, 1])), 0, 7)).toBe(ProbeVerdict.No); // change_cipher_spec is one byte
    expect(probeTls(record(21, Buffer.alloc(300)), 0, 100)).toBe(ProbeVerdict.No); // no alert is that long
    expect(probeTls(record(23, Buffer.alloc(10), 0x0304), 0, 15)).toBe(ProbeVerdict.No); // records never say 1.3
    expect(probeTls(record(23, Buffer.alloc(0)), 0, 5)).toBe(ProbeVerdict.NeedMore);
    expect(probeTls(Buffer.from('GET / HTTP/1.1\r\n'), 0, 16)).toBe(ProbeVerdict.No);
    const tiny = record(22, Buffer.from([1, 0, 0, 4, 3, 3, 0, 0]));
    expect(probeTls(tiny, 0, tiny.length)).toBe(ProbeVerdict.No);
  });
});
