/**
 * Packet scripts for the pipeline target with each tunnel the decoder opens (the corpus
 * captures have none): a short TCP exchange inside PPPoE, GRE, gretap, ERSPAN II and III, VXLAN,
 * IP-in-IP and GTP-U, and one two tunnels deep, so mutation starts inside the tunnel headers.
 */
import { erspan2, erspan3, gre, gtpu, pppoe, vxlan } from '../support/encap-builder.js';
import { eth, ipv4, ipv6, tcp, udp } from '../support/packet-builder.js';

function exchange(v6: boolean): Buffer[] {
  const c = v6 ? 'fd00:20::5' : '10.20.0.5';
  const s = v6 ? 'fd00:20::9' : '10.20.0.9';
  const ip = v6 ? ipv6 : ipv4;
  const hello = Buffer.from('\x0bMSH|^~\\&|LAB|H|EPJ|H|20261123||ORU^R01|1|P|2.5\r\x1c\r', 'latin1');
  return [
    ip(c, s, 6, tcp({ sport: 40001, dport: 2575, seq: 100, flags: 'S' })),
    ip(s, c, 6, tcp({ sport: 2575, dport: 40001, seq: 500, ack: 101, flags: 'SA' })),
    ip(c, s, 6, tcp({ sport: 40001, dport: 2575, seq: 101, ack: 501, flags: 'PA', payload: hello })),
  ];
}

const innerEth = (p: Buffer) => eth(p, p[0] >> 4 === 6 ? 0x86dd : 0x0800, { src: '00:1b:63:00:00:0a', dst: '00:1b:63:00:00:0b' });
const outer = (proto: number, payload: Buffer) => eth(ipv4('192.0.2.1', '192.0.2.2', proto, payload), 0x0800);

function script(frames: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0, 1])];
  for (const f of frames) {
    const h = Buffer.alloc(2);
    h.writeUInt16BE(f.length);
    parts.push(h, f);
  }
  return Buffer.concat(parts);
}

export function tunnelPacketScripts(): Buffer[] {
  const v4 = exchange(false);
  const v6 = exchange(true);
  return [
    v4.map((p) => eth(pppoe(0x21, p), 0x8864)),
    v4.map((p) => outer(47, gre(0x0800, p, { key: 7, csum: true }))),
    v4.map((p) => outer(47, gre(0x6558, innerEth(p)))),
    v4.map((p, i) => outer(47, gre(0x88be, erspan2(100, innerEth(p)), { seq: i }))),
    v6.map((p, i) => outer(47, gre(0x22eb, erspan3(200, innerEth(p), { platform: true }), { seq: i }))),
    v4.map((p) => outer(17, udp(50000, 4789, vxlan(5001, innerEth(p))))),
    v4.map((p) => outer(4, p)),
    v6.map((p) => outer(41, p)),
    v4.map((p, i) => outer(17, udp(2152, 2152, gtpu(0x1234, p, { seq: i, ext: [[0x85, Buffer.from([0, 9])]] })))),
    v4.map((p) => outer(47, gre(0x0800, ipv4('198.51.100.1', '198.51.100.2', 17, udp(40000, 4789, vxlan(9, innerEth(p))))))),
  ].map(script);
}
