/**
 * Seeds for the parsers the corpus captures never reach (SMB, mail, LDAP, RDP, TeamViewer, TCP
 * syslog, SNMP, DNS, DHCP, RDP and TeamViewer over UDP, AnyDesk's discovery) and more for TLS: one or two whole exchanges each, built with the
 * message builders the unit tests check against tshark, and planted patient values and
 * passwords from the corpus manifest where a protocol carries text, so the privacy property is
 * tested from the first input. Without them, mutation starts from a few bytes of generic text
 * and never gets past a probe.
 */
import { Direction } from '../../protocols/stream.js';
import { anyDeskDiscovery, connectionConfirm, connectionRequest, PROTOCOL_HYBRID, PROTOCOL_SSL, rdpUdpSyn, teamViewerUdpDatagram } from '../unit/remote/build.js';
import { tls12Session, tls13Session } from '../unit/tls/build.js';
import { ScriptWriter } from './script.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;
type Exchange = [Direction, Buffer | string][];

/** Planted values from the corpus manifest (test/fuzz/targets.ts plantedValues). */
const FNR = '14078521210';
const NAME = 'NORDMANN^KARI';
const PASSWORD = 'Infus10n!';

function script(ex: Exchange): Buffer {
  const w = new ScriptWriter(64 * 1024);
  for (const [dir, data] of ex) {
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    w.data(dir, b, 0, b.length);
  }
  return w.toBuffer();
}

const b64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');

// --- BER (SNMP, LDAP) ---
function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
function int(v: number): Buffer {
  const bytes: number[] = [];
  let x = v;
  do {
    bytes.unshift(x & 0xff);
    x >>= 8;
  } while (x > 0);
  if (bytes[0] & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}
const octet = (s: string | Buffer, tag = 0x04) => tlv(tag, typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const out = [arcs[0] * 40 + arcs[1]];
  for (const a of arcs.slice(2)) {
    const b: number[] = [a & 0x7f];
    for (let x = Math.floor(a / 128); x > 0; x = Math.floor(x / 128)) b.unshift((x & 0x7f) | 0x80);
    out.push(...b);
  }
  return tlv(0x06, Buffer.from(out));
}

function snmp(): Buffer[] {
  const NULL = Buffer.from([0x05, 0x00]);
  const pdu = (tag: number, id: number, vbs: [string, Buffer][]) => tlv(tag, Buffer.concat([int(id), int(0), int(0), seq(...vbs.map(([o, v]) => seq(oid(o), v)))]));
  const v2c = (community: string, p: Buffer) => seq(int(1), octet(community), p);
  const get = v2c('public', pdu(0xa0, 4711, [['1.3.6.1.2.1.1.1.0', NULL], ['1.3.6.1.2.1.1.5.0', NULL]]));
  const resp = v2c('public', pdu(0xa2, 4711, [['1.3.6.1.2.1.1.1.0', octet('Infusion pump gateway 4.2')], ['1.3.6.1.2.1.1.5.0', octet(`bed-12 ${NAME} ${FNR}`)]]));
  const set = v2c(PASSWORD, pdu(0xa3, 12, [['1.3.6.1.2.1.1.6.0', octet('Storgata 1')]]));
  const usm = seq(octet(Buffer.from('800000090300aabbccddeeff', 'hex')), int(5), int(1234), octet('radtech01'), octet(''), octet(''));
  const v3 = seq(int(3), seq(int(7), int(65507), octet(Buffer.from([0x04])), int(3)), octet(usm), seq(octet(''), octet(''), pdu(0xa0, 9, [['1.3.6.1.2.1.1.1.0', NULL]])));
  const trap = seq(int(0), octet('public'), tlv(0xa4, Buffer.concat([oid('1.3.6.1.4.1.9999'), tlv(0x40, Buffer.from([10, 77, 10, 5])), int(6), int(1), tlv(0x43, Buffer.from([1, 0])), seq()])));
  return [script([[TS, get], [TC, resp]]), script([[TS, set], [TS, v3], [TS, trap]])];
}

function ldap(): Buffer[] {
  const msg = (id: number, op: Buffer) => seq(int(id), op);
  const bind = msg(1, tlv(0x60, Buffer.concat([int(3), octet(`cn=${NAME},ou=users,dc=sykehus,dc=no`), octet(PASSWORD, 0x80)])));
  const bindOk = msg(1, tlv(0x61, Buffer.concat([tlv(0x0a, Buffer.from([0])), octet(''), octet('')])));
  const search = msg(2, tlv(0x63, Buffer.concat([octet('dc=sykehus,dc=no'), tlv(0x0a, Buffer.from([2])), tlv(0x0a, Buffer.from([0])), int(0), int(0), tlv(0x01, Buffer.from([0])), octet('objectClass', 0x87), seq()])));
  const startTls = msg(1, tlv(0x77, octet('1.3.6.1.4.1.1466.20037', 0x80)));
  const startTlsOk = msg(1, tlv(0x78, Buffer.concat([tlv(0x0a, Buffer.from([0])), octet(''), octet('')])));
  return [script([[TS, bind], [TC, bindOk], [TS, search]]), script([[TS, startTls], [TC, startTlsOk], ...tls12Session().map((s) => [s.dir, s.data] as [Direction, Buffer])])];
}

// --- SMB (as in test/unit/cleartext/smb.test.ts) ---
function nbss(msg: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(msg.length, 0);
  return Buffer.concat([h, msg]);
}
function smb2Header(cmd: number, response: boolean, messageId: number): Buffer {
  const h = Buffer.alloc(64);
  h.write('\xfeSMB', 0, 'latin1');
  h.writeUInt16LE(64, 4);
  h.writeUInt16LE(cmd, 12);
  h.writeUInt16LE(1, 14);
  h.writeUInt32LE(response ? 1 : 0, 16);
  h.writeBigUInt64LE(BigInt(messageId), 24);
  return h;
}
function ntlmAuthenticate(user: string, domain: string): Buffer {
  const parts = [Buffer.alloc(24), Buffer.alloc(48, 0x5a), Buffer.from(domain, 'utf16le'), Buffer.from(user, 'utf16le'), Buffer.from('WS01', 'utf16le')];
  const head = Buffer.alloc(88);
  head.write('NTLMSSP\0', 0, 'latin1');
  head.writeUInt32LE(3, 8);
  let off = 88;
  [12, 20, 28, 36, 44].forEach((at, i) => {
    head.writeUInt16LE(parts[i].length, at);
    head.writeUInt16LE(parts[i].length, at + 2);
    head.writeUInt32LE(off, at + 4);
    off += parts[i].length;
  });
  head.writeUInt32LE(0xe2888215, 60);
  return Buffer.concat([head, ...parts]);
}
function smb(): Buffer[] {
  const dialects = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311];
  const negReq = Buffer.alloc(36 + 2 * dialects.length);
  negReq.writeUInt16LE(36, 0);
  negReq.writeUInt16LE(dialects.length, 2);
  negReq.writeUInt16LE(1, 4);
  dialects.forEach((d, i) => negReq.writeUInt16LE(d, 36 + 2 * i));
  const negResp = Buffer.alloc(64);
  negResp.writeUInt16LE(65, 0);
  negResp.writeUInt16LE(1, 2);
  negResp.writeUInt16LE(0x0210, 4);
  negResp.writeUInt16LE(128, 56);
  const blob = ntlmAuthenticate('radtech01', 'SYKEHUS');
  const setup = Buffer.alloc(24);
  setup.writeUInt16LE(25, 0);
  setup.writeUInt16LE(64 + 24, 12);
  setup.writeUInt16LE(blob.length, 14);
  const smb1 = (cmd: number, response: boolean) => {
    const h = Buffer.alloc(32);
    h.write('\xffSMB', 0, 'latin1');
    h[4] = cmd;
    h[9] = response ? 0x98 : 0x18;
    h.writeUInt16LE(0xc853, 10);
    return h;
  };
  const names = Buffer.concat(['NT LM 0.12', 'SMB 2.002', 'SMB 2.???'].map((d) => Buffer.concat([Buffer.from([0x02]), Buffer.from(d + '\0', 'latin1')])));
  const bc = Buffer.alloc(2);
  bc.writeUInt16LE(names.length, 0);
  const words = Buffer.alloc(1 + 34 + 2);
  words[0] = 17;
  words[3] = 0x03;
  return [
    script([
      [TS, nbss(Buffer.concat([smb2Header(0, false, 0), negReq]))],
      [TC, nbss(Buffer.concat([smb2Header(0, true, 0), negResp]))],
      [TS, nbss(Buffer.concat([smb2Header(1, false, 1), setup, blob]))],
      [TS, nbss(Buffer.concat([smb2Header(9, false, 2), Buffer.alloc(600, 0x41)]))],
    ]),
    script([
      [TS, nbss(Buffer.concat([smb1(0x72, false), Buffer.from([0]), bc, names]))],
      [TC, nbss(Buffer.concat([smb1(0x72, true), words]))],
    ]),
  ];
}

function mail(): Map<string, Buffer[]> {
  const body = `From: lab@sykehus.no\r\nSubject: Prøvesvar\r\n\r\nPasient ${NAME} (${FNR}), Storgata 1, tlf +4722334455\r\n.\r\n`;
  const smtp = script([
    [TC, '220 mail.sykehus.no ESMTP Postfix\r\n'],
    [TS, 'EHLO analyzer01\r\n'],
    [TC, '250-mail.sykehus.no\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n250 8BITMIME\r\n'],
    [TS, `AUTH PLAIN ${b64(`\0radtech01\0${PASSWORD}`)}\r\n`],
    [TC, '235 2.7.0 Authentication successful\r\n'],
    [TS, 'MAIL FROM:<lab@sykehus.no>\r\n'],
    [TC, '250 OK\r\n'],
    [TS, 'RCPT TO:<journal@sykehus.no>\r\n'],
    [TC, '250 OK\r\n'],
    [TS, 'DATA\r\n'],
    [TC, '354 End data with <CR><LF>.<CR><LF>\r\n'],
    [TS, body],
    [TC, '250 OK queued\r\n'],
    [TS, 'AUTH LOGIN\r\n'],
    [TC, '334 VXNlcm5hbWU6\r\n'],
    [TS, `${b64('radtech01')}\r\n`],
    [TC, '334 UGFzc3dvcmQ6\r\n'],
    [TS, `${b64(PASSWORD)}\r\n`],
    [TC, '535 5.7.8 Authentication failed\r\n'],
    [TS, 'QUIT\r\n'],
  ]);
  const pop3 = script([
    [TC, '+OK POP3 server ready\r\n'],
    [TS, 'USER radtech01\r\n'],
    [TC, '+OK\r\n'],
    [TS, `PASS ${PASSWORD}\r\n`],
    [TC, '+OK logged in\r\n'],
    [TS, 'RETR 1\r\n'],
    [TC, `+OK 120 octets\r\n${body}`],
    [TS, `AUTH PLAIN ${b64(`\0radtech01\0${PASSWORD}`)}\r\n`],
    [TC, '-ERR\r\n'],
    [TS, 'STLS\r\n'],
    [TC, '+OK Begin TLS\r\n'],
  ]);
  const imap = script([
    [TC, '* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n'],
    [TS, `a1 LOGIN radtech01 "${PASSWORD}"\r\n`],
    [TC, 'a1 OK LOGIN completed\r\n'],
    [TS, 'a2 AUTHENTICATE PLAIN\r\n'],
    [TC, '+ \r\n'],
    [TS, `${b64(`\0radtech01\0${PASSWORD}`)}\r\n`],
    [TC, 'a2 NO failed\r\n'],
    [TS, 'a3 FETCH 1 BODY[]\r\n'],
    [TC, `* 1 FETCH (BODY[] {${body.length}}\r\n${body})\r\na3 OK\r\n`],
    [TS, 'a4 STARTTLS\r\n'],
    [TC, 'a4 OK Begin TLS\r\n'],
  ]);
  const ftp = script([
    [TC, '220 FTP ready\r\n'],
    [TS, 'USER radtech01\r\n'],
    [TC, '331 Password required\r\n'],
    [TS, `PASS ${PASSWORD}\r\n`],
    [TC, '230 Logged in\r\n'],
    [TS, `STOR ${FNR}_${NAME}.dcm\r\n`],
    [TC, '150 OK\r\n'],
    [TS, 'AUTH TLS\r\n'],
    [TC, '234 AUTH TLS OK\r\n'],
  ]);
  return new Map([
    ['tcp-smtp', [smtp]],
    ['tcp-pop3', [pop3]],
    ['tcp-imap', [imap]],
    ['tcp-ftp', [ftp]],
  ]);
}

function syslogTcp(): Buffer[] {
  const m1 = `<134>1 2026-11-23T13:39:57Z infusion01 pumpd 4711 ID47 - Pasient ${NAME} ${FNR} startet`;
  const m2 = `<13>Nov 23 13:39:57 monitor7 app[12]: login radtech01 password=${PASSWORD}`;
  return [script([[TS, `${m1.length} ${m1}`], [TS, `${m2.length} ${m2}`]]), script([[TS, `${m2}\n${m1}\n`]])];
}

function rdp(): Buffer[] {
  return [
    script([[TS, connectionRequest({ user: 'radtech01', requested: PROTOCOL_SSL | PROTOCOL_HYBRID, correlation: true })], [TC, connectionConfirm({ selected: PROTOCOL_HYBRID })]]),
    script([[TS, connectionRequest({ routingToken: '3640205228.15629.0000' })], [TC, connectionConfirm({ failure: 5 })]]),
  ];
}

function teamviewer(): Buffer[] {
  const frame = (magic: number, cmd: number, bodyLen = 32) => {
    const b = Buffer.alloc(5 + bodyLen, 0x33);
    b.writeUInt16BE(magic, 0);
    b[2] = cmd;
    b.writeUInt16LE(bodyLen, 3);
    return b;
  };
  return [script([[TS, Buffer.concat([frame(0x1724, 10), frame(0x1724, 16)])], [TC, frame(0x1724, 36, 100)]]), script([[TS, frame(0x1130, 10)], [TC, frame(0x1130, 36)]])];
}

function dns(): Buffer[] {
  return dnsExchanges().map(script);
}

/** The same DNS exchanges over TCP: each message behind its two-byte length, the last two queries in one chunk. */
function dnsTcp(): Buffer[] {
  const prefixed = (b: Buffer | string) => {
    const m = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
    return Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]);
  };
  return dnsExchanges().map((ex) => {
    const out: Exchange = [];
    for (const [dir, m] of ex) {
      const last = out.at(-1);
      if (last && last[0] === dir) last[1] = Buffer.concat([last[1] as Buffer, prefixed(m)]);
      else out.push([dir, prefixed(m)]);
    }
    return script(out);
  });
}

function dnsExchanges(): Exchange[] {
  const name = (n: string) => Buffer.concat([...n.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
  const query = (id: number, n: string, qtype = 1) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(id, 0);
    h.writeUInt16BE(0x0100, 2);
    h.writeUInt16BE(1, 4);
    return Buffer.concat([h, name(n), Buffer.from([0, qtype, 0, 1])]);
  };
  const q = query(7, 'pacs.sykehus.no');
  const r = Buffer.from(q);
  r.writeUInt16BE(0x8180, 2);
  r.writeUInt16BE(2, 6);
  const target = name('pacs01.sykehus.no');
  const cname = Buffer.concat([Buffer.from([0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, target.length]), target]);
  const a = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 10, 77, 20, 10]);
  const txt = Buffer.concat([Buffer.from([0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 1 + NAME.length + 1 + FNR.length + 1]), Buffer.from([NAME.length]), Buffer.from(NAME), Buffer.from([FNR.length + 1]), Buffer.from(FNR + '.')]);
  const resp = Buffer.concat([r, cname, target, a]);
  const t = Buffer.from(query(8, `${FNR}.sykehus.no`, 16));
  const tr = Buffer.concat([t, txt]);
  tr.writeUInt16BE(0x8180, 2);
  tr.writeUInt16BE(1, 6);
  return [
    [
      [TS, q],
      [TC, resp],
    ],
    [
      [TS, t],
      [TC, tr],
      [TS, query(9, 'biomed-ws.local', 12)],
      [TS, query(10, 'ris.sykehus.no', 28)],
    ],
  ];
}

function dhcp(): Buffer[] {
  const msg = (op: number, type: number, opts: [number, Buffer | string][]) => {
    const b = Buffer.alloc(240);
    b[0] = op;
    b[1] = 1;
    b[2] = 6;
    b.writeUInt32BE(0x3903f326, 4);
    Buffer.from([0x00, 0x09, 0x0f, 0x12, 0x34, 0x56]).copy(b, 28);
    b.writeUInt32BE(0x63825363, 236);
    const o: Buffer[] = [Buffer.from([53, 1, type])];
    for (const [code, v] of opts) {
      const vb = typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
      o.push(Buffer.from([code, vb.length]), vb);
    }
    return Buffer.concat([b, ...o, Buffer.from([255])]);
  };
  const discover = msg(1, 1, [[12, 'infusion-pump-07'], [60, 'MSFT 5.0'], [55, Buffer.from([1, 3, 6, 15, 42])], [61, Buffer.from([1, 0, 9, 15, 18, 52, 86])]]);
  const offer = msg(2, 2, [[54, Buffer.from([10, 77, 0, 1])], [51, Buffer.from([0, 0, 14, 16])], [1, Buffer.from([255, 255, 255, 0])], [15, 'sykehus.no']]);
  const request = msg(1, 3, [[12, `${NAME}-${FNR}`], [81, Buffer.concat([Buffer.from([0, 0, 0]), Buffer.from('pump07.sykehus.no')])], [50, Buffer.from([10, 77, 0, 50])]]);
  return [script([[TS, discover], [TC, offer], [TS, request]])];
}

function tls(): Buffer[] {
  const s = (segs: { dir: Direction; data: Buffer }[]) => script(segs.map((x) => [x.dir, x.data]));
  return [s(tls13Session()), s(tls12Session()), s(tls12Session({ version: 0x0301, suite: 0x000a, sni: `${FNR}.sykehus.no` }))];
}

function phiDatagrams(): Buffer[] {
  return [script([[TS, `MSH|^~\\&|LAB|OUS|HIS|OUS|20240312101500||ORU^R01|1|P|2.5\rPID|||${FNR}||${NAME}||19850714|F|||Storgata 1\r`], [TC, `ok ${FNR}`]])];
}

/** An FTP session after its login: every way of announcing a data connection, and AUTH TLS. */
function ftpDataChannels(): Buffer[] {
  return [
    script([
      [TC, '220 (vsFTPd 3.0.3)\r\n'],
      [TS, 'USER biomed\r\nPASS ' + PASSWORD + '\r\n'],
      [TC, '331 Please specify the password.\r\n230 Login successful.\r\n'],
      [TS, 'PASV\r\n'],
      [TC, '227 Entering Passive Mode (10,77,20,9,39,16).\r\n'],
      [TS, 'EPSV\r\n'],
      [TC, '229 Entering Extended Passive Mode (|||6446|)\r\n'],
      [TS, 'PORT 10,77,10,5,195,80\r\nEPRT |2|fd77::10:5|6275|\r\nEPRT |1|10.77.10.5|6276|\r\n'],
      [TC, '200 PORT command successful.\r\n200 EPRT command successful.\r\n'],
    ]),
    script([[TC, '220 FTP ready\r\n'], [TS, 'AUTH TLS\r\n'], [TC, '234 Proceed with negotiation.\r\n']]),
  ];
}

/** RDP's UDP transport: SYN and SYN+ACK with the correlation id and SYNEX payloads, plain and lossy. */
function rdpUdp(): Buffer[] {
  return [
    script([[TS, rdpUdpSyn({ flags: 0x0800 | 0x1000, udpVersion: 0x0101 })], [TC, rdpUdpSyn({ ack: true, flags: 0x1000, udpVersion: 0x0101 })]]),
    script([[TS, rdpUdpSyn({ flags: 0x0200, padTo: 16 })], [TC, rdpUdpSyn({ ack: true, flags: 0x0200, padTo: 16 })]]),
  ];
}

/** AnyDesk's LAN discovery, with planted values as the host and user names it carries in the clear. */
function anyDeskUdp(): Buffer[] {
  return [
    script([[TS, anyDeskDiscovery({ host: NAME, user: FNR })], [TS, anyDeskDiscovery({ host: NAME, user: FNR })]]),
    script([[TC, anyDeskDiscovery({ host: '', user: PASSWORD, port: 50003 })]]),
  ];
}

/** Target name → seeds built here (added to those recorded from the corpus). */
export function protocolSeeds(): Map<string, Buffer[]> {
  const out = mail();
  out.set('tcp-smb', smb());
  out.set('tcp-ldap', ldap());
  out.set('tcp-syslog', syslogTcp());
  out.set('tcp-rdp', rdp());
  out.set('tcp-teamviewer', teamviewer());
  out.set('tcp-tls', tls());
  out.set('udp-snmp', snmp());
  out.set('udp-dns', dns());
  out.set('tcp-dns', dnsTcp());
  out.set('udp-dhcp', dhcp());
  out.set('udp-rdp', rdpUdp());
  out.set('udp-teamviewer', [script([[TS, teamViewerUdpDatagram(0)], [TC, teamViewerUdpDatagram(0)]])]);
  out.set('udp-anydesk', anyDeskUdp());
  out.set('udp-phi-fallback', phiDatagrams());
  out.set('tcp-ftp', ftpDataChannels());
  out.set('tcp-ftp-data', [script([[TS, `id;navn\n${FNR};${NAME}\n`]])]);
  out.set('tcp-ftp-data-tls', [script(tls12Session().map((x) => [x.dir, x.data]))]);
  out.set('tcp-phi-fallback', [script([[TS, `REPORT ${NAME} ${FNR} Storgata 1\r\n`], [TC, `ACK ${FNR}\r\n`]])]);
  return out;
}
