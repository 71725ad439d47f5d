import { describe, expect, it } from 'vitest';
import { eth, ipv4, tcp, udp } from '../../support/packet-builder.js';
import { probeDnsTcp } from '../../../protocols/cleartext/dns.js';
import { runFrames } from '../../support/frames.js';

const T = 1_795_000_000;

function dnsName(name: string): Buffer {
  return Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
}

function dnsQuery(id: number, name: string, qtype = 1): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x0100, 2);
  h.writeUInt16BE(1, 4);
  return Buffer.concat([h, dnsName(name), Buffer.from([0, qtype, 0, 1])]);
}

function dnsResponse(id: number, name: string): Buffer {
  const q = dnsQuery(id, name);
  q.writeUInt16BE(0x8180, 2);
  q.writeUInt16BE(2, 6);
  // CNAME via a compression pointer to the question name (offset 12), then an A record.
  const cname = Buffer.concat([Buffer.from([0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60]), Buffer.from([0, 0])]);
  const target = dnsName('pacs01.hospital.example');
  cname.writeUInt16BE(target.length, 10);
  const a = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 10, 77, 20, 10]);
  return Buffer.concat([q, cname, target, a]);
}

function dhcp(type: number, mac: number[], opts: [number, Buffer][]): Buffer {
  const b = Buffer.alloc(240);
  b[0] = 1;
  b[1] = 1;
  b[2] = 6;
  Buffer.from(mac).copy(b, 28);
  b.writeUInt32BE(0x63825363, 236);
  const o: Buffer[] = [Buffer.from([53, 1, type])];
  for (const [code, v] of opts) o.push(Buffer.from([code, v.length]), v);
  return Buffer.concat([b, ...o, Buffer.from([255])]);
}

describe('DNS and DHCP for the inventory', () => {
  it('DNS: the question, and A/CNAME answers through compression pointers', () => {
    const frames = [
      eth(ipv4('10.77.10.21', '10.77.20.2', 17, udp(40000, 53, dnsQuery(7, 'pacs.hospital.example'))), 0x0800),
      eth(ipv4('10.77.20.2', '10.77.10.21', 17, udp(53, 40000, dnsResponse(7, 'pacs.hospital.example'))), 0x0800),
    ];
    const { events, flows } = runFrames(frames.map((data, i) => ({ data, t: T + i * 0.01 })));
    expect(flows[0].app).toBe('dns');
    const dns = events.filter((e) => e.type === 'dns') as Record<string, any>[];
    expect(dns.map((d) => [d.dns_type, d.rrname, d.rrtype])).toEqual([
      ['query', 'pacs.hospital.example', 'A'],
      ['response', 'pacs.hospital.example', 'A'],
    ]);
    expect(dns[1].answers).toEqual([
      { rrname: 'pacs.hospital.example', rrtype: 'CNAME', rdata: 'pacs01.hospital.example', ttl: 60 },
      { rrname: 'pacs.hospital.example', rrtype: 'A', rdata: '10.77.20.10', ttl: 300 },
    ]);
  });

  it('DNS: pointer loops and truncated answers are counted, not followed', () => {
    const loop = dnsQuery(9, 'x.example');
    loop.writeUInt16BE(0x8180, 2);
    loop.writeUInt16BE(1, 6);
    const evil = Buffer.concat([loop, Buffer.from([0xc0, loop.length, 0, 1, 0, 1])]); // points at itself
    const { events } = runFrames([{ data: eth(ipv4('10.0.0.2', '10.0.0.1', 17, udp(53, 40001, evil)), 0x0800), t: T }]);
    expect(events.filter((e) => e.type === 'dns')).toEqual([]);
  });

  it('DHCP: hostname, vendor class, requested address and parameter list', () => {
    const req = dhcp(3, [0x00, 0x09, 0xfb, 0x12, 0x34, 0x56], [
      [12, Buffer.from('IntelliVue-MX450')],
      [60, Buffer.from('Philips Medical')],
      [50, Buffer.from([10, 77, 10, 60])],
      [55, Buffer.from([1, 3, 6, 15])],
    ]);
    const { events, flows } = runFrames([{ data: eth(ipv4('0.0.0.0', '255.255.255.255', 17, udp(68, 67, req)), 0x0800), t: T }]);
    expect(flows[0].app).toBe('dhcp');
    expect(events.find((e) => e.type === 'dhcp')).toMatchObject({
      dhcp_type: 'request',
      client_mac: '00:09:fb:12:34:56',
      hostname: 'IntelliVue-MX450',
      vendor_class: 'Philips Medical',
      requested_ip: '10.77.10.60',
      params: [1, 3, 6, 15],
    });
  });
});

describe('DNS over TCP', () => {
  const prefixed = (m: Buffer) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]);
  const C = '10.77.10.21';
  const S = '10.77.20.2';

  it('several length-prefixed messages per connection, cut at any byte, give the same events as over UDP', () => {
    const q1 = prefixed(dnsQuery(1, 'pacs.hospital.example'));
    const q2 = prefixed(dnsQuery(2, 'ris.hospital.example', 28));
    const r1 = prefixed(dnsResponse(1, 'pacs.hospital.example'));
    const r2 = prefixed(dnsResponse(2, 'ris.hospital.example'));
    // The client's two queries in one segment; the answers split inside a length prefix and inside a message.
    const toServer = Buffer.concat([q1, q2]);
    const toClient = Buffer.concat([r1, r2]);
    const cuts = [1, r1.length + 1, r1.length + 20];
    const pieces = [toClient.subarray(0, cuts[0]), toClient.subarray(cuts[0], cuts[1]), toClient.subarray(cuts[1], cuts[2]), toClient.subarray(cuts[2])];
    const seg = (src: string, dst: string, sport: number, dport: number, seq: number, ack: number, flags: string, payload?: Buffer) =>
      eth(ipv4(src, dst, 6, tcp({ sport, dport, seq, ack, flags, payload })), 0x0800);
    const frames = [
      seg(C, S, 40000, 53, 100, 0, 'S'),
      seg(S, C, 53, 40000, 500, 101, 'SA'),
      seg(C, S, 40000, 53, 101, 501, 'PA', toServer),
    ];
    let seq = 501;
    for (const p of pieces) {
      frames.push(seg(S, C, 53, 40000, seq, 101 + toServer.length, 'PA', p));
      seq += p.length;
    }
    frames.push(seg(C, S, 40000, 53, 101 + toServer.length, seq, 'FA'), seg(S, C, 53, 40000, seq, 102 + toServer.length, 'FA'));
    const { events, flows } = runFrames(frames.map((data, i) => ({ data, t: T + i * 0.01 })));
    expect(flows.map((f) => [f.app, f.flow.proto])).toEqual([['dns', 'tcp']]);
    const dns = events.filter((e) => e.type === 'dns') as Record<string, any>[];
    expect(dns.map((d) => [d.dns_type, d.id, d.rrname, d.rrtype])).toEqual([
      ['query', 1, 'pacs.hospital.example', 'A'],
      ['query', 2, 'ris.hospital.example', 'AAAA'],
      ['response', 1, 'pacs.hospital.example', 'A'],
      ['response', 2, 'ris.hospital.example', 'A'],
    ]);
    // The same messages over UDP give the same records.
    const udpFrames = [dnsQuery(1, 'pacs.hospital.example'), dnsResponse(1, 'pacs.hospital.example')].map((m, i) =>
      eth(i === 0 ? ipv4(C, S, 17, udp(40001, 53, m)) : ipv4(S, C, 17, udp(53, 40001, m)), 0x0800),
    );
    const overUdp = runFrames(udpFrames.map((data, i) => ({ data, t: T + i * 0.01 }))).events.filter((e) => e.type === 'dns') as Record<string, any>[];
    const strip = (d: Record<string, any>) => ({ ...d, ts: undefined, flow: undefined });
    expect(strip(overUdp[1])).toEqual(strip(dns[2]));
  });

  it('the probe wants a whole, text-like question and refuses other binary protocols', () => {
    const q = prefixed(dnsQuery(9, 'modality.hospital.example'));
    expect(probeDnsTcp(q, 0, q.length)).toBe(2);
    expect(probeDnsTcp(q, 0, 20)).toBe(1);
    const response = Buffer.from(q);
    response.writeUInt16BE(0x8180, 4);
    expect(probeDnsTcp(response, 0, response.length)).toBe(0);
    const binary = Buffer.from(q);
    binary[15] = 0x01;
    expect(probeDnsTcp(binary, 0, binary.length)).toBe(0);
    // A DICOM A-ASSOCIATE-RQ starts 01 00 …: its "length" and header are no DNS query.
    const dicom = Buffer.concat([Buffer.from([0x01, 0x00, 0x00, 0x00, 0x00, 0xcd, 0x00, 0x01, 0x00, 0x00]), Buffer.alloc(40, 0x20)]);
    expect(probeDnsTcp(dicom, 0, dicom.length)).toBe(0);
  });
});
