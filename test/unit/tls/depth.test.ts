/**
 * TLS at depth: SSL 2.0 and SSLv2-compatible hellos, connections picked up mid-stream, messages
 * and names over their caps reported as cut, facts kept when a later record is bad, and the
 * hand-over from a cleartext protocol's STARTTLS to the TLS parser — at the parser, and through
 * the pipeline and the rules for the verdicts that matter.
 */
import { describe, expect, it } from 'vitest';
import { ALL_RULES, RuleEngine, type EngineFinding, type RuleEvent } from '../../../rules/index.js';
import { cutName, MAX_NAME, NAME_CUT } from '../../../protocols/tls/certificate.js';
import { MailStreamParser } from '../../../protocols/cleartext/mail.js';
import { FtpStreamParser } from '../../../protocols/cleartext/ftp.js';
import { LdapStreamParser, probeLdapStartTls } from '../../../protocols/cleartext/ldap.js';
import { rng } from './build.js';
import { ProbeVerdict } from '../../../protocols/probe.js';
import { TlsStreamParser } from '../../../protocols/tls/parser.js';
import { probeTls } from '../../../protocols/tls/probe.js';
import type { TlsHandshakeRecord } from '../../../protocols/tls/records.js';
import { StartTlsStream } from '../../../protocols/tls/starttls.js';
import { eth, ipv4, tcp } from '../../support/packet-builder.js';
import { runFrames, type TestFrame } from '../../support/frames.js';
import { examplePolicy } from '../../support/rules.js';
import { connectionConfirm, connectionRequest } from '../remote/build.js';
import {
  appData,
  CERTS,
  certificate,
  clientHello,
  drive,
  midstreamSession,
  record,
  records,
  seg,
  serverHello,
  T_VALID,
  TC,
  tls12Session,
  TS,
  v2ClientHello,
  v2ClientMasterKey,
  v2CompatSession,
  v2Record,
  v2ServerHello,
  v2Session,
  type Chunking,
  type Segment,
} from './build.js';

function run(segments: Segment[], chunking: Chunking = 'segments', maxMessageLength?: number) {
  const out: TlsHandshakeRecord[] = [];
  const parser = new TlsStreamParser({ emit: (r) => out.push(r), maxMessageLength });
  const driven = drive(parser, segments, chunking);
  parser.end('fin');
  expect(parser.counters.internal_errors).toBe(0);
  expect(out.length).toBeLessThanOrEqual(1);
  return { rec: out[0], records: out, parser, driven, c: parser.counters };
}

const C = '10.1.1.10';
const S = '10.1.1.20';

/** Segments as one TCP connection's frames (with or without its SYN handshake), every direction's sequence tracked. */
function connection(segments: Segment[], port: number, opts: { syn?: boolean } = {}): TestFrame[] {
  const frames: TestFrame[] = [];
  let t = T_VALID;
  const seq = [1000, 9000];
  const frame = (dir: number, flags: string, payload?: Buffer) => {
    const [src, dst, sp, dp] = dir === TS ? [C, S, 40001, port] : [S, C, port, 40001];
    frames.push({ data: eth(ipv4(src, dst, 6, tcp({ sport: sp, dport: dp, seq: seq[dir], ack: seq[1 - dir], flags, payload })), 0x0800), t: (t += 0.001) });
    seq[dir] += payload?.length ?? 0;
  };
  if (opts.syn !== false) {
    frame(TS, 'S');
    seq[TS]++;
    frame(TC, 'SA');
    seq[TC]++;
    frame(TS, 'A');
  }
  for (const s of segments) {
    for (let i = 0; i < s.data.length; i += 1400) frame(s.dir, 'PA', s.data.subarray(i, i + 1400));
  }
  frame(TS, 'FA');
  frame(TC, 'FA');
  return frames;
}

function judge(events: RuleEvent[]): EngineFinding[] {
  const out: EngineFinding[] = [];
  const engine = new RuleEngine(examplePolicy(), ALL_RULES, (f) => out.push(f));
  for (const e of events) engine.evaluate(e);
  return out;
}

describe('SSL 2.0', () => {
  it('an SSLv2-format ClientHello answered by a TLS 1.0 ServerHello with RC4-MD5 is a weak TLS 1.0 handshake', () => {
    for (const chunking of ['segments', 'bytes', 7] as Chunking[]) {
      const { rec } = run(v2CompatSession(), chunking);
      expect(rec, String(chunking)).toMatchObject({
        version: 'TLS 1.0',
        client_versions: ['TLS 1.0'],
        offered_suites: 4,
        cipher_suite: 'TLS_RSA_WITH_RC4_128_MD5',
        cipher_suite_id: '0x0004',
        sslv2_hello: true,
        negotiated: true,
        weak: true,
        weak_reasons: ['deprecated-version', 'rc4-cipher'],
      });
      expect(rec.certificate?.subject).toBe('O=Test Hospital, CN=pacs.test.example');
      expect(rec.issues).toBeUndefined();
    }
  });

  it('pure SSL 2.0: the certificate from SERVER-HELLO, the cipher from CLIENT-MASTER-KEY', () => {
    for (const chunking of ['segments', 'bytes', 5] as Chunking[]) {
      const { rec } = run(v2Session(), chunking);
      expect(rec, String(chunking)).toMatchObject({
        version: 'SSL 2.0',
        client_versions: ['SSL 2.0'],
        offered_suites: 3,
        cipher_suite: 'SSL2_DES_192_EDE3_CBC_WITH_MD5',
        cipher_suite_id: '0x0700c0',
        weak: true,
        weak_reasons: ['deprecated-version', '3des-cipher'],
      });
      expect(rec.certificate?.subject).toBe('O=Test Hospital, CN=pacs.test.example');
    }
    expect(run(v2Session(0x010080)).rec.weak_reasons).toEqual(['deprecated-version', 'rc4-cipher']);
  });

  it('a resumed SSL 2.0 session (session-id hit) is reported without a cipher; a server that never answers, with the client side', () => {
    const hit = run([seg(TS, v2ClientHello(0x0002, [0x010080])), seg(TC, v2ServerHello(Buffer.alloc(0), [], 1))]);
    expect(hit.rec).toMatchObject({ version: 'SSL 2.0', negotiated: true, weak_reasons: ['deprecated-version'] });
    expect(hit.rec.cipher_suite).toBeUndefined();
    const alone = run([seg(TS, v2ClientHello(0x0301, [0x000004]))]);
    expect(alone.rec).toMatchObject({ client_versions: ['TLS 1.0'], negotiated: false, sslv2_hello: true, weak: false });
  });

  it('the probe knows SSL 2.0 hellos by lengths that agree, and nothing else with the high bit set', () => {
    const ch = v2ClientHello(0x0301, [0x000004, 0x010080]);
    expect(probeTls(ch, 0, ch.length)).toBe(ProbeVerdict.Yes);
    for (let n = 1; n < 11; n++) expect(probeTls(ch, 0, n)).toBe(ProbeVerdict.NeedMore);
    const sh = v2ServerHello(CERTS.leaf, [0x010080]);
    expect(probeTls(sh, 0, sh.length)).toBe(ProbeVerdict.Yes);
    const lying = Buffer.from(ch);
    lying[1] ^= 4; // record length no longer the sum of its parts
    expect(probeTls(lying, 0, lying.length)).toBe(ProbeVerdict.No);
    expect(probeTls(v2ClientHello(0x0304, [0x000004]), 0, 40)).toBe(ProbeVerdict.No);
    expect(probeTls(v2ClientHello(0x0301, [0x000004], 8), 0, 40)).toBe(ProbeVerdict.No); // challenge under 16
    expect(probeTls(v2Record(Buffer.from([7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), 0, 13)).toBe(ProbeVerdict.No);
    expect(probeTls(v2ClientMasterKey(0x010080), 0, 20)).toBe(ProbeVerdict.No);
  });

  it('through the pipeline and the rules: an SSLv2-format hello with RC4-MD5 raises tls-weak-version', () => {
    const { events, flows } = runFrames(connection(v2CompatSession(), 8443));
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({ app: 'tls', encrypted: true });
    const hs = events.filter((e) => e.type === 'tls.handshake');
    expect(hs).toHaveLength(1);
    expect(hs[0]).toMatchObject({ version: 'TLS 1.0', cipher_suite: 'TLS_RSA_WITH_RC4_128_MD5', sslv2_hello: true });
    const weak = judge(events as RuleEvent[]).filter((f) => f.rule.id === 'tls-weak-version');
    expect(weak).toHaveLength(1);
    expect(weak[0].evidence).toMatchObject({ version: 'TLS 1.0', reasons: ['deprecated-version', 'rc4-cipher'] });
    const v2 = runFrames(connection(v2Session(), 8443));
    const v2weak = judge(v2.events as RuleEvent[]).filter((f) => f.rule.id === 'tls-weak-version');
    expect(v2weak.map((f) => f.evidence.version)).toEqual(['SSL 2.0']);
  });
});

describe('mid-stream', () => {
  it('application data first: a partial event, encrypted, with what the records say', () => {
    for (const chunking of ['segments', 'bytes'] as Chunking[]) {
      const { rec, c, driven } = run(midstreamSession(), chunking);
      expect(rec).toMatchObject({ midstream: true, record_version: 'TLS 1.2', negotiated: false, weak: false, weak_reasons: [], client_versions: [], alpn: [], encrypted: true });
      expect(rec.version).toBeUndefined(); // 1.2 or 1.3: records cannot tell
      expect(rec.alert).toBeUndefined(); // the encrypted alert is not read as one
      expect(driven.detached).toBe(true); // both directions are ciphertext: nothing more to learn
      expect(c.bad_records).toBe(0);
      expect(driven.maxBuffered).toBe(0);
    }
  });

  it('records below TLS 1.2 name the negotiated version, and it is weak', () => {
    for (const [v, name] of [
      [0x0300, 'SSL 3.0'],
      [0x0301, 'TLS 1.0'],
      [0x0302, 'TLS 1.1'],
    ] as const) {
      expect(run(midstreamSession(v)).rec).toMatchObject({ midstream: true, version: name, record_version: name, weak: true, weak_reasons: ['deprecated-version'] });
    }
  });

  it('a hello that arrives but does not parse is not mid-stream, and alone says nothing', () => {
    const { records: rs } = run([seg(TS, record(22, Buffer.from([1, 0, 0, 2, 3, 1])))]);
    expect(rs).toHaveLength(0);
  });

  it('through the pipeline: a connection without SYN whose first bytes are records is tls and encrypted, and the weak-version rule reads it', () => {
    const { events, flows } = runFrames(connection(midstreamSession(0x0301), 993, { syn: false }));
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({ app: 'tls', encrypted: true, midstream: true });
    const hs = events.filter((e) => e.type === 'tls.handshake');
    expect(hs).toHaveLength(1);
    expect(hs[0]).toMatchObject({ midstream: true, version: 'TLS 1.0' });
    expect(judge(events as RuleEvent[]).filter((f) => f.rule.id === 'tls-weak-version')).toHaveLength(1);
  });
});

describe('caps and what is kept', () => {
  it('a certificate chain over 16 KiB split over records and chunks is read whole', () => {
    const big = Buffer.alloc(20_000, 0x30);
    for (const chunking of ['segments', 999] as Chunking[]) {
      const { rec, c } = run(tls12Session({ chain: [CERTS.leaf, big, CERTS.ca], recMax: 16384 }), chunking);
      expect(c.messages_truncated).toBe(0);
      expect(rec.certificate?.subject).toBe('O=Test Hospital, CN=pacs.test.example');
      expect(rec.certificate?.chain_length).toBe(3);
      expect(rec.truncated).toBeUndefined();
      expect(rec.certificate_truncated).toBeUndefined();
    }
  });

  it('a chain over the buffering cap says so: truncated and certificate_truncated, the leaf still read', () => {
    const big = Buffer.alloc(20_000, 0x30);
    const { rec, c } = run(tls12Session({ chain: [CERTS.leaf, big, CERTS.ca], recMax: 4000 }), 1000, 16 * 1024);
    expect(c.messages_truncated).toBe(1);
    expect(rec).toMatchObject({ truncated: true, certificate_truncated: true, version: 'TLS 1.2' });
    expect(rec.certificate?.subject).toBe('O=Test Hospital, CN=pacs.test.example');
    expect(rec.certificate?.chain_length).toBe(1);
  });

  it('a valid ClientHello and ServerHello followed by a malformed record keep every field', () => {
    const segs = [
      seg(TS, record(22, clientHello({ sni: 'ris.test.example', alpn: ['h2'] }))),
      seg(TC, record(22, serverHello({ suite: 0xc02f, alpn: 'h2' })), Buffer.from('\x99\x99 not a record at all')),
    ];
    const { rec, c } = run(segs);
    expect(c.bad_records).toBe(1);
    expect(rec).toMatchObject({ sni: 'ris.test.example', alpn: ['h2'], alpn_selected: 'h2', version: 'TLS 1.2', cipher_suite_id: '0xc02f', negotiated: true, issues: ['bad-record'] });
  });

  it('names over the limit are cut after a whole attribute and marked; shorter ones are whole', () => {
    const attrs = Array.from({ length: 60 }, (_, i) => `OU=${String(i).padStart(2, '0')}${'y'.repeat(50)}`);
    const long = ['O=Test Hospital', ...attrs, 'CN=last.example'].join(', ');
    const cut = cutName(long);
    expect(cut.length).toBeLessThanOrEqual(MAX_NAME);
    expect(cut.endsWith(NAME_CUT)).toBe(true);
    expect(long.startsWith(cut.slice(0, -NAME_CUT.length) + ', ')).toBe(true); // a prefix of whole attributes
    expect(cutName('O=Short, CN=x')).toBe('O=Short, CN=x');
    const endless = 'CN=' + 'z'.repeat(5000);
    expect(cutName(endless)).toHaveLength(MAX_NAME);
    expect(cutName(endless).endsWith(NAME_CUT)).toBe(true);
  });
});

describe('STARTTLS hand-over', () => {
  const smtpClear = (goAhead: string, after: Buffer = Buffer.alloc(0)): Segment[] => [
    seg(TC, Buffer.from('220 mx.test.example ESMTP Postfix\r\n')),
    seg(TS, Buffer.from('EHLO ws1\r\n')),
    seg(TC, Buffer.from('250-mx.test.example\r\n250 STARTTLS\r\n')),
    seg(TS, Buffer.from('STARTTLS\r\n')),
    seg(TC, Buffer.from(goAhead), after),
  ];

  function upgraded(segments: Segment[], make: (onEnc: () => void) => MailStreamParser | FtpStreamParser, chunking: Chunking = 'segments') {
    const tls: TlsHandshakeRecord[] = [];
    let encrypted = false;
    const s = new StartTlsStream(
      make(() => (encrypted = true)),
      () => new TlsStreamParser({ emit: (r) => tls.push(r) }),
    );
    const d = drive(s, segments, chunking);
    s.end('fin');
    return { tls, encrypted, detached: d.detached, stream: s };
  }
  const mail = (onEncrypted: () => void) => new MailStreamParser({ protocol: 'smtp', emit: () => {}, pseudonymize: (v) => `p:${v.length}`, onEncrypted });

  it('after 220 the rest of both directions is TLS: a TLS 1.2 handshake is reported', () => {
    const [ch, flight, ...rest] = tls12Session();
    for (const chunking of ['segments', 'bytes', 3] as Chunking[]) {
      const r = upgraded([...smtpClear('220 2.0.0 Ready to start TLS\r\n'), ch, flight, ...rest], mail, chunking);
      expect(r.encrypted).toBe(true);
      expect(r.tls, String(chunking)).toHaveLength(1);
      expect(r.tls[0]).toMatchObject({ version: 'TLS 1.2', sni: 'pacs.test.example', negotiated: true });
      expect(r.detached).toBe(true);
    }
  });

  it('TLS bytes in the same chunk as the go-ahead start exactly after it', () => {
    const sh = record(22, serverHello({ suite: 0x1301, selected: 0x0304 }));
    const r = upgraded([...smtpClear('220 go ahead\r\n', sh)], mail);
    expect(r.tls).toHaveLength(1);
    expect(r.tls[0]).toMatchObject({ version: 'TLS 1.3', cipher_suite_id: '0x1301' });
  });

  it('a refused STARTTLS stays cleartext; a login ends the parse without TLS', () => {
    const refused = upgraded([...smtpClear('454 4.7.0 TLS not available\r\n'), seg(TS, Buffer.from('MAIL FROM:<a@b>\r\n'))], mail);
    expect(refused.encrypted).toBe(false);
    expect(refused.tls).toHaveLength(0);
    expect(refused.stream.upgraded).toBeNull();
  });

  it('FTP AUTH TLS 234 then an explicit-FTPS handshake', () => {
    const [ch, flight] = tls12Session({ version: 0x0301, suite: 0x000a });
    const segs = [seg(TC, Buffer.from('220 (vsFTPd 3.0.3)\r\n')), seg(TS, Buffer.from('AUTH TLS\r\n')), seg(TC, Buffer.from('234 Proceed with negotiation.\r\n')), ch, flight];
    const r = upgraded(segs, (onEncrypted) => new FtpStreamParser({ emit: () => {}, pseudonymize: (v) => `p:${v.length}`, onEncrypted }));
    expect(r.encrypted).toBe(true);
    expect(r.tls[0]).toMatchObject({ version: 'TLS 1.0', cipher_suite: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', weak_reasons: ['deprecated-version', '3des-cipher'] });
  });

  it('through the pipeline: an SMTP flow stays smtp, becomes encrypted, and its tls.handshake says smtp', () => {
    const [ch, flight, ...rest] = tls12Session({ version: 0x0301, suite: 0x0005 });
    const { events, flows } = runFrames(connection([...smtpClear('220 2.0.0 Ready to start TLS\r\n'), ch, flight, ...rest], 25));
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({ app: 'smtp', encrypted: true });
    const hs = events.filter((e) => e.type === 'tls.handshake');
    expect(hs).toHaveLength(1);
    expect(hs[0].flow?.app).toBe('smtp');
    expect(hs[0]).toMatchObject({ cipher_suite: 'TLS_RSA_WITH_RC4_128_SHA' });
    const weak = judge(events as RuleEvent[]).filter((f) => f.rule.id === 'tls-weak-version');
    expect(weak[0]?.evidence).toMatchObject({ reasons: ['deprecated-version', 'rc4-cipher'] });
  });

  it("RDP: after an X.224 Connection Confirm selecting TLS or NLA, the TLS handshake is read and the flow stays rdp", () => {
    for (const selected of [1, 2]) {
      const [ch, flight, ...rest] = tls12Session({ version: 0x0301, suite: 0x000a, sni: undefined });
      const segs = [seg(TS, connectionRequest({ user: 'tech', requested: 3 })), seg(TC, connectionConfirm({ selected })), ch, flight, ...rest];
      const { events, flows } = runFrames(connection(segs, 3389));
      expect(flows).toHaveLength(1);
      expect(flows[0]).toMatchObject({ app: 'rdp', encrypted: true });
      const hs = events.filter((e) => e.type === 'tls.handshake');
      expect(hs, String(selected)).toHaveLength(1);
      expect(hs[0].flow?.app).toBe('rdp');
      expect(hs[0]).toMatchObject({ version: 'TLS 1.0', cipher_suite: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', client_versions: ['TLS 1.0'] });
      expect(events.filter((e) => e.type === 'remote_access')).toHaveLength(1);
    }
    // Standard RDP security: nothing after the confirm is TLS, and no handshake is invented.
    const legacy = runFrames(connection([seg(TS, connectionRequest({ requested: 0 })), seg(TC, connectionConfirm({ selected: 0 })), seg(TS, Buffer.alloc(300, 0x30))], 3389));
    expect(legacy.events.filter((e) => e.type === 'tls.handshake')).toHaveLength(0);
  });

  const ldapStartTls = (id: number) => Buffer.concat([Buffer.from([0x30, 0x1d, 0x02, 0x01, id, 0x77, 0x18, 0x80, 0x16]), Buffer.from('1.3.6.1.4.1.1466.20037')]);
  const ldapResponse = (id: number, code: number) => Buffer.from([0x30, 0x0c, 0x02, 0x01, id, 0x78, 0x07, 0x0a, 0x01, code, 0x04, 0x00, 0x04, 0x00]);

  it('LDAP: the probe takes only a StartTLS ExtendedRequest; success hands over, a refusal does not', () => {
    const req = ldapStartTls(1);
    expect(probeLdapStartTls(req, 0, req.length)).toBe(ProbeVerdict.Yes);
    for (let n = 1; n < req.length; n++) expect(probeLdapStartTls(req, 0, n), String(n)).not.toBe(ProbeVerdict.No);
    const bind = Buffer.from('300c020101600702010304008000', 'hex');
    expect(probeLdapStartTls(bind, 0, bind.length)).toBe(ProbeVerdict.No); // plain LDAP stays with the PHI scanner
    const other = Buffer.from(req);
    other[other.length - 1] = 0x38; // another OID
    expect(probeLdapStartTls(other, 0, other.length)).toBe(ProbeVerdict.No);

    const [ch, flight, ...rest] = tls12Session();
    for (const chunking of ['segments', 'bytes'] as Chunking[]) {
      let encrypted = false;
      const out: TlsHandshakeRecord[] = [];
      const s = new StartTlsStream(new LdapStreamParser({ onEncrypted: () => (encrypted = true) }), () => new TlsStreamParser({ emit: (r) => out.push(r) }));
      drive(s, [seg(TS, req), seg(TC, ldapResponse(1, 0)), ch, flight, ...rest], chunking);
      s.end('fin');
      expect(encrypted).toBe(true);
      expect(out, String(chunking)).toHaveLength(1);
      expect(out[0]).toMatchObject({ version: 'TLS 1.2', sni: 'pacs.test.example' });
    }
    let encrypted = false;
    const refused = new StartTlsStream(new LdapStreamParser({ onEncrypted: () => (encrypted = true) }), () => new TlsStreamParser({ emit: () => {} }));
    const d = drive(refused, [seg(TS, req), seg(TC, ldapResponse(1, 2)), ch]);
    expect(encrypted).toBe(false);
    expect(refused.upgraded).toBeNull();
    expect(d.detached).toBe(true);
  });

  it('LDAP: random bytes after a StartTLS request cost nothing and never throw', () => {
    const rand = rng(5);
    for (let i = 0; i < 300; i++) {
      const n = 1 + Math.floor(rand() * 400);
      const b = Buffer.alloc(n);
      for (let j = 0; j < n; j++) b[j] = Math.floor(rand() * 256);
      if (i % 2 === 0) b.set(ldapResponse(1, 0).subarray(0, Math.min(n, 6)), 0);
      const s = new StartTlsStream(new LdapStreamParser(), () => new TlsStreamParser({ emit: () => {} }));
      expect(() => {
        drive(s, [seg(TS, ldapStartTls(1)), seg(TC, b), seg(TS, b)], { random: rand, max: 50 });
        s.end('rst');
      }).not.toThrow();
    }
  });

  it('non-TLS bytes after the go-ahead cost nothing and report nothing', () => {
    const r = upgraded([...smtpClear('220 go\r\n'), seg(TS, Buffer.from('EHLO again, not TLS\r\n'))], mail);
    expect(r.tls).toHaveLength(0);
    expect(r.detached).toBe(true);
  });
});
