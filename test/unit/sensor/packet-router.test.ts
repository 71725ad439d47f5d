import { describe, expect, it } from 'vitest';
import { PacketRouter } from '../../../agent/sensor/packet-router.js';
import { newPacketRecord } from '../../../agent/capture/packet-record.js';
import { eth, ipv4, ipv6, tcp, udp } from '../../support/packet-builder.js';
import { vxlan } from '../../support/encap-builder.js';

const IPV4 = 0x0800;
const IPV6 = 0x86dd;

function routeOf(router: PacketRouter, frame: Buffer): number {
  const rec = newPacketRecord();
  rec.linkType = 1;
  rec.buf = frame;
  rec.capLen = rec.origLen = frame.length;
  return router.route(rec);
}

function tcpFrame(src: string, dst: string, sport: number, dport: number): Buffer {
  return eth(ipv4(src, dst, 6, tcp({ sport, dport, seq: 1, flags: 'S' })), IPV4);
}

describe('PacketRouter', () => {
  const router = new PacketRouter(4);

  it('sends both directions of a flow to one worker', () => {
    for (let i = 0; i < 200; i++) {
      const a = `10.1.${i >> 8}.${i & 255}`;
      expect(routeOf(router, tcpFrame(a, '10.9.0.1', 40000 + i, 104))).toBe(routeOf(router, tcpFrame('10.9.0.1', a, 104, 40000 + i)));
    }
  });

  it('sends every flow between two addresses to one worker: FTP control and its data connections, passive and active', () => {
    for (let i = 0; i < 100; i++) {
      const client = `10.2.0.${i}`;
      const control = routeOf(router, tcpFrame(client, '10.3.0.5', 50000 + i, 21));
      expect(routeOf(router, tcpFrame(client, '10.3.0.5', 50100 + i, 30000 + i))).toBe(control);
      expect(routeOf(router, tcpFrame('10.3.0.5', client, 20, 60000 - i))).toBe(control);
    }
  });

  it('sends every fragment of a datagram to its flow worker, whichever comes first', () => {
    const payload = udp(5000, 2575, Buffer.alloc(64, 0x41));
    for (let i = 0; i < 100; i++) {
      const src = `10.4.0.${i}`;
      const whole = routeOf(router, eth(ipv4(src, '10.5.0.1', 17, payload), IPV4));
      const first = eth(ipv4(src, '10.5.0.1', 17, payload.subarray(0, 32), { id: i, more: true, totalLength: 52 }), IPV4);
      const later = eth(ipv4(src, '10.5.0.1', 17, payload.subarray(32), { id: i, fragOffset: 32 }), IPV4);
      expect(routeOf(router, later)).toBe(whole);
      expect(routeOf(router, first)).toBe(whole);
    }
  });

  it('routes a tunnelled frame by its inner conversation', () => {
    const inner = tcpFrame('10.6.0.1', '10.6.0.2', 40001, 2762);
    const outer = eth(ipv4('192.0.2.1', '192.0.2.2', 17, udp(51000, 4789, vxlan(7, inner))), IPV4);
    expect(routeOf(router, outer)).toBe(routeOf(router, inner));
    const inner2 = tcpFrame('10.6.0.2', '10.6.0.1', 2762, 40001);
    const outer2 = eth(ipv4('192.0.2.2', '192.0.2.1', 17, udp(51002, 4789, vxlan(7, inner2))), IPV4);
    expect(routeOf(router, outer2)).toBe(routeOf(router, inner));
  });

  it('spreads address pairs over all workers', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[routeOf(router, tcpFrame(`10.7.${i >> 8}.${i & 255}`, '10.9.9.9', 40000, 104))]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
    const six = [0, 0, 0, 0];
    for (let i = 0; i < 400; i++) six[routeOf(router, eth(ipv6(`fd00::${i.toString(16)}`, 'fd00::1', 6, tcp({ sport: 1, dport: 2, seq: 1, flags: 'S' })), IPV6))]++;
    for (const c of six) expect(c).toBeGreaterThan(60);
  });

  it('sends frames that make no flow to worker 0', () => {
    expect(routeOf(router, eth(Buffer.alloc(46), 0x0806))).toBe(0);
    expect(routeOf(router, eth(Buffer.from([0x45, 0]), IPV4))).toBe(0);
  });
});
