/**
 * Crafted, garbled and random input: lengths past their record or message, truncated and
 * oversized certificates, garbage records, seeded mutations of whole sessions. The parser
 * must answer with counters and at most one record, never an exception (internal_errors
 * stays 0: the safety net is never needed), and never buffer what a length field claims.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_MESSAGE_LENGTH, TlsStreamParser } from '../../../protocols/tls/parser.js';
import type { TlsHandshakeRecord } from '../../../protocols/tls/records.js';
import { DETACH } from '../../../protocols/stream.js';
import { MailStreamParser } from '../../../protocols/cleartext/mail.js';
import { StartTlsStream } from '../../../protocols/tls/starttls.js';
import {
  appData,
  CERTS,
  certificate,
  clientHello,
  clientHelloBody,
  drive,
  ext,
  handshake,
  record,
  records,
  rng,
  seg,
  serverHello,
  T_VALID,
  TC,
  tls12Session,
  tls13Session,
  TS,
  v2ClientHello,
  v2CompatSession,
  v2Record,
  v2ServerHello,
  v2Session,
  midstreamSession,
  vec16,
  vec24,
  type Chunking,
  type Segment,
} from './build.js';

function run(segments: Segment[], chunking: Chunking = 'segments', opts: { maxHandshakeBytes?: number } = {}) {
  const out: TlsHandshakeRecord[] = [];
  const parser = new TlsStreamParser({ emit: (r) => out.push(r), ...opts });
  const driven = drive(parser, segments, chunking);
  parser.end('fin');
  return { records: out, rec: out[0], parser, driven, c: parser.counters };
}

const CAP = DEFAULT_MAX_MESSAGE_LENGTH;

describe('lengths that lie', () => {
  it('a ClientHello whose handshake length runs past its record, then garbage', () => {
    const body = clientHelloBody({ sni: 'a.example' });
    const lying = Buffer.concat([Buffer.from([1, 0, 0x13, 0x88]), body]); // claims 5000 bytes
    const { records: rs, c, driven } = run([seg(TS, record(22, lying), Buffer.from('GARBAGE GARBAGE GARBAGE'))]);
    expect(driven.detached).toBe(true);
    expect(c.bad_records).toBe(1);
    expect(c.internal_errors).toBe(0);
    expect(rs).toHaveLength(0); // nothing was learnt
  });

  it('a ClientHello whose handshake length runs past its record, continued by the next record, is fine', () => {
    const msg = clientHello({ sni: 'split.example' });
    const { rec, c } = run([seg(TS, records(22, msg, 7))]);
    expect(rec).toMatchObject({ sni: 'split.example' });
    expect(c.malformed_messages).toBe(0);
  });

  it('cipher suites, extensions and SNI longer than their message or extension', () => {
    const base = clientHelloBody({ suites: [0x1301, 0x1302] });
    // suites length 0xfff0 inside a short message
    const badSuites = Buffer.from(base);
    badSuites.writeUInt16BE(0xfff0, 2 + 32 + 1 + 32);
    let r = run([seg(TS, record(22, handshake(1, badSuites)))]);
    expect(r.rec.issues).toEqual(['client_hello:length-past-message']);
    expect(r.rec.offered_suites).toBeLessThan(0xfff0 / 2);
    // extension block length past the message
    const badExt = clientHelloBody({ sni: 'ok.example', extra: [ext(0x1234, Buffer.alloc(10))] });
    badExt.writeUInt16BE(0x7000, badExt.length - (4 + 10) - (4 + 2 + 3 + 'ok.example'.length) - 2);
    r = run([seg(TS, record(22, handshake(1, badExt)))]);
    expect(r.rec.issues).toEqual(['client_hello:extension-past-message']);
    expect(r.rec.sni).toBe('ok.example');
    // SNI name length past its extension
    const sni = ext(0, vec16(Buffer.concat([Buffer.from([0, 0x01, 0x00]), Buffer.from('short')])));
    r = run([seg(TS, record(22, clientHello({ extra: [sni] })))]);
    expect(r.rec.sni).toBeUndefined();
    expect(r.c.internal_errors).toBe(0);
    // ALPN entry past its list
    const alpn = ext(16, vec16(Buffer.from([10, 0x68, 0x32])));
    r = run([seg(TS, record(22, clientHello({ extra: [alpn] })))]);
    expect(r.rec.alpn).toEqual([]);
    expect(r.rec.issues).toEqual(['client_hello:bad-extension']);
  });

  it('a ServerHello too short to hold version and suite ends the parse', () => {
    const { rec, driven, c } = run([seg(TS, record(22, clientHello())), seg(TC, record(22, handshake(2, Buffer.alloc(20, 3))), appData(10))]);
    expect(driven.detached).toBe(true);
    expect(rec).toMatchObject({ negotiated: false, issues: ['server_hello:short'] });
    expect(c.malformed_messages).toBe(1);
  });

  it('SNI and ALPN bytes cannot inject control characters or unbounded strings', () => {
    const name = Buffer.concat([Buffer.from('evil\n\u0000'), Buffer.from([0xc3, 0xa6, 0x5c]), Buffer.alloc(600, 0x61)]);
    const sni = ext(0, vec16(Buffer.concat([Buffer.from([0]), vec16(name)])));
    const { rec } = run([seg(TS, record(22, clientHello({ extra: [sni], alpn: ['h2\r\n'] })))]);
    // Not a host name nor an ALPN token: reported as a placeholder, never as the bytes.
    expect(rec.sni).toBe('{text}');
    expect(rec.alpn).toEqual(['{text}']);
  });

  it('records that are not TLS: bad type, version or length', () => {
    for (const hdr of [
      [0x17, 3, 3, 0xff, 0xff],
      [0x63, 3, 3, 0, 10],
      [0x16, 2, 0, 0, 10],
      [0x16, 3, 9, 0, 10],
    ]) {
      const { c, driven } = run([seg(TS, record(22, clientHello()), Buffer.from(hdr), Buffer.alloc(10))]);
      expect(c.bad_records, hdr.join(',')).toBe(1);
      expect(driven.detached).toBe(true);
    }
  });
});

describe('certificates', () => {
  function withCert(certMsg: Buffer, recMax = 16384) {
    return [seg(TS, record(22, clientHello())), seg(TC, record(22, serverHello({ suite: 0xc02f })), records(22, certMsg, recMax))];
  }

  it('a chain over the cap keeps the leaf, counts the truncation and never buffers more than the cap', () => {
    const junk = Buffer.alloc(100_000, 0x30);
    const { rec, c, driven } = run(withCert(certificate([CERTS.leaf, junk])), 1000);
    expect(c.messages_truncated).toBe(1);
    expect(driven.maxBuffered).toBeLessThanOrEqual(CAP);
    expect(rec.certificate?.subject).toBe('O=Test Hospital, CN=pacs.test.example');
    expect(rec.certificate?.chain_length).toBe(1); // the junk entry is not whole in what we kept
  });

  it('a leaf that itself exceeds the cap is reported unreadable, not parsed from a fragment', () => {
    const huge = Buffer.alloc(90_000, 0x30);
    const { rec, c, driven } = run(withCert(certificate([huge])), 4096);
    expect(c.messages_truncated).toBe(1);
    expect(c.certificates_unreadable).toBe(1);
    expect(driven.maxBuffered).toBeLessThanOrEqual(CAP);
    expect(rec.certificate).toBeUndefined();
    expect(rec.issues).toEqual(['certificate:truncated']);
  });

  it('a certificate message cut off by the end of the connection', () => {
    const msg = certificate([CERTS.leaf, CERTS.ca]);
    const { rec, c } = run([seg(TS, record(22, clientHello())), seg(TC, record(22, serverHello({ suite: 0xc02f })), record(22, msg).subarray(0, 200))]);
    expect(rec).toMatchObject({ version: 'TLS 1.2', negotiated: true });
    expect(rec.certificate).toBeUndefined();
    expect(c.internal_errors).toBe(0);
  });

  it('DER that is not a certificate, and entries whose lengths lie', () => {
    for (const msg of [
      certificate([Buffer.from('not a certificate at all')]),
      handshake(11, vec24(Buffer.concat([Buffer.from([0xff, 0xff, 0xff]), CERTS.leaf]))),
      handshake(11, Buffer.from([0xff, 0xff, 0xff])),
      handshake(11, Buffer.alloc(0)),
      certificate([]),
      certificate([Buffer.concat([Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(20)])]),
      certificate([CERTS.leaf.subarray(0, CERTS.leaf.length - 1)]),
    ]) {
      const { rec, c } = run(withCert(msg));
      expect(rec.certificate).toBeUndefined();
      expect(c.certificates_unreadable).toBe(1);
      expect(c.internal_errors).toBe(0);
    }
  });

  it('a certificate whose signature is broken but names match still counts as self-signed by name', () => {
    // Flip a byte of the signature: the names still say self-signed; OpenSSL says it does not verify.
    const bad = Buffer.from(CERTS.selfSigned);
    bad[bad.length - 3] ^= 0x55;
    const { rec } = run(withCert(certificate([bad])));
    expect(rec.certificate).toBeDefined();
    expect(rec.certificate!.self_signed).toBe(false);
  });
});

describe('bounded', () => {
  it('a handshake message claiming 16 MiB is never buffered and the connection is given up', () => {
    const head = Buffer.from([12, 0xff, 0xff, 0xff]);
    const segs = [seg(TS, record(22, clientHello())), seg(TC, record(22, serverHello({ suite: 0xc02f })), record(22, head))];
    for (let i = 0; i < 40; i++) segs.push(seg(TC, record(22, Buffer.alloc(16384, i))));
    const { rec, c, driven } = run(segs, 5000);
    expect(driven.maxBuffered).toBe(0);
    expect(driven.detached).toBe(true);
    expect(c.abandoned).toBe(1);
    expect(rec).toMatchObject({ version: 'TLS 1.2' });
  });

  it('endless zero-length and heartbeat records cost counters only', () => {
    const segs = [seg(TS, record(22, clientHello()))];
    for (let i = 0; i < 200; i++) segs.push(seg(TC, record(22, Buffer.alloc(0)), record(24, Buffer.alloc(3000, 1))));
    const { c, driven } = run(segs, 777);
    expect(driven.detached).toBe(true);
    expect(c.abandoned).toBe(1);
    expect(driven.maxBuffered).toBe(0);
  });

  it('random bytes', () => {
    const rand = rng(7);
    for (let i = 0; i < 300; i++) {
      const n = 1 + Math.floor(rand() * 3000);
      const b = Buffer.alloc(n);
      for (let j = 0; j < n; j++) b[j] = Math.floor(rand() * 256);
      // Half of them start like a handshake record, to get past the first check.
      if (i % 2 === 0 && n > 6) b.set([0x16, 3, 1, (n - 5) >> 8, (n - 5) & 0xff, 1], 0);
      const { c, records: rs } = run([seg(i % 3 === 0 ? TC : TS, b)], { random: rand, max: 64 });
      expect(c.internal_errors).toBe(0);
      expect(rs.length).toBeLessThanOrEqual(1);
    }
  });

  it('1000 seeded mutations of whole sessions', () => {
    const sessions = [
      tls12Session({ recMax: 300 }),
      tls13Session(),
      tls12Session({ chain: [CERTS.selfSigned], version: 0x0301, suite: 0x000a }),
      v2CompatSession(),
      v2Session(),
      midstreamSession(0x0301),
    ];
    for (let seed = 1; seed <= 1000; seed++) {
      const rand = rng(seed);
      const base = sessions[seed % sessions.length];
      const mutated = base.map((s) => ({ dir: s.dir, data: Buffer.from(s.data) }));
      const edits = 1 + Math.floor(rand() * 8);
      for (let k = 0; k < edits; k++) {
        const s = mutated[Math.floor(rand() * mutated.length)];
        const at = Math.floor(rand() * s.data.length);
        const what = rand();
        if (what < 0.6) s.data[at] = Math.floor(rand() * 256);
        else if (what < 0.8) s.data[at] = 0xff; // lengths become huge
        else if (what < 0.9) s.data = s.data.subarray(0, at); // truncation
        else s.data = Buffer.concat([s.data.subarray(0, at), Buffer.alloc(1 + Math.floor(rand() * 50), Math.floor(rand() * 256)), s.data.subarray(at)]);
      }
      const records: TlsHandshakeRecord[] = [];
      const parser = new TlsStreamParser({ emit: (r) => records.push(r) });
      let driven;
      expect(() => {
        driven = drive(parser, mutated, { random: rand, max: 200 });
        if (rand() < 0.2) parser.gap(TC, 10);
        parser.end('rst');
      }, `seed ${seed}`).not.toThrow();
      expect(parser.counters.internal_errors, `seed ${seed}`).toBe(0);
      expect(records.length, `seed ${seed}`).toBeLessThanOrEqual(1);
      expect(driven!.maxBuffered, `seed ${seed}`).toBeLessThanOrEqual(2 * CAP);
      for (const r of records) {
        expect(JSON.stringify(r).length, `seed ${seed}`).toBeLessThan(4096);
        expect(r.weak, `seed ${seed}`).toBe(r.weak_reasons.length > 0);
      }
    }
  });

  it('SSL 2.0 records whose lengths lie, and endless v2 records, stay bounded', () => {
    const hello = v2ClientHello(0x0301, [0x000004, 0x010080]);
    const lying = Buffer.from(hello);
    lying.writeUInt16BE(0xfff0, 5); // cipher_spec_length past the record (a multiple of 3)
    const cases: Segment[][] = [
      [seg(TS, lying)],
      [seg(TS, hello), seg(TC, v2ServerHello(Buffer.from('not a certificate'), [0x010080]))],
      [seg(TS, hello), seg(TC, v2ServerHello(CERTS.leaf, [0x010080]).subarray(0, 60))],
      [seg(TS, v2Record(Buffer.from([1]))), seg(TC, v2Record(Buffer.from([4, 0])))],
      [seg(TS, hello, ...Array.from({ length: 40 }, () => v2Record(Buffer.alloc(32000, 0x42))))],
    ];
    for (const segs of cases) {
      const { c, records: rs, driven } = run(segs, 333);
      expect(c.internal_errors).toBe(0);
      expect(rs.length).toBeLessThanOrEqual(1);
      expect(driven.maxBuffered).toBeLessThanOrEqual(CAP);
    }
    const { rec } = run([seg(TS, lying)]);
    expect(rec).toMatchObject({ sslv2_hello: true, issues: ['client_hello:length-past-message'] });
  });

  it('random bytes after a mid-stream start or an SSL 2.0 header', () => {
    const rand = rng(11);
    for (let i = 0; i < 300; i++) {
      const n = 6 + Math.floor(rand() * 3000);
      const b = Buffer.alloc(n);
      for (let j = 0; j < n; j++) b[j] = Math.floor(rand() * 256);
      if (i % 2 === 0) b.set([0x17, 3, 3, (n - 5) >> 8, (n - 5) & 0xff], 0);
      else b.set([0x80 | ((n - 2) >> 8), (n - 2) & 0xff, 1 + (i % 4)], 0);
      const { c, records: rs } = run([seg(i % 3 === 0 ? TC : TS, b), seg(i % 3 === 0 ? TS : TC, b)], { random: rand, max: 64 });
      expect(c.internal_errors).toBe(0);
      expect(rs.length).toBeLessThanOrEqual(1);
    }
  });

  it('after a STARTTLS go-ahead: random and mutated bytes reach the TLS parser, bounded and without errors', () => {
    const clear = [seg(TC, Buffer.from('220 mx ESMTP\r\n')), seg(TS, Buffer.from('STARTTLS\r\n')), seg(TC, Buffer.from('220 go ahead\r\n'))];
    for (let seed = 1; seed <= 300; seed++) {
      const rand = rng(1000 + seed);
      const tail = (seed % 2 === 0 ? tls12Session({ recMax: 500 }) : v2CompatSession()).map((s) => ({ dir: s.dir, data: Buffer.from(s.data) }));
      for (let k = 0; k < 1 + Math.floor(rand() * 6); k++) {
        const s = tail[Math.floor(rand() * tail.length)];
        s.data[Math.floor(rand() * s.data.length)] = Math.floor(rand() * 256);
      }
      let tls: TlsStreamParser | null = null;
      const out: TlsHandshakeRecord[] = [];
      const stream = new StartTlsStream(new MailStreamParser({ protocol: 'smtp', emit: () => {}, pseudonymize: (v) => String(v.length) }), () => (tls = new TlsStreamParser({ emit: (r) => out.push(r) })));
      expect(() => {
        drive(stream, [...clear, ...tail], { random: rand, max: 300 });
        stream.end('fin');
      }, `seed ${seed}`).not.toThrow();
      expect(tls, `seed ${seed}`).not.toBeNull();
      expect(tls!.counters.internal_errors, `seed ${seed}`).toBe(0);
      expect(tls!.bufferedBytes).toBe(0);
      expect(out.length, `seed ${seed}`).toBeLessThanOrEqual(1);
    }
  });

  it('data after detach is refused, and end() twice is harmless', () => {
    const records: TlsHandshakeRecord[] = [];
    const p = new TlsStreamParser({ emit: (r) => records.push(r) });
    const [c, s] = tls13Session();
    p.data(TS, c.data, 0, c.data.length, T_VALID, 0);
    expect(p.data(TC, s.data, 0, s.data.length, T_VALID, 0)).toBe(DETACH);
    expect(p.data(TS, c.data, 0, c.data.length, T_VALID, 0)).toBe(DETACH);
    p.gap(TS, 5);
    p.end('fin');
    p.end('fin');
    expect(records).toHaveLength(1);
    expect(p.bufferedBytes).toBe(0);
  });
});
