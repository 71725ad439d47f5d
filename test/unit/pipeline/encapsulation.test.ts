import { describe, expect, it } from 'vitest';
import { eth, ipv4, ipv6, tcp, udp } from '../../support/packet-builder.js';
import { erspan2, erspan3, gre, gtpu, pppoe, vxlan } from '../../support/encap-builder.js';
import { runFrames } from '../../support/frames.js';
import { DecodedPacket, DecodeStatus } from '../../../protocols/packet.js';
import { decodeGre, decodeGtpU, decodePppoeSession } from '../../../protocols/link/tunnel.js';

const T = 1_700_000_000;
const ETH_MIRROR = { src: '02:aa:00:00:00:01', dst: '02:aa:00:00:00:02' };
const ETH_DEVICE = { src: '00:1b:63:00:00:0a', dst: '00:1b:63:00:00:0b' };

/** A TCP handshake client→server plus one data segment, as inner IPv4 packets. */
function inner4(c = '10.20.0.5', s = '10.20.0.9', sport = 40001, dport = 104): Buffer[] {
  return [
    ipv4(c, s, 6, tcp({ sport, dport, seq: 100, flags: 'S' })),
    ipv4(s, c, 6, tcp({ sport: dport, dport: sport, seq: 500, ack: 101, flags: 'SA' })),
    ipv4(c, s, 6, tcp({ sport, dport, seq: 101, ack: 501, flags: 'A' })),
  ];
}
function inner6(c = 'fd00:20::5', s = 'fd00:20::9', sport = 40002, dport = 2575): Buffer[] {
  return [
    ipv6(c, s, 6, tcp({ sport, dport, seq: 100, flags: 'S' })),
    ipv6(s, c, 6, tcp({ sport: dport, dport: sport, seq: 500, ack: 101, flags: 'SA' })),
  ];
}
const innerEth = (ip: Buffer, o: Parameters<typeof eth>[2] = ETH_DEVICE) => eth(ip, ip[0] >> 4 === 6 ? 0x86dd : 0x0800, o);
const outer4 = (proto: number, payload: Buffer, src = '192.0.2.1', dst = '192.0.2.2') => eth(ipv4(src, dst, proto, payload), 0x0800, ETH_MIRROR);
const outer6 = (proto: number, payload: Buffer) => eth(ipv6('2001:db8::1', '2001:db8::2', proto, payload), 0x86dd, ETH_MIRROR);
const frames = (list: Buffer[]) => list.map((data, i) => ({ data, t: T + i * 0.001 }));

describe('decapsulation', () => {
  it('PPPoE session: IPv4 and IPv6, with and without PPP protocol-field compression', () => {
    const a = inner4().map((p) => eth(pppoe(0x1234, p), 0x8864));
    const b = inner6().map((p) => eth(pppoe(0x1234, p, { compressed: true }), 0x8864));
    const { pipeline, flows } = runFrames(frames([...a, ...b]));
    expect(flows.map((f) => [f.flow.src_ip, f.flow.dst_ip, f.flow.dst_port, f.flow.tunnel])).toEqual([
      ['10.20.0.5', '10.20.0.9', 104, { kind: 'pppoe', id: 0x1234 }],
      ['fd00:20::5', 'fd00:20::9', 2575, { kind: 'pppoe', id: 0x1234 }],
    ]);
    expect(pipeline.stats.decapsulatedByKind()).toEqual({ pppoe: 5 });
    // PPPoE keeps the real Ethernet header: the MACs are the subscriber's.
    expect(flows[0].client_mac).toBe('02:00:00:00:00:01');
  });

  it('plain GRE with a key, IPv4 in IPv4 and IPv6 in IPv6, the outer addresses recorded', () => {
    const a = inner4().map((p) => outer4(47, gre(0x0800, p, { key: 42, csum: true })));
    const b = inner6().map((p) => outer6(47, gre(0x86dd, p, { seq: 7 })));
    const { pipeline, flows } = runFrames(frames([...a, ...b]));
    expect(flows).toHaveLength(2);
    expect(flows[0].flow).toMatchObject({ src_ip: '10.20.0.5', src_port: 40001, dst_ip: '10.20.0.9', dst_port: 104, proto: 'tcp', tunnel: { kind: 'gre', id: 42, outer_src_ip: '192.0.2.1', outer_dst_ip: '192.0.2.2' } });
    expect(flows[0].pkts_toserver + flows[0].pkts_toclient).toBe(3);
    expect(flows[0].client_mac).toBeUndefined();
    expect(flows[1].flow).toMatchObject({ src_ip: 'fd00:20::5', dst_ip: 'fd00:20::9', tunnel: { kind: 'gre', outer_src_ip: '2001:db8::1', outer_dst_ip: '2001:db8::2' } });
    expect(flows[1].flow.tunnel?.id).toBeUndefined();
    expect(pipeline.stats.decapsulatedByKind()).toEqual({ gre: 5 });
  });

  it('gretap, ERSPAN I, II and III: the inner Ethernet frame gives MACs and VLAN, the session id is kept', () => {
    const cases: [Buffer[], object][] = [
      [inner4('10.1.0.1', '10.1.0.2').map((p) => outer4(47, gre(0x6558, innerEth(p), { key: 9 }))), { kind: 'gretap', id: 9 }],
      [inner4('10.2.0.1', '10.2.0.2').map((p) => outer4(47, gre(0x88be, innerEth(p)))), { kind: 'erspan1' }],
      [inner4('10.3.0.1', '10.3.0.2').map((p, i) => outer4(47, gre(0x88be, erspan2(123, innerEth(p, { ...ETH_DEVICE, vlans: [[0x8100, 30]] })), { seq: i }))), { kind: 'erspan2', id: 123 }],
      [inner4('10.4.0.1', '10.4.0.2').map((p, i) => outer4(47, gre(0x22eb, erspan3(777, innerEth(p), { platform: true }), { seq: i }))), { kind: 'erspan3', id: 777 }],
      [inner6('fd00:5::1', 'fd00:5::2').map((p, i) => outer4(47, gre(0x22eb, erspan3(5, p, { frameType: 2 }), { seq: i }))), { kind: 'erspan3', id: 5 }],
    ];
    const { pipeline, flows } = runFrames(frames(cases.flatMap(([f]) => f)));
    expect(flows.map((f) => f.flow.tunnel)).toEqual(cases.map(([, t]) => ({ ...t, outer_src_ip: '192.0.2.1', outer_dst_ip: '192.0.2.2' })));
    expect(flows.map((f) => f.flow.src_ip)).toEqual(['10.1.0.1', '10.2.0.1', '10.3.0.1', '10.4.0.1', 'fd00:5::1']);
    expect(flows[2].flow.vlan).toEqual([30]);
    expect(flows[0].client_mac).toBe('00:1b:63:00:00:0a');
    expect(flows[4].client_mac).toBeUndefined();
    expect(pipeline.stats.decapsulatedByKind()).toEqual({ gretap: 3, erspan1: 3, erspan2: 3, erspan3: 5 });
  });

  it('ERSPAN II: the VLAN of a copy whose 802.1Q tag the switch moved into the ERSPAN header is the flow\'s', () => {
    const moved = inner4('10.3.1.1', '10.3.1.2').map((p, i) => outer4(47, gre(0x88be, erspan2(5, innerEth(p), { vlan: 310, en: 2 }), { seq: i })));
    const untagged = inner4('10.3.2.1', '10.3.2.2').map((p, i) => outer4(47, gre(0x88be, erspan2(5, innerEth(p), { vlan: 311, en: 0 }), { seq: i })));
    const kept = inner4('10.3.3.1', '10.3.3.2').map((p, i) => outer4(47, gre(0x88be, erspan2(5, innerEth(p, { ...ETH_DEVICE, vlans: [[0x8100, 40]] }), { vlan: 40, en: 3 }), { seq: i })));
    const { flows } = runFrames(frames([...moved, ...untagged, ...kept]));
    expect(flows.map((f) => [f.flow.src_ip, f.flow.vlan])).toEqual([
      ['10.3.1.1', [310]],
      ['10.3.2.1', []],
      ['10.3.3.1', [40]],
    ]);
  });

  it('VXLAN keeps the VNI; the flow identity is the inner 5-tuple, whichever mirror delivered it', () => {
    const [syn, synAck, ack] = inner4();
    const list = [
      outer4(17, udp(51000, 4789, vxlan(5001, innerEth(syn)))),
      outer4(17, udp(51001, 4789, vxlan(5002, innerEth(synAck))), '192.0.2.7', '192.0.2.2'),
      outer4(17, udp(51000, 4789, vxlan(5001, innerEth(ack)))),
    ];
    const { pipeline, flows } = runFrames(frames(list));
    expect(flows).toHaveLength(1);
    expect(flows[0].flow).toMatchObject({ src_ip: '10.20.0.5', dst_port: 104, tunnel: { kind: 'vxlan', id: 5001, outer_src_ip: '192.0.2.1' } });
    expect(flows[0].tcp_state).toBe('established');
    expect(pipeline.stats.decapsulated.reduce((a, b) => a + b)).toBe(3);
  });

  it('ipip, sit and ip6tnl (IPv4 and IPv6 in IPv6)', () => {
    const list = [
      ...inner4('10.5.0.1', '10.5.0.2').map((p) => outer4(4, p)),
      ...inner6('fd00:6::1', 'fd00:6::2').map((p) => outer4(41, p)),
      ...inner4('10.7.0.1', '10.7.0.2').map((p) => outer6(4, p)),
      ...inner6('fd00:8::1', 'fd00:8::2').map((p) => outer6(41, p)),
    ];
    const { pipeline, flows } = runFrames(frames(list));
    expect(flows.map((f) => [f.flow.src_ip, f.flow.tunnel?.kind, f.flow.tunnel?.outer_src_ip])).toEqual([
      ['10.5.0.1', 'ipip', '192.0.2.1'],
      ['fd00:6::1', 'sit', '192.0.2.1'],
      ['10.7.0.1', 'ip6tnl', '2001:db8::1'],
      ['fd00:8::1', 'ip6tnl', '2001:db8::1'],
    ]);
    expect(pipeline.stats.decapsulatedByKind()).toEqual({ ipip: 3, sit: 2, ip6tnl: 5 });
  });

  it('GTP-U G-PDUs with extension headers keep the TEID; GTP-U signalling stays a UDP flow', () => {
    const pdu = Buffer.from([0x00, 0x09]); // PDU session container content, 2 bytes → length 1
    const list = [
      ...inner4('10.45.0.3', '10.9.0.1').map((p, i) => outer4(17, udp(2152, 2152, gtpu(0xdeadbeef, p, i === 0 ? { seq: 1, ext: [[0x85, pdu], [0x85, Buffer.from([0, 0, 0, 0, 0, 0])]] } : {})))),
      outer4(17, udp(2152, 2152, gtpu(0, Buffer.alloc(0), { type: 1, seq: 9 })), '192.0.2.5', '192.0.2.6'),
    ];
    const { pipeline, flows } = runFrames(frames(list));
    expect(flows.map((f) => [f.flow.src_ip, f.flow.dst_ip, f.flow.proto, f.flow.tunnel])).toEqual([
      ['10.45.0.3', '10.9.0.1', 'tcp', { kind: 'gtpu', id: 0xdeadbeef, outer_src_ip: '192.0.2.1', outer_dst_ip: '192.0.2.2' }],
      ['192.0.2.5', '192.0.2.6', 'udp', undefined],
    ]);
    expect(pipeline.stats.decapsulatedByKind()).toEqual({ gtpu: 3 });
  });

  it('nests: VXLAN in GRE records the outermost tunnel and counts each layer; IP fragments of the outer packet are rebuilt first', () => {
    const [syn] = inner4();
    const nested = outer4(47, gre(0x0800, ipv4('198.51.100.1', '198.51.100.2', 17, udp(40000, 4789, vxlan(77, innerEth(syn)))), { key: 3 }));
    // The GRE packet of an ERSPAN session, fragmented on its way (a mirrored 1500-byte frame plus the tunnel headers).
    const big = ipv4('10.30.0.1', '10.30.0.2', 17, udp(40000, 514, Buffer.alloc(1400, 0x41)));
    const tunnelled = gre(0x88be, erspan2(12, innerEth(big)), { seq: 1 });
    const cut = 1000;
    const frag1 = eth(ipv4('192.0.2.1', '192.0.2.2', 47, tunnelled.subarray(0, cut), { id: 77, more: true }), 0x0800);
    const frag2 = eth(ipv4('192.0.2.1', '192.0.2.2', 47, tunnelled.subarray(cut), { id: 77, fragOffset: cut }), 0x0800);
    const { pipeline, flows } = runFrames(frames([nested, frag1, frag2]));
    expect(flows.map((f) => [f.flow.src_ip, f.flow.dst_port, f.flow.tunnel?.kind, f.flow.tunnel?.id, f.flow.tunnel?.outer_src_ip])).toEqual([
      ['10.20.0.5', 104, 'gre', 3, '192.0.2.1'],
      ['10.30.0.1', 514, 'erspan2', 12, '192.0.2.1'],
    ]);
    expect(flows[1].pkts_toserver).toBe(2);
    expect(pipeline.stats.decapsulatedByKind()).toEqual({ gre: 1, vxlan: 1, erspan2: 1 });
  });

  it('opens at most 4 layers: a fifth is counted as too deep and dropped', () => {
    const wrap = (p: Buffer, n: number): Buffer => (n === 0 ? p : wrap(ipv4('192.0.2.1', '192.0.2.2', 4, p), n - 1));
    const [syn] = inner4();
    const four = eth(wrap(syn, 4), 0x0800);
    const five = eth(wrap(syn, 5), 0x0800);
    const { pipeline, flows } = runFrames(frames([five, four]));
    expect(flows).toHaveLength(1);
    expect(pipeline.stats.encapTooDeep).toBe(1);
    expect(pipeline.stats.decapsulatedByKind()).toEqual({ ipip: 8 });
    // PPPoE inside a bridged tunnel counts against the same depth.
    const deep = eth(wrap(ipv4('192.0.2.1', '192.0.2.2', 47, gre(0x6558, eth(pppoe(1, syn), 0x8864))), 3), 0x0800);
    const r = runFrames(frames([deep]));
    expect(r.pipeline.stats.encapTooDeep).toBe(1);
    expect(r.flows).toHaveLength(0);
  });

  it('counts malformed and truncated tunnel headers and goes on', () => {
    const [syn] = inner4();
    const good = outer4(47, gre(0x0800, syn));
    const bad = [
      outer4(47, Buffer.from([0x00, 0x00, 0x08])), // GRE cut inside its header
      outer4(47, gre(0x0800, syn, { flags: 0x4000 })), // source routing
      outer4(47, gre(0x0800, Buffer.alloc(0), { key: 1 }).subarray(0, 6)), // key cut short
      outer4(47, gre(0x88be, erspan2(1, innerEth(syn), { version: 2 }), { seq: 1 })), // ERSPAN II header claiming version 2
      outer4(47, gre(0x88be, Buffer.alloc(4), { seq: 1 })), // ERSPAN II header cut short
      outer4(47, gre(0x22eb, erspan3(1, innerEth(syn), { version: 1 }), { seq: 1 })),
      outer4(47, gre(0x22eb, erspan3(1, Buffer.alloc(0), { platform: true }).subarray(0, 14), { seq: 1 })),
      outer4(17, udp(40000, 4789, vxlan(1, innerEth(syn), { flags: 0 }))), // no I flag
      outer4(17, udp(40000, 4789, Buffer.alloc(5))),
      outer4(17, udp(2152, 2152, gtpu(1, syn, { firstByte: 0x20 }))), // GTP' (PT 0)
      outer4(17, udp(2152, 2152, Buffer.concat([gtpu(1, Buffer.alloc(0), { seq: 1, ext: [[0x85, Buffer.alloc(2)]] }).subarray(0, 12), Buffer.from([0, 0, 0, 0x45])]))), // extension length 0
      outer4(17, udp(2152, 2152, gtpu(1, Buffer.from([0x15, 0, 0, 0])))), // neither IPv4 nor IPv6 inside
      outer4(4, inner6()[0]), // protocol 4 carrying IPv6
      outer4(41, Buffer.alloc(0)),
      eth(Buffer.from([0x11, 0x00, 0x00, 0x01]), 0x8864), // PPPoE cut short
      eth(pppoe(1, syn).fill(0x21, 0, 1), 0x8864), // PPPoE version 2
    ];
    const { pipeline, flows } = runFrames(frames([...bad, good]));
    expect(pipeline.stats.decodeErrors.encap).toBe(bad.length);
    expect(flows).toHaveLength(1);
    expect(flows[0].flow.tunnel?.kind).toBe('gre');
  });

  it('leaves what it does not open: PPTP GRE and other GRE payloads are other IP, PPP control is non-IP', () => {
    const list = [
      outer4(47, gre(0x880b, Buffer.alloc(20), { version: 1, key: 5 })), // PPTP enhanced GRE
      outer4(47, gre(0x8847, Buffer.alloc(20))), // MPLS
      eth(pppoe(7, Buffer.alloc(10), { pppProto: 0xc021 }), 0x8864), // LCP
    ];
    const { pipeline, flows } = runFrames(frames(list));
    expect(flows).toHaveLength(0);
    expect(pipeline.stats.otherIp).toBe(2);
    expect(pipeline.stats.nonIp).toBe(1);
    expect(pipeline.stats.decodeErrors.encap).toBe(0);
  });

  it('decoders on their own: bounds by the declared lengths', () => {
    const d = new DecodedPacket();
    const p = pppoe(3, Buffer.concat([inner4()[0]]));
    const padded = Buffer.concat([p, Buffer.alloc(8)]);
    expect(decodePppoeSession(padded, 0, padded.length, d)).toBe(DecodeStatus.Ok);
    expect([d.innerOff, d.innerEnd, d.encapId]).toEqual([8, p.length, 3]);
    const g = gtpu(9, inner4()[0]);
    const gp = Buffer.concat([g, Buffer.alloc(4)]);
    expect(decodeGtpU(gp, 0, gp.length, d)).toBe(DecodeStatus.Ok);
    expect(d.innerEnd).toBe(g.length);
    expect(decodeGre(Buffer.from([0, 2, 0x08, 0]), 0, 4, d)).toBe(DecodeStatus.Malformed);
    expect(decodeGre(Buffer.from([0, 1, 0x88, 0x0b]), 0, 4, d)).toBe(DecodeStatus.NotIp);
  });
});
