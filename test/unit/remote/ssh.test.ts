/** SSH identification strings: corpus capture 13 against tshark, hand-built and hostile input. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeSsh } from '../../../protocols/remote/probes.js';
import { SKIP_REST } from '../../../protocols/remote/records.js';
import { SshStreamParser } from '../../../protocols/remote/ssh.js';
import { ProbeVerdict } from '../../../protocols/probe.js';
import { DETACH, Direction } from '../../../protocols/stream.js';
import { drive, followTcp, rng, type Chunking, type Segment } from '../../support/streams.js';
import { text } from './build.js';
import { collect, CORPUS, leaks } from './support.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;
const CHUNKINGS: Chunking[] = ['segments', 'tiny', 'random', 'whole', 'mss'];

function run(segments: Segment[], chunking: Chunking = 'segments', seed = 1) {
  const c = collect();
  const parser = new SshStreamParser(c.opts);
  const driven = drive(parser, segments, chunking, seed);
  parser.end('fin');
  return { ...c, parser, driven, rec: c.access()[0] };
}

describe('SSH identification strings', () => {
  const truth = JSON.parse(readFileSync(join(CORPUS, '13_ssh_session.json'), 'utf8')) as { flows: { ssh: Record<string, string[]> }[] };
  const [stream] = followTcp('13_ssh_session.pcap', [0]);

  it('equal tshark’s ssh.protocol on the corpus session, however the bytes are split', () => {
    for (const chunking of CHUNKINGS) {
      const r = run(stream.segments, chunking);
      expect(r.access()).toHaveLength(1);
      const rec = r.rec;
      expect(new Set([rec.client_banner, rec.server_banner])).toEqual(new Set(truth.flows[0].ssh['ssh.protocol']));
      expect(rec).toMatchObject({
        protocol: 'ssh',
        encrypted: true,
        weak: false,
        client_banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10',
        client_software: 'OpenSSH_9.2p1',
        client_comments: 'Debian-2+deb12u10',
        server_software: 'OpenSSH_9.2p1',
        protocol_version: '2.0',
      });
      expect(rec.incomplete).toBeUndefined();
      expect(r.credentials()).toEqual([]);
      expect(r.driven.detached).toBe(true);
      // Key exchange and encrypted packets were skipped, not delivered.
      expect(r.driven.delivered).toBeLessThan(1600);
      expect(leaks(r.records)).toEqual([]);
    }
  });

  it('skips a side once its banner is known and detaches when both are', () => {
    const c = collect();
    const p = new SshStreamParser(c.opts);
    const kex = Buffer.alloc(1000, 7);
    const first = Buffer.concat([text('SSH-2.0-PuTTY_Release_0.80\r\n'), kex]);
    expect(p.data(TS, first, 0, first.length, 1, 0)).toBe(SKIP_REST);
    expect(p.data(TC, text('SSH-2.0-dropbear_2022.83\r\n'), 0, 26, 2, 500)).toBe(DETACH);
    p.end('fin');
    expect(c.access()).toHaveLength(1);
    expect(c.access()[0]).toMatchObject({ client_software: 'PuTTY_Release_0.80', server_software: 'dropbear_2022.83', ts_sec: 2, ts_nsec: 500 });
    expect(c.access()[0].client_comments).toBeUndefined();
  });

  it('skips lines a server sends before its banner (RFC 4253 §4.2)', () => {
    const r = run([
      { dir: TC, data: text('Unauthorised access prohibited\r\nContact biomed ext 1234\r\nSSH-2.0-OpenSSH_7.4\r\n') },
      { dir: TS, data: text('SSH-2.0-OpenSSH_9.6\r\n') },
    ], 'tiny');
    expect(r.rec).toMatchObject({ server_banner: 'SSH-2.0-OpenSSH_7.4', client_banner: 'SSH-2.0-OpenSSH_9.6' });
    expect(r.parser.counters.pre_banner_lines).toBe(2);
  });

  it('flags SSH-1 and accepts 1.99 as SSH-2', () => {
    const one = run([{ dir: TC, data: text('SSH-1.5-Cisco-1.25\n') }, { dir: TS, data: text('SSH-1.5-OpenSSH_3.9p1\n') }]);
    expect(one.rec).toMatchObject({ protocol_version: '1.5', weak: true, weak_reason: 'ssh-1' });
    const both = run([{ dir: TC, data: text('SSH-1.99-OpenSSH_3.9p1\n') }, { dir: TS, data: text('SSH-2.0-OpenSSH_9.6\n') }]);
    expect(both.rec).toMatchObject({ protocol_version: '2.0', weak: false });
  });

  it('counts an endless banner and keeps memory bounded', () => {
    const endless = Buffer.concat([text('SSH-2.0-'), Buffer.alloc(1 << 20, 0x41)]);
    for (const chunking of ['tiny', 'random', 'whole'] as Chunking[]) {
      const r = run([{ dir: TC, data: text('SSH-2.0-OpenSSH_9.6\r\n') }, { dir: TS, data: endless.subarray(0, chunking === 'tiny' ? 4096 : endless.length) }], chunking);
      expect(r.parser.counters.banner_too_long).toBe(1);
      expect(r.driven.detached).toBe(true);
      expect(r.rec).toMatchObject({ server_banner: 'SSH-2.0-OpenSSH_9.6', malformed: true, incomplete: true });
      expect(r.rec.client_banner).toBeUndefined();
      // Byte by byte, it gives up right after the 255 bytes RFC 4253 allows.
      if (chunking === 'tiny') expect(r.driven.delivered).toBeLessThan(21 + 260);
    }
  });

  it('counts endless pre-banner lines and garbage without line ends', () => {
    const lines = text('x\r\n'.repeat(10_000));
    const r = run([{ dir: TC, data: lines }]);
    expect(r.parser.counters.pre_banner_overflow).toBe(1);
    const garbage = Buffer.alloc(100_000, 0xc3);
    const g = run([{ dir: TC, data: garbage }], 'random');
    expect(g.parser.counters.pre_banner_overflow).toBe(1);
    expect(g.access()).toHaveLength(1);
  });

  it('does not report a banner with a capture gap in it', () => {
    const c = collect();
    const p = new SshStreamParser(c.opts);
    p.data(TS, text('SSH-2.0-Op'), 0, 10, 1, 0);
    p.gap(TS, 100);
    p.data(TC, text('SSH-2.0-OpenSSH_9.6\r\n'), 0, 21, 1, 0);
    p.end('fin');
    expect(c.access()[0]).toMatchObject({ incomplete: true, server_banner: 'SSH-2.0-OpenSSH_9.6' });
    expect(c.access()[0].client_banner).toBeUndefined();
  });

  it('never throws on random bytes', () => {
    const rand = rng(11);
    for (let i = 0; i < 300; i++) {
      const segs: Segment[] = [];
      for (let k = 0; k < 4; k++) {
        const b = Buffer.alloc(Math.floor(rand() * 600));
        for (let j = 0; j < b.length; j++) b[j] = rand() < 0.1 ? 0x0a : Math.floor(rand() * 256);
        if (rand() < 0.5) text('SSH-').copy(b);
        segs.push({ dir: k % 2 ? TC : TS, data: b });
      }
      expect(run(segs, i % 2 ? 'tiny' : 'random', i).access()).toHaveLength(1);
    }
  });

  it('probe: "SSH-" from either side', () => {
    expect(probeSsh(text('SSH-2.0-x'), 0, 9)).toBe(ProbeVerdict.Yes);
    expect(probeSsh(text('SSH'), 0, 3)).toBe(ProbeVerdict.NeedMore);
    expect(probeSsh(text('SSL-'), 0, 4)).toBe(ProbeVerdict.No);
  });
});
