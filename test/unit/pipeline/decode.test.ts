import { describe, expect, it } from 'vitest';
import { decodeLink } from '../../../protocols/link/link.js';
import { decodeIpv4 } from '../../../protocols/ip/ipv4.js';
import { decodeIpv6 } from '../../../protocols/ip/ipv6.js';
import { decodeTcp } from '../../../protocols/transport/tcp.js';
import { DecodedPacket, DecodeStatus } from '../../../protocols/packet.js';
import { eth, ipv4, ipv6, tcp, udp } from '../../support/packet-builder.js';
import { runFrames } from '../../support/frames.js';

const SYN = (sport: number, dport: number, seq: number) => tcp({ sport, dport, seq, flags: 'S', options: Buffer.from([2, 4, 0x05, 0xb4, 1, 3, 3, 7]) });

describe('link and network decoding', () => {
  it('keeps both tags of 802.1ad + 802.1Q and decodes IPv4 options and TCP options', () => {
    const ipOpts = Buffer.from([0x94, 0x04, 0x00, 0x00]); // router alert
    const frame = eth(ipv4('10.0.0.1', '10.0.0.2', 6, SYN(40000, 104, 1000), { options: ipOpts }), 0x0800, { vlans: [[0x88a8, 300], [0x8100, 120]] });
    const d = new DecodedPacket();
    expect(decodeLink(1, frame, 0, frame.length, d)).toBe(DecodeStatus.Ok);
    expect([d.vlanCount, d.vlanOuter, d.vlanInner]).toEqual([2, 300, 120]);
    d.resetL3();
    expect(decodeIpv4(frame, frame.length, d)).toBe(DecodeStatus.Ok);
    expect(d.l4Off - d.ipOff).toBe(24);
    expect(decodeTcp(frame, d)).toBe(DecodeStatus.Ok);
    expect([d.sport, d.dport, d.tcpMss, d.tcpWscale, d.payloadLen]).toEqual([40000, 104, 1460, 7, 0]);
  });

  it('ignores Ethernet padding after the IP datagram', () => {
    // A bare ACK is 54 bytes; switches pad it to 60.
    const frame = Buffer.concat([eth(ipv4('10.0.0.1', '10.0.0.2', 6, tcp({ sport: 1, dport: 2, seq: 5, flags: 'A' })), 0x0800), Buffer.alloc(6, 0xee)]);
    const d = new DecodedPacket();
    decodeLink(1, frame, 0, frame.length, d);
    d.resetL3();
    decodeIpv4(frame, frame.length, d);
    decodeTcp(frame, d);
    expect(d.payloadLen).toBe(0);
  });

  it('walks IPv6 extension headers and stops at ESP without looping', () => {
    const hbh = Buffer.from([1, 4, 0, 0, 0, 0]); // PadN, total 8 with the 2-byte prefix
    const dst = Buffer.from([1, 4, 0, 0, 0, 0]);
    const pkt = ipv6('fd77::1', 'fd77::2', 6, SYN(50000, 2575, 7), [
      [0, hbh],
      [60, dst],
    ]);
    const d = new DecodedPacket();
    d.ipOff = 0;
    expect(decodeIpv6(pkt, pkt.length, d)).toBe(DecodeStatus.Ok);
    expect([d.l4Proto, d.l4Off]).toEqual([6, 56]);
    const esp = ipv6('fd77::1', 'fd77::2', 50, Buffer.alloc(64, 0xab));
    d.resetL3();
    expect(decodeIpv6(esp, esp.length, d)).toBe(DecodeStatus.Ok);
    expect(d.l4Proto).toBe(50);
  });

  it('counts malformed and truncated headers per layer and goes on', () => {
    const good = eth(ipv4('10.0.0.1', '10.0.0.2', 17, udp(5000, 514, Buffer.from('<13>hello'))), 0x0800);
    const badVersion = Buffer.from(good);
    badVersion[14] = 0x55;
    const shortIhl = Buffer.from(good);
    shortIhl[14] = 0x43;
    const cutIp = good.subarray(0, 14 + 12);
    const badTcp = eth(ipv4('10.0.0.1', '10.0.0.2', 6, Buffer.from(tcp({ sport: 1, dport: 2, seq: 1, flags: 'S' })).fill(0x10, 12, 13)), 0x0800);
    const cutV6 = eth(ipv6('fd77::1', 'fd77::2', 6, SYN(1, 2, 3)), 0x86dd).subarray(0, 14 + 30);
    const badUdp = eth(ipv4('10.0.0.1', '10.0.0.2', 17, Buffer.from([0, 1, 0, 2, 0, 3, 0, 0])), 0x0800);
    const arp = eth(Buffer.alloc(28), 0x0806);
    const runt = Buffer.alloc(10);
    const t = 1_700_000_000;
    const { pipeline, flows } = runFrames([badVersion, shortIhl, cutIp, badTcp, cutV6, badUdp, arp, runt, good].map((data, i) => ({ data, t: t + i * 0.001 })));
    expect({ ...pipeline.stats.decodeErrors }).toEqual({ link: 1, ipv4: 3, ipv6: 1, fragment: 0, tcp: 1, udp: 1, encap: 0 });
    expect(pipeline.stats.nonIp).toBe(1);
    expect(flows).toHaveLength(1);
    expect(flows[0].app).toBe('syslog');
  });
});

describe('IP fragments', () => {
  const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => i & 0xff));
  const datagram = udp(40001, 514, payload);

  function v4Fragments(id: number) {
    const pieces = [
      [0, 1480, true],
      [1480, 1480, true],
      [2960, datagram.length - 2960, false],
    ] as const;
    return pieces.map(([off, len, more]) => eth(ipv4('10.77.10.5', '10.77.20.50', 17, datagram.subarray(off, off + len), { id, fragOffset: off, more }), 0x0800));
  }

  it('rebuilds an IPv4 datagram from out-of-order and duplicated fragments and counts every frame', () => {
    const [a, b, c] = v4Fragments(77);
    const { pipeline, flows } = runFrames([c, a, a, b].map((data, i) => ({ data, t: 1_700_000_000 + i * 0.001 })));
    expect(pipeline.fragments.stats.completed).toBe(1);
    expect(pipeline.fragments.stats.overlaps).toBeGreaterThan(0);
    expect(flows).toHaveLength(1);
    expect(flows[0].flow.dst_port).toBe(514);
    expect(flows[0].pkts_toserver).toBe(4);
    expect(flows[0].bytes_toserver).toBe(c.length + 2 * a.length + b.length);
  });

  it('rebuilds IPv6 fragments', () => {
    const frag = (off: number, len: number, more: boolean) => {
      const fh = Buffer.alloc(6);
      fh.writeUInt16BE(off | (more ? 1 : 0), 0);
      fh.writeUInt32BE(0xabcdef, 2);
      return eth(ipv6('fd77::20:30', 'fd77::20:40', 17, datagram.subarray(off, off + len), [[44, fh]]), 0x86dd);
    };
    const frames = [frag(1448, datagram.length - 1448, false), frag(0, 1448, true)];
    const { pipeline, flows } = runFrames(frames.map((data, i) => ({ data, t: 1_700_000_000 + i })));
    expect(pipeline.fragments.stats.completed).toBe(1);
    expect(flows.map((f) => [f.flow.src_ip, f.flow.dst_port, f.pkts_toserver])).toEqual([['fd77::20:30', 514, 2]]);
  });

  it('bounds memory: first fragments only are capped and expire', () => {
    const firsts = Array.from({ length: 50 }, (_, i) => ({ data: v4Fragments(1000 + i)[0], t: 1_700_000_000 + i * 0.01 }));
    const { pipeline } = runFrames([...firsts, { data: v4Fragments(1)[0], t: 1_700_000_100 }], { fragmentLimits: { maxDatagrams: 10, maxBytes: 1 << 20, timeoutSec: 30 } });
    expect(pipeline.fragments.stats.overLimit).toBe(40);
    expect(pipeline.fragments.stats.timedOut).toBe(10);
    expect(pipeline.fragments.pending).toBe(1);
  });
});
