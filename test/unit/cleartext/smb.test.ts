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
import {
  smb1LegacySessionSetup,
  nbss,
  smb2Header,
  smb2NegotiateRequest,
  smb2NegotiateResponse,
  ntlmAuthenticate,
  smb2SessionSetup,
  smb2SessionSetupResponse,
  smb1NegotiateRequest,
  smb1NegotiateResponse,
  smb1SessionSetup,
  smb1SessionSetupResponse,
} from './smb-build.js';
import { cleartextRegistry, pseudonymize, tcpSession, toPcap, tsharkFields } from './support.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;

const DIALECTS = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311];
const STATUS_SUCCESS = 0;
const STATUS_LOGON_FAILURE = 0xc000006d;
/** A big WRITE that must never reach the parser's buffers. */
const bigWrite = (): Segment => ({ dir: TS, data: nbss(Buffer.concat([smb2Header(9, false, 2), Buffer.alloc(1_000_000, 0x41)])) });

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
  { dir: TC, data: smb2SessionSetupResponse(Buffer.alloc(0), STATUS_SUCCESS) },
  bigWrite(),
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
    const legacy = toPcap(tcpSession([{ dir: TS, data: smb1NegotiateRequest(['NT LM 0.12']) }, { dir: TC, data: smb1NegotiateResponse(0) }, { dir: TS, data: smb1LegacySessionSetup('biomed', 'HOSPITAL', 24, 24) }], 445), 'smb1-legacy.pcap');
    expect(tsharkFields(legacy, ['smb.account', 'smb.primary_domain', 'smb.ansi_pwlen', 'smb.unicode_pwlen'], 'smb.cmd == 0x73').map((r) => r.join('|'))).toEqual(['biomed|HOSPITAL|24|24']);
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

  it.each(['segments', 'tiny', 'random'] as Chunking[])('a refused login, then a null session on the same connection, as smbclient -N does (%s): the record is the null session', (chunking) => {
    const r = run(
      [
        { dir: TS, data: smb2NegotiateRequest(DIALECTS) },
        { dir: TC, data: smb2NegotiateResponse(0x0311, false) },
        { dir: TS, data: smb2SessionSetup(ntlmAuthenticate('root', 'WARD', 0)) },
        { dir: TC, data: smb2SessionSetupResponse(Buffer.alloc(0), STATUS_LOGON_FAILURE) },
        { dir: TS, data: smb2SessionSetup(ntlmAuthenticate('', '', 0)) },
        { dir: TC, data: smb2SessionSetupResponse(Buffer.alloc(0), STATUS_SUCCESS) },
        bigWrite(),
      ],
      chunking,
    );
    expect(r.smb).toHaveLength(1);
    expect(r.smb[0]).toMatchObject({ dialect: '3.1.1', anonymous: true });
    expect(r.smb[0].username_pseudonym).toBeUndefined();
    expect(r.smb[0].ntlm_domain).toBeUndefined();
    expect(r.driven.delivered).toBeLessThan(10_000);
  });

  it('a refused login the client gives up on: the record keeps the user it tried; an NTLMv1 response stays noted after a retry', () => {
    const refused = run([
      { dir: TS, data: smb2NegotiateRequest(DIALECTS) },
      { dir: TC, data: smb2NegotiateResponse(0x0311, false) },
      { dir: TS, data: smb2SessionSetup(ntlmAuthenticate('biomed', 'HOSPITAL', 300)) },
      { dir: TC, data: smb2SessionSetupResponse(Buffer.alloc(0), STATUS_LOGON_FAILURE) },
    ]);
    expect(refused.smb).toEqual([expect.objectContaining({ username_pseudonym: pseudonymize('username', 'biomed'), ntlm_domain: 'HOSPITAL' })]);
    expect(refused.smb[0].anonymous).toBeUndefined();
    const retried = run([
      { dir: TS, data: smb1NegotiateRequest(['NT LM 0.12']) },
      { dir: TC, data: smb1NegotiateResponse(0) },
      { dir: TS, data: smb1SessionSetup(ntlmAuthenticate('svc', 'LAB', 24)) },
      { dir: TC, data: smb1SessionSetupResponse(STATUS_LOGON_FAILURE) },
      { dir: TS, data: smb1SessionSetup(ntlmAuthenticate('biomed', 'HOSPITAL', 300)) },
      { dir: TC, data: smb1SessionSetupResponse(STATUS_SUCCESS) },
    ]);
    expect(retried.smb).toEqual([expect.objectContaining({ smb1: true, ntlm_v1: true, username_pseudonym: pseudonymize('username', 'biomed'), ntlm_domain: 'HOSPITAL' })]);
    expect(retried.driven.detached).toBe(true);
  });

  it("a capture of the client's side only: a request after the login ends the session start at that request's command", () => {
    const before: Segment[] = [
      { dir: TS, data: smb2NegotiateRequest(DIALECTS) },
      { dir: TS, data: smb2SessionSetup(ntlmAuthenticate('biomed', 'HOSPITAL', 300)) },
    ];
    const r = run([...before, bigWrite()], 'tiny');
    expect(r.smb).toEqual([expect.objectContaining({ username_pseudonym: pseudonymize('username', 'biomed') })]);
    expect(r.driven.detached).toBe(true);
    // NetBIOS length, then the SMB2 header up to its Command field.
    expect(r.driven.delivered).toBe(before.reduce((n, s) => n + s.data.length, 0) + 4 + 14);
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
