/**
 * FTP control and SMTP/POP3/IMAP logins at the protocol level, and the server-first probes
 * that tell them apart.
 */
import { describe, expect, it } from 'vitest';
import { FtpStreamParser } from '../../../protocols/cleartext/ftp.js';
import { MailStreamParser, type MailProtocol } from '../../../protocols/cleartext/mail.js';
import { probeFtp, probeImap, probePop3, probeSmtp } from '../../../protocols/cleartext/probes.js';
import type { CleartextRecord, CredentialRecord, FtpRecord, MailRecord } from '../../../protocols/cleartext/records.js';
import { bannerSoftware } from '../../../protocols/cleartext/text.js';
import { ProbeVerdict } from '../../../protocols/probe.js';
import { Direction, type StreamParser } from '../../../protocols/stream.js';
import { drive, followTcp, rng, type Chunking, type Segment } from '../../support/streams.js';
import { pseudonymize } from './support.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;
const seg = (dir: Direction, s: string): Segment => ({ dir, data: Buffer.from(s, 'utf8') });
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function runWith(make: (emit: (r: CleartextRecord) => void, onEncrypted: () => void) => StreamParser, segments: Segment[], chunking: Chunking = 'segments') {
  const records: CleartextRecord[] = [];
  let encrypted = false;
  const parser = make((r) => records.push(r), () => (encrypted = true));
  const driven = drive(parser, segments, chunking, 5);
  parser.end('fin');
  return {
    records,
    parser,
    driven,
    encrypted,
    creds: records.filter((r): r is CredentialRecord => r.type === 'credential.cleartext'),
    summary: records.filter((r) => r.type !== 'credential.cleartext')[0] as FtpRecord & MailRecord,
  };
}

const ftp = (segments: Segment[], chunking: Chunking = 'segments') =>
  runWith((emit, onEncrypted) => new FtpStreamParser({ emit, pseudonymize, onEncrypted }), segments, chunking);
const mail = (protocol: MailProtocol, segments: Segment[], chunking: Chunking = 'segments') =>
  runWith((emit, onEncrypted) => new MailStreamParser({ protocol, emit, pseudonymize, onEncrypted }), segments, chunking);

const strip = (rs: CleartextRecord[]) => rs.map(({ ts_sec: _s, ts_nsec: _n, ...r }) => r);

describe('FTP', () => {
  const [control] = followTcp('11_ftp_login.pcap', [0]);

  it.each(['segments', 'tiny', 'random', 'whole'] as Chunking[])('11: USER/PASS of vsftpd in %s chunks: one accepted credential, then detach', (chunking) => {
    const r = ftp(control.segments, chunking);
    expect(strip(r.records)).toEqual([
      {
        type: 'credential.cleartext',
        protocol: 'ftp',
        kind: 'password',
        username_pseudonym: pseudonymize('username', 'biomed'),
        secret_fingerprint: pseudonymize('secret', 'Biomed#2024'),
        success: true,
      },
      { type: 'ftp', cleartext_login: true, login: 'success', login_attempts: 1, auth_tls: false },
    ]);
    // The site's banner ("Biomed file service ready") names no product and is not reported.
    expect(JSON.stringify(r.records).toLowerCase()).not.toContain('biomed');
    expect(r.driven.detached).toBe(true);
  });

  it('reports a refused login, a second attempt, and the banner software', () => {
    const r = ftp([
      seg(TC, '220-Welcome\r\n220 (vsFTPd 3.0.3)\r\n'),
      seg(TS, 'USER tech\r\n'),
      seg(TC, '331 Please specify the password.\r\n'),
      seg(TS, 'PASS wrong\r\n'),
      seg(TC, '530 Login incorrect.\r\n'),
      seg(TS, 'USER tech\r\nPASS right\r\n'),
      seg(TC, '331 Password.\r\n230 Login successful.\r\n'),
    ]);
    expect(r.creds.map((c) => [c.secret_fingerprint, c.success])).toEqual([
      [pseudonymize('secret', 'wrong'), false],
      [pseudonymize('secret', 'right'), true],
    ]);
    expect(r.summary).toMatchObject({ server_software: 'vsFTPd 3.0.3', login: 'success', login_attempts: 2 });
  });

  it('notes anonymous logins without a credential', () => {
    const r = ftp([seg(TC, '220 ProFTPD 1.3.8 Server\r\n'), seg(TS, 'USER anonymous\r\nPASS guest@example.org\r\n'), seg(TC, '331 ok\r\n230 ok\r\n')]);
    expect(r.creds).toEqual([]);
    expect(r.summary).toMatchObject({ anonymous: true, cleartext_login: false, login: 'success', server_software: 'ProFTPD 1.3.8' });
    expect(JSON.stringify(r.records)).not.toContain('guest');
  });

  it('AUTH TLS accepted: encrypted from there on, detached before any credential', () => {
    const r = ftp([seg(TC, '220 FTP ready\r\n'), seg(TS, 'AUTH TLS\r\n'), seg(TC, '234 Proceed with negotiation.\r\n'), seg(TS, '\x16\x03\x01\x02\x00USER biomed')]);
    expect(r.encrypted).toBe(true);
    expect(r.driven.detached).toBe(true);
    expect(r.creds).toEqual([]);
    expect(r.summary).toMatchObject({ auth_tls: true });
  });

  it('AUTH TLS refused: cleartext login is still seen', () => {
    const r = ftp([seg(TC, '220 FTP ready\r\n'), seg(TS, 'AUTH TLS\r\n'), seg(TC, '530 Not now\r\n'), seg(TS, 'USER a\r\nPASS b\r\n'), seg(TC, '331 x\r\n230 x\r\n')]);
    expect(r.encrypted).toBe(false);
    expect(r.creds).toHaveLength(1);
  });

  it('garbage and endless lines cost counters, never an exception, and memory stays bounded', () => {
    const rand = rng(4);
    for (let i = 0; i < 100; i++) {
      const segs: Segment[] = [];
      for (let k = 0; k < 6; k++) segs.push({ dir: rand() < 0.5 ? TS : TC, data: Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 3000) }, () => Math.floor(rand() * 256))) });
      const r = ftp(segs, 'random');
      expect((r.parser as FtpStreamParser).bufferedBytes).toBeLessThanOrEqual(4096);
    }
  });
});

describe('SMTP', () => {
  it('AUTH PLAIN with an initial response', () => {
    const r = mail('smtp', [
      seg(TC, '220 mail.example ESMTP Postfix\r\n'),
      seg(TS, 'EHLO infusion-gw.local\r\n'),
      seg(TC, '250-mail.example\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n'),
      seg(TS, `AUTH PLAIN ${b64('\0pump\0S3cret!')}\r\n`),
      seg(TC, '235 2.7.0 Authentication successful\r\n'),
      seg(TS, 'MAIL FROM:<pump@example>\r\n'),
    ]);
    expect(r.creds).toEqual([expect.objectContaining({ protocol: 'smtp', kind: 'sasl-plain', username_pseudonym: pseudonymize('username', 'pump'), secret_fingerprint: pseudonymize('secret', 'S3cret!'), success: true })]);
    expect(r.summary).toMatchObject({ type: 'smtp', server_software: 'Postfix', helo: 'infusion-gw.local', starttls: false, starttls_offered: true, auth_mechanisms: ['PLAIN'], login: 'success' });
  });

  it.each(['segments', 'tiny'] as Chunking[])('AUTH LOGIN over continuations (%s), a refused attempt first', (chunking) => {
    const r = mail(
      'smtp',
      [
        seg(TC, '220 mx ESMTP\r\n'),
        seg(TS, 'EHLO x\r\n'),
        seg(TC, '250 ok\r\n'),
        seg(TS, 'AUTH LOGIN\r\n'),
        seg(TC, '334 VXNlcm5hbWU6\r\n'),
        seg(TS, `${b64('alarm')}\r\n`),
        seg(TC, '334 UGFzc3dvcmQ6\r\n'),
        seg(TS, `${b64('bad')}\r\n`),
        seg(TC, '535 5.7.8 failed\r\n'),
        seg(TS, `AUTH LOGIN ${b64('alarm')}\r\n`),
        seg(TC, '334 UGFzc3dvcmQ6\r\n'),
        seg(TS, `${b64('good')}\r\n`),
        seg(TC, '235 ok\r\n'),
      ],
      chunking,
    );
    expect(r.creds.map((c) => [c.kind, c.username_pseudonym, c.secret_fingerprint, c.success])).toEqual([
      ['sasl-login', pseudonymize('username', 'alarm'), pseudonymize('secret', 'bad'), false],
      ['sasl-login', pseudonymize('username', 'alarm'), pseudonymize('secret', 'good'), true],
    ]);
  });

  it('STARTTLS accepted: detached as encrypted, nothing after it is read', () => {
    const r = mail('smtp', [seg(TC, '220 mx ESMTP\r\n'), seg(TS, 'EHLO x\r\n'), seg(TC, '250-mx\r\n250 STARTTLS\r\n'), seg(TS, 'STARTTLS\r\n'), seg(TC, '220 Ready to start TLS\r\n'), seg(TS, `AUTH PLAIN ${b64('\0u\0p')}\r\n`)]);
    expect(r.encrypted).toBe(true);
    expect(r.creds).toEqual([]);
    expect(r.summary).toMatchObject({ starttls: true });
  });

  it('a cancelled SASL exchange and a refused mechanism leave no credential', () => {
    const r = mail('smtp', [seg(TC, '220 mx ESMTP\r\n'), seg(TS, 'AUTH LOGIN\r\n'), seg(TC, '334 x\r\n'), seg(TS, '*\r\n'), seg(TC, '501 cancelled\r\n'), seg(TS, 'AUTH CRAM-MD5\r\n'), seg(TC, '334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2U+\r\n'), seg(TS, 'dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n'), seg(TC, '235 ok\r\n')]);
    expect(r.creds).toEqual([]);
    expect(r.summary).toMatchObject({ auth_mechanisms: ['LOGIN', 'CRAM-MD5'], login: 'success', cleartext_login: false });
  });
});

describe('POP3', () => {
  it('USER/PASS, then detach at the first mailbox command', () => {
    const r = mail('pop3', [seg(TC, '+OK Dovecot ready.\r\n'), seg(TS, 'CAPA\r\n'), seg(TC, '+OK\r\nSTLS\r\nUSER\r\n.\r\n'), seg(TS, 'USER lab\r\n'), seg(TC, '+OK\r\n'), seg(TS, 'PASS Lab#1\r\n'), seg(TC, '-ERR [AUTH] bad\r\n'), seg(TS, 'USER lab\r\nPASS Lab#2\r\n'), seg(TC, '+OK\r\n+OK Logged in.\r\n'), seg(TS, 'STAT\r\n')], 'tiny');
    expect(r.creds.map((c) => [c.kind, c.username_pseudonym, c.secret_fingerprint, c.success])).toEqual([
      ['password', pseudonymize('username', 'lab'), pseudonymize('secret', 'Lab#1'), false],
      ['password', pseudonymize('username', 'lab'), pseudonymize('secret', 'Lab#2'), true],
    ]);
    expect(r.summary).toMatchObject({ type: 'pop3', server_software: 'Dovecot', starttls_offered: true, auth_mechanisms: ['USER'], login: 'success' });
  });

  it('STLS accepted detaches as encrypted', () => {
    const r = mail('pop3', [seg(TC, '+OK POP3\r\n'), seg(TS, 'STLS\r\n'), seg(TC, '+OK Begin TLS\r\n'), seg(TS, 'USER x\r\nPASS y\r\n')]);
    expect(r.encrypted).toBe(true);
    expect(r.creds).toEqual([]);
  });

  it('AUTH PLAIN over a continuation', () => {
    const r = mail('pop3', [seg(TC, '+OK\r\n'), seg(TS, 'AUTH PLAIN\r\n'), seg(TC, '+ \r\n'), seg(TS, `${b64('authz\0user1\0pw1')}\r\n`), seg(TC, '+OK\r\n')]);
    expect(r.creds).toEqual([expect.objectContaining({ kind: 'sasl-plain', username_pseudonym: pseudonymize('username', 'user1'), success: true })]);
  });
});

describe('IMAP', () => {
  it('LOGIN with atoms and quoted strings', () => {
    const r = mail('imap', [seg(TC, '* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] Dovecot ready.\r\n'), seg(TS, 'a1 LOGIN "ris \\"svc\\"" "p@ss word"\r\n'), seg(TC, 'a1 OK Logged in\r\n'), seg(TS, 'a2 SELECT INBOX\r\n')]);
    expect(r.creds).toEqual([expect.objectContaining({ protocol: 'imap', kind: 'password', username_pseudonym: pseudonymize('username', 'ris "svc"'), secret_fingerprint: pseudonymize('secret', 'p@ss word'), success: true })]);
    expect(r.summary).toMatchObject({ type: 'imap', server_software: 'Dovecot', starttls_offered: true, login: 'success' });
  });

  it.each(['segments', 'tiny'] as Chunking[])('LOGIN with literals (%s)', (chunking) => {
    const r = mail('imap', [seg(TC, '* OK ready\r\n'), seg(TS, 'a1 LOGIN {6}\r\n'), seg(TC, '+ go\r\n'), seg(TS, 'biomed {11}\r\n'), seg(TC, '+ go\r\n'), seg(TS, 'Biomed#2024\r\n'), seg(TC, 'a1 NO bad\r\n')], chunking);
    expect(r.creds).toEqual([expect.objectContaining({ username_pseudonym: pseudonymize('username', 'biomed'), secret_fingerprint: pseudonymize('secret', 'Biomed#2024'), success: false })]);
  });

  it('AUTHENTICATE PLAIN with SASL-IR, and STARTTLS', () => {
    const a = mail('imap', [seg(TC, '* OK\r\n'), seg(TS, `t AUTHENTICATE PLAIN ${b64('\0x\0y')}\r\n`), seg(TC, 't OK\r\n')]);
    expect(a.creds).toEqual([expect.objectContaining({ kind: 'sasl-plain', username_pseudonym: pseudonymize('username', 'x'), success: true })]);
    const s = mail('imap', [seg(TC, '* OK\r\n'), seg(TS, 'a STARTTLS\r\n'), seg(TC, 'a OK Begin TLS\r\n'), seg(TS, 'b LOGIN u p\r\n')]);
    expect(s.encrypted).toBe(true);
    expect(s.creds).toEqual([]);
  });

  it('random bytes never throw, memory stays bounded', () => {
    const rand = rng(8);
    for (const proto of ['smtp', 'pop3', 'imap'] as MailProtocol[]) {
      for (let i = 0; i < 60; i++) {
        const segs: Segment[] = [];
        for (let k = 0; k < 6; k++) {
          const junk = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 2000) }, () => Math.floor(rand() * 256)));
          // Sprinkle literal markers and SASL commands to reach the odd states.
          segs.push({ dir: rand() < 0.5 ? TS : TC, data: rand() < 0.3 ? Buffer.concat([Buffer.from('a LOGIN {99999}\r\nAUTH LOGIN\r\n'), junk]) : junk });
        }
        const r = mail(proto, segs, 'random');
        expect((r.parser as MailStreamParser).bufferedBytes).toBeLessThanOrEqual(2 * 4096 + 1024);
      }
    }
  });
});

describe('server-first probes', () => {
  const p = (f: (toClient: boolean, b: Buffer, o: number, l: number) => ProbeVerdict, toClient: boolean, s: string) => {
    const b = Buffer.from(s, 'latin1');
    return f(toClient, b, 0, b.length);
  };

  it('tells FTP from SMTP by the greeting, or by the client first command when the greeting is neutral', () => {
    expect(p(probeFtp, true, '220 (vsFTPd 3.0.3)\r\n')).toBe(ProbeVerdict.Yes);
    expect(p(probeSmtp, true, '220 (vsFTPd 3.0.3)\r\n')).toBe(ProbeVerdict.No);
    expect(p(probeSmtp, true, '220 mx.example ESMTP Exim 4.96\r\n')).toBe(ProbeVerdict.Yes);
    expect(p(probeFtp, true, '220 mx.example ESMTP Exim 4.96\r\n')).toBe(ProbeVerdict.No);
    // The corpus banner names neither.
    expect(p(probeFtp, true, '220 Biomed file service ready\r\n')).toBe(ProbeVerdict.NeedMore);
    expect(p(probeSmtp, true, '220 Biomed file service ready\r\n')).toBe(ProbeVerdict.NeedMore);
    expect(p(probeFtp, false, 'USER biomed\r\n')).toBe(ProbeVerdict.Yes);
    expect(p(probeSmtp, false, 'USER biomed\r\n')).toBe(ProbeVerdict.No);
    expect(p(probeSmtp, false, 'EHLO host\r\n')).toBe(ProbeVerdict.Yes);
    expect(p(probeFtp, false, 'EHLO host\r\n')).toBe(ProbeVerdict.No);
    expect(p(probeFtp, false, 'US')).toBe(ProbeVerdict.NeedMore);
    expect(p(probeFtp, true, '22')).toBe(ProbeVerdict.NeedMore);
    expect(p(probeFtp, true, 'HTTP/1.1 200 OK\r\n')).toBe(ProbeVerdict.No);
    expect(p(probeFtp, false, 'GET / HTTP/1.1\r\n')).toBe(ProbeVerdict.No);
  });

  it('POP3 and IMAP greetings', () => {
    expect(p(probePop3, true, '+OK Dovecot ready.\r\n')).toBe(ProbeVerdict.Yes);
    expect(p(probePop3, true, '+O')).toBe(ProbeVerdict.NeedMore);
    expect(p(probePop3, true, '* OK x')).toBe(ProbeVerdict.No);
    expect(p(probePop3, false, '+OK ')).toBe(ProbeVerdict.No);
    expect(p(probeImap, true, '* OK [CAPABILITY IMAP4rev1] ready\r\n')).toBe(ProbeVerdict.Yes);
    expect(p(probeImap, true, '* PREAUTH hi\r\n')).toBe(ProbeVerdict.Yes);
    expect(p(probeImap, true, '+OK x')).toBe(ProbeVerdict.No);
  });

  it('banner software: products and Name/version tokens only, never free text', () => {
    expect(bannerSoftware('(vsFTPd 3.0.3)')).toBe('vsFTPd 3.0.3');
    expect(bannerSoftware('Microsoft FTP Service')).toBe('Microsoft FTP Service');
    expect(bannerSoftware('mail.example ESMTP Postfix (Debian/GNU)')).toBe('Postfix');
    expect(bannerSoftware('Biomed file service ready')).toBeUndefined();
    expect(bannerSoftware('Welcome to Ward 7 of St. Olav, ask Kari')).toBeUndefined();
    expect(bannerSoftware('DeviceFTP/2.1 ready')).toBe('DeviceFTP/2.1');
  });
});
