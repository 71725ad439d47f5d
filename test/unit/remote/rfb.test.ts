/** VNC/RFB handshake: corpus capture 14 against tshark, hand-built 3.3/3.7/3.8/VeNCrypt, hostile input. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeRfb } from '../../../protocols/remote/probes.js';
import { RfbStreamParser } from '../../../protocols/remote/rfb.js';
import { ProbeVerdict } from '../../../protocols/probe.js';
import { Direction } from '../../../protocols/stream.js';
import { drive, followTcp, rng, type Chunking, type Segment } from '../../support/streams.js';
import { rfbVersion, text, u32, u8 } from './build.js';
import { collect, CORPUS, leaks, pseudonymize } from './support.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;
const CHUNKINGS: Chunking[] = ['segments', 'tiny', 'random', 'whole'];
const s = (data: Buffer): Segment => ({ dir: TC, data });
const c = (data: Buffer): Segment => ({ dir: TS, data });
const challenge = Buffer.alloc(16, 0x5c);
const response = Buffer.alloc(16, 0xa3);

function run(segments: Segment[], chunking: Chunking = 'segments', seed = 1) {
  const col = collect();
  const parser = new RfbStreamParser(col.opts);
  const driven = drive(parser, segments, chunking, seed);
  parser.end('fin');
  return { ...col, parser, driven, rec: col.access()[0] };
}

describe('RFB handshake', () => {
  const truth = JSON.parse(readFileSync(join(CORPUS, '14_vnc_from_external.json'), 'utf8')) as { flows: { vnc: Record<string, string[]> }[] };
  const vnc = truth.flows[0].vnc;
  const [stream] = followTcp('14_vnc_from_external.pcap', [0]);

  it('reads the corpus session like tshark: 3.8 server, 3.3 client, VNC auth without TLS, auth ok', () => {
    for (const chunking of CHUNKINGS) {
      const r = run(stream.segments, chunking);
      expect(r.access()).toHaveLength(1);
      expect(r.rec).toMatchObject({
        protocol: 'vnc',
        encrypted: false,
        server_banner: `RFB ${vnc['vnc.server_proto_ver'][0]}`,
        client_banner: `RFB ${vnc['vnc.client_proto_ver'][0]}`,
        protocol_version: '3.3',
        security: 'vnc-auth',
        security_types: ['vnc-auth'],
        auth_result: 'ok',
        weak: true,
        weak_reason: 'vnc-auth-without-tls',
      });
      expect(vnc['vnc.server_security_type']).toEqual(['2']);
      expect(vnc['vnc.auth_result']).toEqual(['0']);
      expect(r.rec.incomplete).toBeUndefined();
      // The DES challenge-response is a credential on the wire; no username, nothing to fingerprint.
      expect(r.credentials()).toEqual([{ type: 'credential.cleartext', ts_sec: expect.any(Number), ts_nsec: 0, protocol: 'vnc', kind: 'vnc-auth' }]);
      expect(r.driven.detached).toBe(true);
      // ServerInit (with the desktop name) and framebuffer updates are never read.
      expect(JSON.stringify(r.records)).not.toContain('ANGIO');
      expect(leaks(r.records)).toEqual([]);
    }
  });

  it('3.8 with None: flagged, SecurityResult read', () => {
    const r = run([s(rfbVersion('003.008')), c(rfbVersion('003.008')), s(u8(1, 1)), c(u8(1)), s(u32(0)), c(u8(1))], 'tiny');
    expect(r.rec).toMatchObject({ security: 'none', security_types: ['none'], auth_result: 'ok', encrypted: false, weak: true, weak_reason: 'no-authentication' });
    expect(r.credentials()).toEqual([]);
    expect(r.driven.detached).toBe(true);
  });

  it('3.7 with None: no SecurityResult, done at the choice', () => {
    const r = run([s(rfbVersion('003.007')), c(rfbVersion('003.007')), s(u8(2, 1, 2)), c(u8(1)), c(u8(1))]);
    expect(r.rec).toMatchObject({ protocol_version: '3.7', security: 'none', security_types: ['none', 'vnc-auth'], weak_reason: 'no-authentication' });
    expect(r.rec.auth_result).toBeUndefined();
    expect(r.rec.incomplete).toBeUndefined();
  });

  it('3.8 VNC auth that fails', () => {
    const r = run([
      s(rfbVersion('003.008')),
      c(rfbVersion('003.008')),
      s(u8(2, 2, 19)),
      c(u8(2)),
      s(challenge),
      c(response),
      s(Buffer.concat([u32(1, 20), text('Authentication failed')])),
    ]);
    expect(r.rec).toMatchObject({ security_types: ['vnc-auth', 'vencrypt'], security: 'vnc-auth', auth_result: 'failed', encrypted: false });
    expect(r.credentials()).toHaveLength(1);
  });

  it('VeNCrypt X509Vnc: encrypted, no cleartext credential', () => {
    const segs = [
      s(rfbVersion('003.008')),
      c(rfbVersion('003.008')),
      s(u8(2, 19, 2)),
      c(u8(19)),
      s(u8(0, 2)),
      c(u8(0, 2)),
      s(Buffer.concat([u8(0, 3), u32(256, 261, 262)])),
      c(u32(261)),
      s(u8(1)),
      s(Buffer.from('160303005a02', 'hex')),
    ];
    for (const chunking of CHUNKINGS) {
      const r = run(segs, chunking);
      expect(r.rec).toMatchObject({ security: 'vencrypt', vencrypt_subtype: 'x509-vnc', encrypted: true, weak: false });
      expect(r.credentials()).toEqual([]);
      expect(r.driven.detached).toBe(true);
    }
  });

  it('VeNCrypt Plain: username pseudonym and secret fingerprint, never the values', () => {
    const user = text('biomed');
    const pass = text('Vnc!2024');
    const segs = [
      s(rfbVersion('003.008')),
      c(rfbVersion('003.008')),
      s(u8(1, 19)),
      c(u8(19)),
      s(u8(0, 2)),
      c(u8(0, 2)),
      s(Buffer.concat([u8(0, 1), u32(256)])),
      c(u32(256)),
      c(Buffer.concat([u32(user.length, pass.length), user, pass])),
      s(u32(0)),
    ];
    for (const chunking of CHUNKINGS) {
      const r = run(segs, chunking);
      expect(r.credentials()).toEqual([
        {
          type: 'credential.cleartext',
          ts_sec: expect.any(Number),
          ts_nsec: 0,
          protocol: 'vnc',
          kind: 'password',
          username_pseudonym: pseudonymize('username', 'biomed'),
          secret_fingerprint: pseudonymize('secret', 'Vnc!2024'),
        },
      ]);
      expect(r.rec).toMatchObject({ vencrypt_subtype: 'plain', encrypted: false, weak: true, weak_reason: 'cleartext-password', auth_result: 'ok' });
      expect(leaks(r.records)).toEqual([]);
    }
  });

  it('anonymous TLS (18) is encrypted; Tight (16) is not; a refused handshake is "failed"', () => {
    const tls = run([s(rfbVersion('003.008')), c(rfbVersion('003.008')), s(u8(1, 18)), c(u8(18))]);
    expect(tls.rec).toMatchObject({ security: 'tls', encrypted: true, weak: false });
    const tight = run([s(rfbVersion('003.008')), c(rfbVersion('003.008')), s(u8(1, 16)), c(u8(16))]);
    expect(tight.rec).toMatchObject({ security: 'tight', encrypted: false, weak: true, weak_reason: 'unencrypted' });
    const refused = run([s(rfbVersion('003.008')), c(rfbVersion('003.008')), s(Buffer.concat([u8(0), u32(7), text('go away')]))]);
    expect(refused.rec).toMatchObject({ security: 'failed', encrypted: false, weak: false });
    expect(refused.parser.counters.security_failures).toBe(1);
    const refused33 = run([s(rfbVersion('003.008')), c(rfbVersion('003.003')), s(u32(0, 7)), s(text('go away'))]);
    expect(refused33.rec.security).toBe('failed');
  });

  it('reports an unanswered handshake as incomplete, and garbled versions as malformed', () => {
    const half = run([s(rfbVersion('003.008')), c(rfbVersion('003.008')), s(u8(2, 2, 19))]);
    expect(half.rec).toMatchObject({ incomplete: true, encrypted: false, weak: false, security_types: ['vnc-auth', 'vencrypt'] });
    const bad = run([s(text('RFB 0x3.008\n'))]);
    expect(bad.parser.counters.bad_version).toBe(1);
    expect(bad.rec.malformed).toBe(true);
  });

  it('bounds the bytes a side may send before its turn', () => {
    const r = run([c(Buffer.alloc(50_000, 0x41)), s(rfbVersion('003.008'))], 'random');
    expect(r.parser.counters.early_bytes_overflow).toBe(1);
    expect(r.rec.malformed).toBe(true);
    expect(r.driven.detached).toBe(true);
  });

  it('never throws on mutated corpus bytes, and always reports exactly once', () => {
    const rand = rng(5);
    for (let i = 0; i < 400; i++) {
      const segs = stream.segments.slice(0, 12).map((g) => {
        const d = Buffer.from(g.data);
        if (rand() < 0.5 && d.length > 0) d[Math.floor(rand() * d.length)] = Math.floor(rand() * 256);
        return { dir: g.dir, data: d };
      });
      if (rand() < 0.3) segs.splice(Math.floor(rand() * segs.length), 1);
      expect(run(segs, i % 3 === 0 ? 'tiny' : 'random', i).access()).toHaveLength(1);
    }
  });

  it('probe: the server banner', () => {
    expect(probeRfb(rfbVersion('003.889'), 0, 12)).toBe(ProbeVerdict.Yes);
    expect(probeRfb(text('RFB 003'), 0, 7)).toBe(ProbeVerdict.NeedMore);
    expect(probeRfb(text('RFC 003.008\n'), 0, 12)).toBe(ProbeVerdict.No);
  });
});
