/**
 * Remote access over UDP: RDP's UDP transport (MS-RDPEUDP SYN / SYN+ACK, bytes built per the
 * spec in build.ts) and TeamViewer over UDP (5938/udp). The flow takes the remote-access app,
 * so the remote-access rules judge it as they judge the TCP forms; UDP on 3389 that is not an
 * RDP-UDP SYN is not labelled.
 */
import { describe, expect, it } from 'vitest';
import type { MuvaktEvent } from '../../../agent/events/types.js';
import { ProbeVerdict } from '../../../protocols/probe.js';
import { parseRdpUdpSyn, probeRdpUdp, probeTeamViewerUdp, RdpUdpDatagramParser, TeamViewerUdpDatagramParser } from '../../../protocols/remote/udp.js';
import { Direction } from '../../../protocols/stream.js';
import { ALL_RULES, RuleEngine, type EngineFinding, type RuleEvent } from '../../../rules/index.js';
import { runFrames } from '../../support/frames.js';
import { examplePolicy } from '../../support/rules.js';
import { noise, rdpUdpSyn, teamViewerUdpDatagram, udpExchange } from './build.js';
import { collect } from './support.js';

const TS = Direction.ToServer;
const TC = Direction.ToClient;
const byType = (events: MuvaktEvent[], type: string) => events.filter((e) => e.type === type);

function findings(events: MuvaktEvent[]): EngineFinding[] {
  const out: EngineFinding[] = [];
  const engine = new RuleEngine(examplePolicy(), ALL_RULES, (f) => out.push(f));
  for (const e of events) engine.evaluate(e as RuleEvent);
  return out;
}

describe('RDP-UDP SYN datagram (MS-RDPEUDP)', () => {
  it('reads the client SYN: snSourceAck -1, SYN, MTUs, SYNEX version, lossy flag', () => {
    expect(parseRdpUdpSyn(rdpUdpSyn(), 0, 1232)).toEqual({ ack: false, lossy: false, upMtu: 1232, downMtu: 1232, udpVersion: 0 });
    const ex = rdpUdpSyn({ flags: 0x0800 | 0x1000 | 0x0200, udpVersion: 0x0101, upMtu: 1132, downMtu: 1200 });
    expect(parseRdpUdpSyn(ex, 0, ex.length)).toEqual({ ack: false, lossy: true, upMtu: 1132, downMtu: 1200, udpVersion: 0x0101 });
    const synAck = rdpUdpSyn({ ack: true });
    expect(parseRdpUdpSyn(synAck, 0, synAck.length)).toMatchObject({ ack: true });
    // Within a larger buffer: only buf[off, off+len) is read.
    const framed = Buffer.concat([Buffer.alloc(7, 0xee), rdpUdpSyn({ padTo: 16 }), Buffer.alloc(3, 0xee)]);
    expect(parseRdpUdpSyn(framed, 7, 16)).not.toBeNull();
  });

  it('refuses what breaks the fixed layout', () => {
    const cases: [string, Buffer][] = [
      ['snSourceAck not -1 on a SYN', rdpUdpSyn({ sourceAck: 0 })],
      ['no SYN flag', (() => { const b = rdpUdpSyn(); b.writeUInt16BE(0x0004, 6); return b; })()],
      ['upstream MTU 1500', rdpUdpSyn({ upMtu: 1500 })],
      ['downstream MTU 1131', rdpUdpSyn({ downMtu: 1131 })],
      ['MTU 0', rdpUdpSyn({ upMtu: 0, downMtu: 0 })],
    ];
    for (const [what, b] of cases) expect(parseRdpUdpSyn(b, 0, b.length), what).toBeNull();
    expect(parseRdpUdpSyn(rdpUdpSyn(), 0, 15), 'shorter than the two headers').toBeNull();
  });

  it('probe: the SYN towards the server and the SYN+ACK towards the client; not the other way round', () => {
    const syn = rdpUdpSyn();
    const synAck = rdpUdpSyn({ ack: true });
    expect(probeRdpUdp(TS, syn, 0, syn.length)).toBe(ProbeVerdict.Yes);
    expect(probeRdpUdp(TC, synAck, 0, synAck.length)).toBe(ProbeVerdict.Yes);
    expect(probeRdpUdp(TC, syn, 0, syn.length)).toBe(ProbeVerdict.No);
    expect(probeRdpUdp(TS, synAck, 0, synAck.length)).toBe(ProbeVerdict.No);
    for (let s = 1; s <= 200; s++) {
      const n = noise(s, 16 + (s % 1300));
      expect(probeRdpUdp(TS, n, 0, n.length), `noise ${s}`).toBe(ProbeVerdict.No);
    }
  });

  it('parser: one remote_access after the SYN+ACK, encrypted, over UDP; incomplete when only the SYN was seen', () => {
    const c = collect();
    const p = new RdpUdpDatagramParser(c.opts);
    const syn = rdpUdpSyn({ flags: 0x1000, udpVersion: 0x0002 });
    expect(p.datagram(TS, syn, 0, syn.length, 10, 0)).toBe(0);
    const synAck = rdpUdpSyn({ ack: true, flags: 0x1000, udpVersion: 0x0002 });
    expect(p.datagram(TC, synAck, 0, synAck.length, 10, 5)).toBe(-1);
    p.end();
    expect(c.access()).toEqual([expect.objectContaining({ protocol: 'rdp', encrypted: true, transport: 'udp', security: 'rdpeudp-reliable', protocol_version: '2', detection: 'content' })]);
    expect(c.access()[0].incomplete).toBeUndefined();

    const c2 = collect();
    const p2 = new RdpUdpDatagramParser(c2.opts);
    p2.datagram(TS, rdpUdpSyn({ flags: 0x0200 }), 0, 1232, 10, 0);
    p2.end();
    expect(c2.access()).toEqual([expect.objectContaining({ protocol: 'rdp', transport: 'udp', security: 'rdpeudp-lossy', incomplete: true })]);
  });
});

describe('remote access over UDP in the pipeline', () => {
  it('RDP-UDP on 3389: the flow is rdp and encrypted, one remote_access, and the remote-access rules judge it', () => {
    const frames = udpExchange('10.77.90.10', '10.77.10.60', 50123, 3389, [
      [TS, rdpUdpSyn({ flags: 0x1000, udpVersion: 0x0101 })],
      [TC, rdpUdpSyn({ ack: true, flags: 0x1000, udpVersion: 0x0101 })],
      [TS, noise(7, 300)],
      [TC, noise(8, 900)],
    ]);
    const { events, flows } = runFrames(frames);
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({ app: 'rdp', encrypted: true, flow: { proto: 'udp', dst_port: 3389 } });
    const ra = byType(events, 'remote_access');
    expect(ra).toHaveLength(1);
    expect(ra[0]).toMatchObject({ protocol: 'rdp', transport: 'udp', encrypted: true, protocol_version: '3', flow: { app: 'rdp', src_ip: '10.77.90.10' } });
    const rules = new Set(findings(events).map((f) => f.rule.id));
    expect(rules.has('remote-access-session')).toBe(true);
  });

  it('RDP-UDP is recognised by its layout on a port that is not 3389', () => {
    const frames = udpExchange('10.77.90.10', '10.77.10.60', 50124, 40000, [
      [TS, rdpUdpSyn()],
      [TC, rdpUdpSyn({ ack: true })],
    ]);
    const { events, flows } = runFrames(frames);
    expect(flows[0]).toMatchObject({ app: 'rdp', encrypted: true });
    expect(byType(events, 'remote_access')).toHaveLength(1);
  });

  it('random UDP on 3389 that is not an RDP-UDP SYN is not labelled', () => {
    for (let s = 1; s <= 20; s++) {
      const frames = udpExchange('10.77.90.10', '10.77.10.60', 51000 + s, 3389, [
        [TS, noise(s, 40 + s * 37)],
        [TC, noise(s + 1000, 60)],
        [TS, noise(s + 2000, 1232)],
      ]);
      const { events, flows } = runFrames(frames);
      expect(flows[0].app, `seed ${s}`).toBe('unknown');
      expect(byType(events, 'remote_access'), `seed ${s}`).toEqual([]);
    }
    // The right header with an MTU out of range is not a SYN either.
    const { flows } = runFrames(udpExchange('10.77.90.10', '10.77.10.60', 51500, 3389, [[TS, rdpUdpSyn({ upMtu: 1400 })]]));
    expect(flows[0].app).toBe('unknown');
  });

  it('TeamViewer over UDP on 5938: teamviewer, encrypted, one remote_access; the same datagram elsewhere is not claimed', () => {
    const frames = udpExchange('10.77.10.61', '10.77.90.20', 50200, 5938, [
      [TS, teamViewerUdpDatagram(0)],
      [TC, teamViewerUdpDatagram(0)],
      [TS, teamViewerUdpDatagram(1)],
    ]);
    const { events, flows } = runFrames(frames);
    expect(flows[0]).toMatchObject({ app: 'teamviewer', encrypted: true });
    const ra = byType(events, 'remote_access');
    expect(ra).toHaveLength(1);
    expect(ra[0]).toMatchObject({ protocol: 'teamviewer', transport: 'udp', teamviewer_version: 2, flow: { app: 'teamviewer' } });
    expect(new Set(findings(events).map((f) => f.rule.id)).has('remote-access-session')).toBe(true);

    const elsewhere = runFrames(udpExchange('10.77.10.61', '10.77.90.20', 50201, 6000, [[TS, teamViewerUdpDatagram(0)]]));
    expect(elsewhere.flows[0].app).toBe('unknown');
    expect(byType(elsewhere.events, 'remote_access')).toEqual([]);
  });

  it('TeamViewer UDP probe: magic at 11, counter 0, longer than 13 bytes, 5938 on either side', () => {
    const d = teamViewerUdpDatagram(0);
    expect(probeTeamViewerUdp(d, 0, d.length, 5938, 50000)).toBe(ProbeVerdict.Yes);
    expect(probeTeamViewerUdp(d, 0, d.length, 50000, 5938)).toBe(ProbeVerdict.Yes);
    expect(probeTeamViewerUdp(d, 0, 13, 5938, 50000)).toBe(ProbeVerdict.No);
    expect(probeTeamViewerUdp(teamViewerUdpDatagram(3), 0, 48, 5938, 50000)).toBe(ProbeVerdict.No);
    const bad = teamViewerUdpDatagram(0);
    bad[12] = 0x25;
    expect(probeTeamViewerUdp(bad, 0, bad.length, 5938, 50000)).toBe(ProbeVerdict.No);
    const c = collect();
    const p = new TeamViewerUdpDatagramParser(c.opts);
    expect(p.datagram(TS, d, 0, d.length, 1, 0)).toBe(-1);
    p.end();
    expect(c.access()).toHaveLength(1);
  });
});
