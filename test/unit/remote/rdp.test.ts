/**
 * RDP connection negotiation from hand-built PDUs (no RDP capture in the corpus, and no
 * xfreerdp/xrdp here): MS-RDPBCGR §2.2.1.1/§2.2.1.2 layouts and the spec's §4.1 examples.
 */
import { describe, expect, it } from 'vitest';
import { probeRdp, probeRdpConnectionRequest } from '../../../protocols/remote/probes.js';
import { MAX_TPKT, RdpStreamParser } from '../../../protocols/remote/rdp.js';
import { SKIP_REST } from '../../../protocols/remote/records.js';
import { ProbeVerdict } from '../../../protocols/probe.js';
import { DETACH, Direction } from '../../../protocols/stream.js';
import { drive, rng, type Chunking, type Segment } from '../../support/streams.js';
import {
  connectionConfirm,
  connectionRequest,
  PROTOCOL_HYBRID,
  PROTOCOL_HYBRID_EX,
  PROTOCOL_RDP,
  PROTOCOL_RDSTLS,
  PROTOCOL_SSL,
  SPEC_CC,
  SPEC_CR,
} from './build.js';
import { collect, pseudonymize } from './support.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;
const CHUNKINGS: Chunking[] = ['segments', 'tiny', 'random', 'whole'];

function run(segments: Segment[], chunking: Chunking = 'segments', seed = 1) {
  const c = collect();
  const parser = new RdpStreamParser(c.opts);
  const driven = drive(parser, segments, chunking, seed);
  parser.end('fin');
  return { ...c, parser, driven, rec: c.access()[0] };
}

describe('RDP negotiation (MS-RDPBCGR §2.2.1.1–2)', () => {
  it('reads the spec example: mstshash cookie, PROTOCOL_RDP requested and selected → unencrypted, weak', () => {
    for (const chunking of CHUNKINGS) {
      const r = run([{ dir: TS, data: SPEC_CR }, { dir: TC, data: SPEC_CC }], chunking);
      expect(r.access()).toHaveLength(1);
      expect(r.rec).toMatchObject({
        protocol: 'rdp',
        encrypted: false,
        initiator: 'client',
        requested_protocols: ['rdp'],
        selected_protocol: 'rdp',
        security: 'standard-rdp-security',
        weak: true,
        weak_reason: 'standard-rdp-security',
        username_pseudonym: pseudonymize('username', 'eltons'),
      });
      expect(r.rec.incomplete).toBeUndefined();
      expect(r.parser.counters.x224_length_mismatch).toBe(0);
      expect(r.driven.detached).toBe(true);
      // The username only as a pseudonym.
      expect(JSON.stringify(r.records)).not.toContain('eltons');
    }
  });

  it.each([
    [PROTOCOL_SSL | PROTOCOL_HYBRID, PROTOCOL_SSL, ['ssl', 'hybrid'], 'ssl', 'tls'],
    [PROTOCOL_SSL | PROTOCOL_HYBRID, PROTOCOL_HYBRID, ['ssl', 'hybrid'], 'hybrid', 'nla'],
    [PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX, PROTOCOL_HYBRID_EX, ['ssl', 'hybrid', 'hybrid_ex'], 'hybrid_ex', 'nla'],
    [PROTOCOL_SSL | PROTOCOL_RDSTLS, PROTOCOL_RDSTLS, ['ssl', 'rdstls'], 'rdstls', 'rdstls'],
  ])('requested %i, selected %i → encrypted', (requested, selected, names, sel, security) => {
    const r = run([{ dir: TS, data: connectionRequest({ user: 'svc_philips', requested }) }, { dir: TC, data: connectionConfirm({ selected }) }]);
    expect(r.rec).toMatchObject({ encrypted: true, weak: false, requested_protocols: names, selected_protocol: sel, security });
    expect(r.rec.weak_reason).toBeUndefined();
  });

  it('reports RDP_NEG_FAILURE', () => {
    const r = run([{ dir: TS, data: connectionRequest({ requested: PROTOCOL_SSL }) }, { dir: TC, data: connectionConfirm({ failure: 5 }) }]);
    expect(r.rec).toMatchObject({ encrypted: false, security: 'negotiation-failed', negotiation_failure: 'hybrid-required-by-server', requested_protocols: ['ssl'] });
    expect(r.rec.selected_protocol).toBeUndefined();
  });

  it('treats a Connection Confirm without RDP_NEG_RSP (pre-RDP 5.2 server) as standard RDP security', () => {
    const r = run([{ dir: TS, data: connectionRequest({ user: 'x' }) }, { dir: TC, data: connectionConfirm() }]);
    expect(r.rec).toMatchObject({ requested_protocols: ['rdp'], selected_protocol: 'rdp', encrypted: false, weak: true });
  });

  it('reads routing tokens (no username) and RDP_CORRELATION_INFO', () => {
    const r = run([
      { dir: TS, data: connectionRequest({ routingToken: '3640205228.15629.0000', requested: PROTOCOL_HYBRID, correlation: true }) },
      { dir: TC, data: connectionConfirm({ selected: PROTOCOL_HYBRID }) },
    ]);
    expect(r.rec).toMatchObject({ routing_token: true, requested_protocols: ['hybrid'], security: 'nla', encrypted: true });
    expect(r.rec.username_pseudonym).toBeUndefined();
    expect(r.parser.counters.bad_negotiation).toBe(0);
  });

  it('detaches after the confirm and says where TLS begins; the client side stays open only when it asked for TLS', () => {
    const c = collect();
    const p = new RdpStreamParser(c.opts);
    const tls = Buffer.from('160301020001', 'hex');
    const first = connectionRequest({ requested: PROTOCOL_SSL });
    expect(p.data(TS, first, 0, first.length, 1, 0)).toBe(0);
    const cc = Buffer.concat([connectionConfirm({ selected: PROTOCOL_SSL }), tls]);
    expect(p.data(TC, cc, 0, cc.length, 2, 0)).toBe(DETACH);
    expect(p.tlsFrom).toBe(19);
    expect(p.data(TS, tls, 0, tls.length, 3, 0)).toBe(DETACH);
    p.end('fin');
    expect(c.access()).toHaveLength(1);
    expect(c.access()[0].ts_sec).toBe(2);
    // Standard RDP security: no TLS follows, the client side is skipped after its request.
    const legacy = new RdpStreamParser(collect().opts);
    const cr = connectionRequest({ requested: PROTOCOL_RDP });
    expect(legacy.data(TS, cr, 0, cr.length, 1, 0)).toBe(SKIP_REST);
    expect(legacy.data(TC, connectionConfirm({ selected: PROTOCOL_RDP }), 0, 19, 2, 0)).toBe(DETACH);
    expect(legacy.tlsFrom).toBe(-1);
    // More client bytes before the confirm are not TLS we could frame: skipped as before.
    const eager = new RdpStreamParser(collect().opts);
    const crMore = Buffer.concat([connectionRequest({ requested: PROTOCOL_SSL }), tls]);
    expect(eager.data(TS, crMore, 0, crMore.length, 1, 0)).toBe(SKIP_REST);
  });

  it('reports a request the server never answered as incomplete and not encrypted', () => {
    const r = run([{ dir: TS, data: connectionRequest({ user: 'a', requested: PROTOCOL_SSL | PROTOCOL_HYBRID }) }]);
    expect(r.rec).toMatchObject({ incomplete: true, encrypted: false, weak: false, requested_protocols: ['ssl', 'hybrid'] });
    const legacy = run([{ dir: TS, data: connectionRequest({ user: 'a', requested: PROTOCOL_RDP }) }]);
    expect(legacy.rec).toMatchObject({ incomplete: true, encrypted: false, weak: true, weak_reason: 'standard-rdp-security' });
  });

  it.each([
    ['too short', 5],
    ['shorter than X.224', 10],
    ['absurdly long', 0xffff],
    ['past the cap', MAX_TPKT + 1],
  ])('counts a bad TPKT length (%s), reports it malformed and detaches', (_name, n) => {
    const cr = Buffer.from(SPEC_CR);
    cr.writeUInt16BE(n, 2);
    for (const chunking of CHUNKINGS) {
      const r = run([{ dir: TS, data: cr }, { dir: TC, data: SPEC_CC }], chunking);
      expect(r.parser.counters.bad_tpkt_length).toBe(1);
      expect(r.driven.detached).toBe(true);
      expect(r.access()).toHaveLength(1);
      expect(r.rec).toMatchObject({ malformed: true, encrypted: false });
    }
  });

  it('counts a wrong TPKT version, an LI that disagrees, a cookie without CRLF, an unexpected TPDU', () => {
    const v = Buffer.from(SPEC_CR);
    v[0] = 4;
    expect(run([{ dir: TS, data: v }]).parser.counters.bad_tpkt_version).toBe(1);

    const li = Buffer.from(SPEC_CR);
    li[4] = 20;
    const r = run([{ dir: TS, data: li }, { dir: TC, data: SPEC_CC }]);
    expect(r.parser.counters.x224_length_mismatch).toBe(1);
    expect(r.rec.selected_protocol).toBe('rdp');

    const cookie = Buffer.from(SPEC_CR);
    cookie[34] = 0x20; // the CR of CRLF
    cookie[35] = 0x20;
    const rc = run([{ dir: TS, data: cookie }, { dir: TC, data: SPEC_CC }]);
    expect(rc.parser.counters.bad_cookie).toBe(1);
    expect(rc.rec.username_pseudonym).toBeUndefined();

    const cc = run([{ dir: TS, data: SPEC_CR }, { dir: TC, data: SPEC_CR }]);
    expect(cc.parser.counters.unexpected_tpdu).toBe(1);
    expect(cc.rec.malformed).toBe(true);
  });

  it('survives random and mutated input with bounded memory and exactly one record', () => {
    const rand = rng(7);
    for (let i = 0; i < 400; i++) {
      const base = Buffer.concat([SPEC_CR, SPEC_CC]);
      const m = Buffer.from(base);
      const flips = 1 + Math.floor(rand() * 6);
      for (let k = 0; k < flips; k++) m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
      const junk = Buffer.alloc(Math.floor(rand() * 2000));
      for (let k = 0; k < junk.length; k++) junk[k] = Math.floor(rand() * 256);
      const segs: Segment[] = [
        { dir: TS, data: i % 2 ? m.subarray(0, SPEC_CR.length) : junk },
        { dir: TC, data: m.subarray(SPEC_CR.length) },
        { dir: TS, data: junk },
      ];
      const r = run(segs, i % 3 === 0 ? 'tiny' : 'random', i);
      expect(r.access()).toHaveLength(1);
    }
  });
});

describe('RDP probe', () => {
  it('accepts the spec request and a bare one, byte by byte', () => {
    expect(probeRdpConnectionRequest(SPEC_CR, 0, SPEC_CR.length)).toBe(ProbeVerdict.Yes);
    for (let n = 0; n < 12; n++) expect(probeRdpConnectionRequest(SPEC_CR, 0, n)).toBe(ProbeVerdict.NeedMore);
    const bare = connectionRequest();
    expect(probeRdpConnectionRequest(bare, 0, bare.length)).toBe(ProbeVerdict.Yes);
    const neg = connectionRequest({ requested: PROTOCOL_SSL });
    expect(probeRdpConnectionRequest(neg, 0, neg.length)).toBe(ProbeVerdict.Yes);
  });

  it('rejects an ISO-on-TCP (S7comm) Connection Request that the loose TPKT probe accepts', () => {
    const s7 = Buffer.from('0300001611e00000000100c1020100c2020102c0010a', 'hex');
    expect(probeRdp(s7, 0, s7.length)).toBe(ProbeVerdict.Yes);
    expect(probeRdpConnectionRequest(s7, 0, s7.length)).toBe(ProbeVerdict.No);
    expect(probeRdpConnectionRequest(SPEC_CC, 0, SPEC_CC.length)).toBe(ProbeVerdict.No);
    expect(probeRdpConnectionRequest(Buffer.from('GET / HTTP/1.1\r\n'), 0, 16)).toBe(ProbeVerdict.No);
  });
});
