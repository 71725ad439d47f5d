/**
 * SMB session start: NEGOTIATE (SMB2 and SMB1, the multi-protocol upgrade), NTLMSSP
 * AUTHENTICATE, skipping file data, hostile framing. The hand-built messages are first checked
 * against tshark's SMB dissectors, then through the parser and the pipeline.
 */
import { describe, expect, it } from 'vitest';
import { SmbStreamParser } from '../../../protocols/cleartext/smb.js';
import type { CleartextRecord, SmbRecord } from '../../../protocols/cleartext/records.js';
import { Direction } from '../../../protocols/stream.js';
import { runFrames } from '../../support/frames.js';
import { drive, rng, type Chunking, type Segment } from '../../support/streams.js';
import { cleartextRegistry, pseudonymize, tcpSession, toPcap, tsharkFields } from './support.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;

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

function smb2NegotiateRequest(dialects: number[]): Buffer {
  const b = Buffer.alloc(36 + 2 * dialects.length);
  b.writeUInt16LE(36, 0);
  b.writeUInt16LE(dialects.length, 2);
  b.writeUInt16LE(1, 4); // signing enabled
  dialects.forEach((d, i) => b.writeUInt16LE(d, 36 + 2 * i));
  return nbss(Buffer.concat([smb2Header(0, false, 0), b]));
}

function smb2NegotiateResponse(dialect: number, signingRequired: boolean): Buffer {
  const b = Buffer.alloc(64);
  b.writeUInt16LE(65, 0);
  b.writeUInt16LE(signingRequired ? 3 : 1, 2);
  b.writeUInt16LE(dialect, 4);
  b.writeUInt16LE(128, 56); // security buffer offset (none)
  return nbss(Buffer.concat([smb2Header(0, true, 0), b]));
}

/** NTLMSSP AUTHENTICATE (type 3) with Unicode strings. */
function ntlmAuthenticate(user: string, domain: string, ntLen: number): Buffer {
  const u = Buffer.from(user, 'utf16le');
  const d = Buffer.from(domain, 'utf16le');
  const w = Buffer.from('WS01', 'utf16le');
  const lm = Buffer.alloc(24);
  const nt = Buffer.alloc(ntLen, 0x5a);
  const head = Buffer.alloc(88);
  head.write('NTLMSSP\0', 0, 'latin1');
  head.writeUInt32LE(3, 8);
  let off = 88;
  const field = (at: number, buf: Buffer) => {
    head.writeUInt16LE(buf.length, at);
    head.writeUInt16LE(buf.length, at + 2);
    head.writeUInt32LE(off, at + 4);
    off += buf.length;
  };
  field(12, lm);
  field(20, nt);
  field(28, d);
  field(36, u);
  field(44, w);
  field(52, Buffer.alloc(0));
  head.writeUInt32LE(0xe2888215, 60); // NEGOTIATE_UNICODE among others
  return Buffer.concat([head, lm, nt, d, u, w]);
}

function smb2SessionSetup(blob: Buffer): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt16LE(25, 0);
  b.writeUInt16LE(64 + 24, 12);
  b.writeUInt16LE(blob.length, 14);
  return nbss(Buffer.concat([smb2Header(1, false, 1), b, blob]));
}

function smb1Header(cmd: number, response: boolean): Buffer {
  const h = Buffer.alloc(32);
  h.write('\xffSMB', 0, 'latin1');
  h[4] = cmd;
  h[9] = response ? 0x98 : 0x18;
  h.writeUInt16LE(0xc853, 10);
  return h;
}

function smb1NegotiateRequest(dialects: string[]): Buffer {
  const bytes = Buffer.concat(dialects.map((d) => Buffer.concat([Buffer.from([0x02]), Buffer.from(d + '\0', 'latin1')])));
  const wc = Buffer.from([0]);
  const bc = Buffer.alloc(2);
  bc.writeUInt16LE(bytes.length, 0);
  return nbss(Buffer.concat([smb1Header(0x72, false), wc, bc, bytes]));
}

function smb1NegotiateResponse(index: number): Buffer {
  const words = Buffer.alloc(1 + 34 + 2);
  words[0] = 17;
  words.writeUInt16LE(index, 1);
  words[3] = 0x03; // security mode
  return nbss(Buffer.concat([smb1Header(0x72, true), words]));
}

function smb1SessionSetup(blob: Buffer): Buffer {
  const words = Buffer.alloc(1 + 24);
  words[0] = 12;
  words[1] = 0xff; // no AndX
  words.writeUInt16LE(blob.length, 1 + 14);
  const bc = Buffer.alloc(2);
  bc.writeUInt16LE(blob.length, 0);
  return nbss(Buffer.concat([smb1Header(0x73, false), words, bc, blob]));
}

const DIALECTS = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311];

function run(segments: Segment[], chunking: Chunking = 'segments') {
  const records: CleartextRecord[] = [];
  const parser = new SmbStreamParser({ emit: (r) => records.push(r), pseudonymize });
  const driven = drive(parser, segments, chunking, 11);
  parser.end('fin');
  return { records, parser, driven, smb: records.filter((r): r is SmbRecord => r.type === 'smb') };
}

const modern = (): Segment[] => [
  { dir: TS, data: smb2NegotiateRequest(DIALECTS) },
  { dir: TC, data: smb2NegotiateResponse(0x0311, true) },
  { dir: TS, data: smb2SessionSetup(ntlmAuthenticate('biomed', 'HOSPITAL', 300)) },
  // A big WRITE that must never reach the parser's buffers.
  { dir: TS, data: nbss(Buffer.concat([smb2Header(9, false, 2), Buffer.alloc(1_000_000, 0x41)])) },
];

describe('SMB', () => {
  it('the hand-built messages are what tshark decodes', () => {
    const path = toPcap(tcpSession(modern(), 445), 'smb2.pcap');
    const rows = tsharkFields(path, ['smb2.dialect', 'ntlmssp.auth.username', 'ntlmssp.auth.domain'], 'smb2');
    expect(rows[0][0].split(',')).toEqual(['0x0202', '0x0210', '0x0300', '0x0302', '0x0311']);
    expect(rows[1][0]).toBe('0x0311');
    expect(rows[2].slice(1)).toEqual(['biomed', 'HOSPITAL']);
    const old = toPcap(tcpSession([{ dir: TS, data: smb1NegotiateRequest(['PC NETWORK PROGRAM 1.0', 'NT LM 0.12']) }, { dir: TC, data: smb1NegotiateResponse(1) }], 445), 'smb1.pcap');
    expect(tsharkFields(old, ['smb.dialect.name', 'smb.dialect.index'], 'smb').map((r) => r.join('|'))).toEqual(['PC NETWORK PROGRAM 1.0,NT LM 0.12|', '|1']);
  });

  it.each(['segments', 'tiny', 'random'] as Chunking[])('SMB 3.1.1 with NTLMv2 (%s): dialects, signing, user pseudonym; file data skipped', (chunking) => {
    const r = run(modern(), chunking);
    expect(r.smb).toEqual([
      {
        type: 'smb',
        ts_sec: expect.any(Number),
        ts_nsec: 0,
        smb1: false,
        dialects_offered: ['2.0.2', '2.1', '3.0', '3.0.2', '3.1.1'],
        dialect: '3.1.1',
        signing_required: true,
        username_pseudonym: pseudonymize('username', 'biomed'),
        ntlm_domain: 'HOSPITAL',
      },
    ]);
    expect(r.driven.detached).toBe(true);
    expect(r.driven.delivered).toBeLessThan(10_000);
    expect(JSON.stringify(r.records)).not.toContain('biomed');
  });

  it('SMB1 chosen by the server is flagged, with NTLMv1', () => {
    const r = run([
      { dir: TS, data: smb1NegotiateRequest(['PC NETWORK PROGRAM 1.0', 'LANMAN1.0', 'NT LM 0.12']) },
      { dir: TC, data: smb1NegotiateResponse(2) },
      { dir: TS, data: smb1SessionSetup(ntlmAuthenticate('svc', 'LAB', 24)) },
    ]);
    expect(r.smb[0]).toMatchObject({ smb1: true, smb1_offered: true, dialect: 'NT LM 0.12', ntlm_v1: true, username_pseudonym: pseudonymize('username', 'svc') });
  });

  it('a multi-protocol negotiate upgraded to SMB2 is not SMBv1, but the offer is noted', () => {
    const r = run([
      { dir: TS, data: smb1NegotiateRequest(['NT LM 0.12', 'SMB 2.002', 'SMB 2.???']) },
      { dir: TC, data: smb2NegotiateResponse(0x02ff, false) },
      { dir: TS, data: smb2NegotiateRequest(DIALECTS) },
      { dir: TC, data: smb2NegotiateResponse(0x0302, false) },
      { dir: TS, data: smb2SessionSetup(ntlmAuthenticate('', '', 0)) },
    ]);
    expect(r.smb[0]).toMatchObject({ smb1: false, smb1_offered: true, dialect: '3.0.2', signing_required: false, anonymous: true });
    expect(r.smb[0].username_pseudonym).toBeUndefined();
  });

  it('through the pipeline: labelled smb, one event', () => {
    const { events, flows } = runFrames(tcpSession(modern(), 445), { registry: cleartextRegistry() });
    expect(flows[0].app).toBe('smb');
    expect(events.filter((e) => e.type === 'smb')).toEqual([expect.objectContaining({ dialect: '3.1.1', username_pseudonym: pseudonymize('username', 'biomed') })]);
  });

  it('bad framing detaches; random and truncated input never throws and copies at most 16 KiB per direction', () => {
    const bad = run([{ dir: TS, data: Buffer.from('\x00\x00\x00\x10garbage-not-smb!\x99\xff\xff\xffxx', 'latin1') }]);
    expect(bad.parser.counters.badFraming).toBe(1);
    expect(bad.driven.detached).toBe(true);
    const rand = rng(21);
    const whole = modern().slice(0, 3);
    for (let i = 0; i < 200; i++) {
      const segs = whole.map((s) => {
        const d = Buffer.from(s.data);
        for (let k = 0; k < 4; k++) d[4 + Math.floor(rand() * (d.length - 4))] = Math.floor(rand() * 256);
        return { dir: s.dir, data: rand() < 0.3 ? d.subarray(0, Math.floor(rand() * d.length)) : d };
      });
      const r = run(segs, i % 2 ? 'tiny' : 'random');
      expect(r.parser.bufferedBytes).toBeLessThanOrEqual(2 * 16 * 1024);
    }
  });
});
